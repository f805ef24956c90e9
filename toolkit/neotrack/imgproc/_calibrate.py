"""Parameters from the data: one quick pass over a movie before it is segmented.

Each frame's foreground is found (for raw fluorescence images: above its background,
``_background``) and its objects measured. Over the sequence this gives

- the per-frame foreground thresholds, those of frames that jump from their neighbours replaced;
- whether intensities separate cells from background at all (DIC, phase contrast: they do not);
- a typical cell: the median area of the foreground's objects (specks left out), and how far
  cells move between frames (90th percentile of the distance to the nearest object of the previous
  frame).

From those come the settings the user left unset (``Calibration.resolve``), each logged with its
value and where it came from: the candidates' area range, the linking radius. Set them in the
config to override.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import Any

import numpy as np
from scipy import ndimage as ndi
from scipy.spatial import cKDTree

from neotrack._parallel import map_frames
from neotrack.config import Config
from neotrack.errors import InputError
from neotrack.imgproc._background import (
    Background,
    estimate_background,
    excess,
    prepare_signal,
    sequence_thresholds,
)
from neotrack.imgproc._maps import Inputs

log = logging.getLogger(__name__)

MIN_AREA_FRACTION = 0.125
"""Smallest candidate, as a fraction of the typical cell. A daughter is about half of a cell, but
right after division her chromatin is still condensed (SIM+ ground truth: 5 % of newborn daughters
under 0.3 of the median nucleus), the typical cell is measured on foreground objects, which in dense
movies include touching pairs, and a dim nucleus clears the threshold with its core only: with a
quarter, HeLa/01 found 71 of 94 divisions (TRA 0.9499), with an eighth 82 (0.9523)."""
MAX_AREA_FACTOR = 3.0
"""Largest candidate, in typical cells: big nuclei reach twice the median (CTC: 95th percentile
1.3-2x the median); three cells' worth is a cluster, not a cell."""
REACH_IN_RADII = 1.25
"""The linking radius reaches at least this many cell radii: daughters appear about one radius
from their mother's centre, on either side."""
MOTION_PERCENTILE = 90
"""How far cells move: this percentile of the distance from each cell-sized object to the nearest
of the previous frame (the rest are cells that appeared, divided or left)."""
MOTION_FACTOR = 2.0
"""The linking radius reaches at least this many times as far as cells move."""
SPECK_FRACTION = 0.1
"""Objects smaller than this fraction of the area-weighted median area are specks, not cells."""
DARK_RATIO = 0.25
"""Not separable by intensity: the pixels ``noise_factor`` noise deviations *below* the background
are at least this fraction of those as far above it (fluorescence: none, DIC: about as many).
Measured on the background model whatever ``threshold_method`` is."""


@dataclasses.dataclass(frozen=True)
class FrameObjects:
    """One frame's foreground, measured: threshold (raw images only), fractions, objects."""

    threshold: float | None
    background: Background | None
    """Raw images with ``threshold_method = "background"``: the frame's background, kept so that
    segmenting does not estimate it again."""
    bright: float
    """Fraction of the frame above the threshold."""
    light: float
    """Raw images: fraction ``noise_factor`` noise deviations above the background level."""
    dark: float
    """Raw images: fraction as far below it (fluorescence: none; DIC: about as many as ``light``)."""
    areas: np.ndarray
    centroids: np.ndarray
    """(N, ndim), physical units."""


@dataclasses.dataclass(frozen=True)
class Calibration:
    """What a movie's pass measured, and the parameters it implies."""

    thresholds: tuple[float, ...] | None
    """Per-frame foreground thresholds of raw images (None: the input's own foreground)."""
    cell_area: float | None
    """Median area of the foreground's objects, pixels/voxels (None: no objects)."""
    motion: float | None
    """How far cells move between frames (``MOTION_PERCENTILE``), physical units."""
    voxel_size: tuple[float, ...]
    backgrounds: tuple[Background | None, ...] | None = None
    """Per-frame backgrounds the thresholds lie above (see ``FrameObjects.background``)."""

    @property
    def origin(self) -> str:
        """Where the estimates come from, for the log lines."""
        moving = f" moving {self.motion:.3g}" if self.motion else ""
        return f"from a typical cell of {self.cell_area or 0:.0f} px{moving}"

    @property
    def cell_radius(self) -> float | None:
        """Equivalent radius of the typical cell, physical units (mean voxel edge)."""
        if self.cell_area is None:
            return None
        ndim = len(self.voxel_size)
        volume = self.cell_area * float(np.prod(self.voxel_size))
        return (volume / math.pi) ** 0.5 if ndim == 2 else (3 * volume / (4 * math.pi)) ** (1 / 3)

    def estimates(self) -> dict[str, Any]:
        """The settings this implies: ``{"section.key": value}``, for those it can say anything about."""
        out: dict[str, Any] = {}
        if self.cell_area is not None:
            out["segmentation.min_area"] = max(1, round(MIN_AREA_FRACTION * self.cell_area))
            out["segmentation.max_area"] = max(
                out["segmentation.min_area"], round(MAX_AREA_FACTOR * self.cell_area)
            )
        radius = self.cell_radius
        if radius is not None:
            reach = REACH_IN_RADII * radius
            out["linking.max_distance"] = round(max(reach, MOTION_FACTOR * (self.motion or 0.0)), 1)
        return out

    def record(self) -> dict[str, Any]:
        """What the dataset node keeps of it (``Store.update_dataset``), for later steps."""
        return {"cell_area": self.cell_area, "cell_motion": self.motion}


def resolve(config: Config, estimates: dict[str, Any], origin: str) -> Config:
    """``config`` with its unset (None) settings taken from ``estimates``, each logged."""
    resolved = config.model_copy(deep=True)
    for key, value in estimates.items():
        section, name = key.split(".")
        part = getattr(resolved, section)
        if getattr(part, name) is None:
            setattr(part, name, value)
            log.info("%s = %s (%s)", key, value, origin)
    return resolved


FALLBACKS = {"segmentation.min_area": 100, "segmentation.max_area": 1_000_000, "linking.max_distance": 15.0}
"""Settings when nothing was measured: a movie with no foreground, or a dataset that was imported
or segmented before cells were measured."""


def resolve_section(config: Config, calibration: Calibration, section: str) -> Config:
    """``config`` with the unset settings of ``section`` from ``calibration``, else ``FALLBACKS``."""
    mine = lambda values: {k: v for k, v in values.items() if k.startswith(f"{section}.")}  # noqa: E731
    measured = resolve(config, mine(calibration.estimates()), calibration.origin)
    return resolve(measured, mine(FALLBACKS), "nothing measured: fallback")


def calibrated(inputs: Inputs, progress: bool = False) -> tuple[Inputs, Calibration]:
    """``inputs`` with per-frame thresholds and the segmentation settings left unset measured."""
    calibration = calibrate(inputs, progress)
    config = resolve_section(inputs.config, calibration, "segmentation")
    resolved = dataclasses.replace(
        inputs, config=config, thresholds=calibration.thresholds, backgrounds=calibration.backgrounds
    )
    return resolved, calibration


def _frame(inputs: Inputs, t: int) -> FrameObjects:
    cfg, voxel = inputs.config, inputs.voxel
    pre = cfg.preprocessing
    threshold: float | None = None
    background: Background | None = None
    light = dark = 0.0
    if len(inputs.labels) == 1:  # the user's segmentation: its labels are the objects
        labels = np.asarray(inputs.labels[0].frame(t))
    else:
        if inputs.detects:
            signal = prepare_signal(inputs.raw(t), voxel, pre.sigma, pre.remove_hist_mode)
            bg = estimate_background(signal)  # whatever the method: is the frame separable at all?
            spread = pre.noise_factor * bg.noise
            if pre.threshold_method == "background":
                background = bg
            above, threshold = excess(
                signal, pre.threshold_method, pre.noise_factor, pre.min_foreground, background
            )
            relief = above if background is not None else signal - bg.level  # above its level
            light, dark = float(np.mean(relief > spread)), float(np.mean(relief < -spread))
            mask = above > threshold
        elif len(inputs.labels) > 1:  # an ensemble: the fraction of label images covering a pixel
            mask = inputs.maps(t).foreground > cfg.segmentation.threshold
        else:
            mask = inputs.foreground_map(t) > cfg.segmentation.threshold
        labels, _ = ndi.label(mask)
    areas = np.bincount(labels.ravel())
    present = np.flatnonzero(areas[1:]) + 1
    centres = ndi.center_of_mass(labels > 0, labels, present) if present.size else []
    centroids = np.asarray(centres, dtype=float).reshape(-1, labels.ndim) * np.asarray(voxel)
    bright = float(np.count_nonzero(labels) / labels.size)
    return FrameObjects(threshold, background, bright, light, dark, areas[present].astype(float), centroids)


def calibrate(inputs: Inputs, progress: bool = False) -> Calibration:
    """Measure the movie (one pass, ``data.n_workers`` processes); see the module's description."""
    frames = list(range(inputs.shape[0]))
    found = [
        f for _, f in map_frames(_frame, inputs, frames, inputs.config.data.n_workers, "measuring", progress)
    ]
    thresholds = backgrounds = None
    if inputs.detects:
        _check_separable(inputs, found)
        fixed = sequence_thresholds([f.threshold or 0.0 for f in found], [f.bright for f in found])
        thresholds = tuple(float(v) for v in fixed)
        backgrounds = tuple(f.background for f in found)
    cell_area = typical_area(np.concatenate([f.areas for f in found]) if found else np.zeros(0))
    motion = _motion(found, cell_area) if cell_area is not None else None
    calibration = Calibration(thresholds, cell_area, motion, inputs.voxel, backgrounds)
    if cell_area is None:
        log.warning("no foreground objects in any frame: nothing to measure cells by")
    else:
        log.info(
            "typical cell: %.0f px, moving up to %s between frames",
            cell_area,
            "?" if motion is None else f"{motion:.3g}",
        )
    return calibration


def typical_area(areas: np.ndarray) -> float | None:
    """The median area of the objects that are not specks (None: no objects).

    Specks of noise or debris can outnumber the cells many times over but hold few of the
    foreground's pixels, so they are told apart by the area-weighted median (the area of the
    object a random foreground pixel lies in): objects under a tenth of it are left out.
    """
    if not areas.size:
        return None
    ordered = np.sort(areas)
    weighted_median = ordered[np.searchsorted(np.cumsum(ordered), ordered.sum() / 2)]
    return float(np.median(ordered[ordered >= SPECK_FRACTION * weighted_median]))


def _motion(found: list[FrameObjects], cell_area: float) -> float | None:
    """How far cells move: a percentile of each cell-sized object's distance to the nearest one of
    the previous frame."""
    steps: list[np.ndarray] = []
    previous: np.ndarray | None = None
    for f in found:
        cells = f.centroids[(f.areas >= MIN_AREA_FRACTION * cell_area) & (f.areas <= 2 * cell_area)]
        if previous is not None and len(previous) and len(cells):
            steps.append(cKDTree(previous).query(cells)[0])
        previous = cells
    if not steps:
        return None
    return float(np.percentile(np.concatenate(steps), MOTION_PERCENTILE))


def _check_separable(inputs: Inputs, found: list[FrameObjects]) -> None:
    """Refuse (default method) or warn when intensities do not separate cells from background."""
    light = sum(f.light for f in found)
    dark = sum(f.dark for f in found)
    name = inputs.images.name if inputs.images is not None else "the images"
    if light == 0:
        log.warning("%s: no pixel stands above the background in any frame: no foreground", name)
        return
    if dark < DARK_RATIO * light:
        return
    message = (
        f"{name}: the foreground is not separable by intensity: as many pixels lie as far below the "
        f"background as above it ({100 * dark / len(found):.2f} % vs {100 * light / len(found):.2f} % "
        "of each frame), as in DIC or phase contrast. Give a probability map of the cells instead "
        '(e.g. from ilastik\'s pixel classification, with preprocessing.foreground = "threshold" and '
        'boundaries = "probability"), or existing labels (--labels)'
    )
    pre = inputs.config.preprocessing
    if pre.threshold_method == "background":
        raise InputError(message)
    log.warning("%s; going on with threshold_method %r", message, pre.threshold_method)


__all__ = ["Calibration", "FrameObjects", "calibrate", "calibrated", "resolve", "resolve_section"]
