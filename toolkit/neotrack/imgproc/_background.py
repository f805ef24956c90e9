"""The background of a fluorescence frame, and a foreground threshold that does not depend on the cells.

A fluorescence frame is a background — a level plus noise — with cells brighter than it. Both are
estimated from the darker pixels only (sigma clipping from above, noise from the half of the
background below its level, as astronomers estimate a sky), so they hold whether a frame shows one
cell or a hundred. The foreground is what stands ``noise_factor`` noise deviations above the level.
Histogram thresholds (Otsu, ...) instead split the histogram in two classes and, in a frame with few
cells, cut into the background noise.

Over a sequence, a frame whose foreground fraction jumps far from its neighbours' gets their
threshold (``sequence_thresholds``), and the sizes and motion of the foreground's objects give the
parameters the user did not set (``neotrack.imgproc.calibrate``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence

import numpy as np
from scipy import ndimage as ndi
from skimage import filters

from neotrack.errors import InputError

log = logging.getLogger(__name__)

METHODS = ("background", "otsu", "triangle", "li")
_CLIP = 3.0  # sigma clipping: pixels this many deviations above the level are not background
_SAMPLES = 250_000  # pixels the background statistics look at (a regular subsample)
_TILES = 8  # tiles per axis of the background level map


def _sigmas(
    sigma: float | Sequence[float], ndim: int, voxel_size: Sequence[float] | None = None
) -> np.ndarray:
    sig = (
        np.broadcast_to(np.asarray(sigma, dtype=float), (ndim,))
        if np.ndim(sigma) == 0
        else np.asarray(sigma, dtype=float)
    )
    if sig.shape != (ndim,):
        raise InputError(f"sigma {sigma} needs 1 or {ndim} values for a {ndim}D frame")
    if voxel_size is not None:
        if len(voxel_size) != ndim:
            raise InputError(
                f"voxel_size {tuple(voxel_size)} has {len(voxel_size)} values; frames are {ndim}D"
            )
        sig = sig / np.asarray(voxel_size, dtype=float)
    return sig


@dataclasses.dataclass(frozen=True)
class Background:
    """A frame's background, in the signal's units: its level per tile (median-filtered), from
    which ``level`` interpolates a smooth map over the frame, and its noise (a standard deviation).
    The tiles are all a later pass needs to threshold the frame again."""

    tiles: np.ndarray
    noise: float
    shape: tuple[int, ...]

    @property
    def level(self) -> np.ndarray:
        """The level at every pixel: linear between tile centres, constant beyond the outer ones."""
        edges = _tile_edges(self.shape, self.tiles.shape)
        level = np.asarray(self.tiles, dtype=np.float64)
        # linear interpolation is separable: one small matrix product per axis
        for axis, (n, e) in enumerate(zip(self.shape, edges, strict=True)):
            weights = _interpolation_weights(n, (e[:-1] + e[1:] - 1) / 2)
            level = np.moveaxis(np.tensordot(weights, level, axes=([1], [axis])), 0, axis)
        return level.astype(np.float32)


def _interpolation_weights(n: int, centres: np.ndarray) -> np.ndarray:
    """(n, len(centres)) weights of linear interpolation between the centres at 0 ... n-1,
    constant beyond the outer ones."""
    position = np.interp(np.arange(n), centres, np.arange(len(centres)))
    below = np.minimum(np.floor(position).astype(int), len(centres) - 1)
    above = np.minimum(below + 1, len(centres) - 1)
    frac = position - below
    weights = np.zeros((n, len(centres)))
    np.add.at(weights, (np.arange(n), below), 1 - frac)
    np.add.at(weights, (np.arange(n), above), frac)
    return weights


def _tile_edges(shape: tuple[int, ...], counts: tuple[int, ...]) -> list[np.ndarray]:
    return [np.linspace(0, n, c + 1).round().astype(int) for n, c in zip(shape, counts, strict=True)]


def clipped_stats(values: np.ndarray) -> tuple[float, float]:
    """(level, noise) of the background among ``values``, robust to the cells among them.

    Sigma clipping from above: the level is the median of the values below the current upper
    limit, the noise the root-mean-square deviation of those below the level (the background's
    lower half, which no cell reaches), and the limit moves to ``level + 3 noise`` until it settles.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    values = np.sort(values[:: max(1, values.size // _SAMPLES)])
    upper = values.size
    level, noise = float(values[0]), 0.0
    for _ in range(50):
        level = float(values[(upper - 1) // 2])
        below = values[: np.searchsorted(values, level, side="right")]
        noise = float(np.sqrt(np.mean((below - level) ** 2)))
        if noise == 0.0:  # a flat (e.g. clipped) background: measure its quantisation instead
            noise = float(np.std(values[:upper]))
        new_upper = int(np.searchsorted(values, level + _CLIP * noise, side="right"))
        if new_upper == upper:
            break
        upper = new_upper
    return level, noise


def estimate_background(signal: np.ndarray, tiles: int = _TILES) -> Background:
    """The background of a frame, robust to how much of it the cells cover and to uneven light.

    The frame is cut into up to ``tiles`` tiles per axis (none under 32 pixels); each tile's level
    and noise come from ``clipped_stats``. The tiles' levels, median-filtered over their neighbours
    (a tile that cells fill is outvoted), are interpolated into a smooth level map; the noise is the
    tiles' median (as astronomers map a sky behind stars).
    """
    shape = tuple(signal.shape)
    counts = tuple(max(1, min(tiles, n // 32)) for n in shape)
    edges = _tile_edges(shape, counts)
    levels = np.zeros(counts)
    noises = np.zeros(counts)
    for index in np.ndindex(*counts):
        box = tuple(slice(e[i], e[i + 1]) for e, i in zip(edges, index, strict=True))
        levels[index], noises[index] = clipped_stats(signal[box])
    if levels.size > 1:
        levels = ndi.median_filter(levels, size=3, mode="nearest")
    return Background(levels, float(np.median(noises)), shape)


def prepare_signal(
    image: np.ndarray,
    voxel_size: Sequence[float] | None = None,
    sigma: float | None = None,
    remove_hist_mode: bool = False,
    smooth: float = 1.0,
) -> np.ndarray:
    """What thresholds look at: lightly smoothed intensities, optionally minus a background estimate.

    ``sigma`` (physical units) subtracts a Gaussian background first, as ultrack's
    ``detect_foreground`` does (it must span several cell diameters, or it eats the cells; use it
    for uneven illumination); ``remove_hist_mode`` subtracts the histogram's mode.
    """
    data = image.astype(np.float32, copy=False)
    if smooth > 0:
        data = ndi.gaussian_filter(data, _sigmas(smooth, data.ndim))
    if remove_hist_mode:
        values, counts = np.unique(np.round(data).astype(np.int64), return_counts=True)
        data = np.clip(data - values[np.argmax(counts)], 0, None)
    if sigma is not None:
        data = np.clip(data - ndi.gaussian_filter(data, _sigmas(sigma, data.ndim, voxel_size)), 0, None)
    return data


def excess(
    signal: np.ndarray,
    method: str = "background",
    noise_factor: float = 5.0,
    min_foreground: float = 0.0,
    background: Background | None = None,
) -> tuple[np.ndarray, float]:
    """What a frame's foreground is thresholded on, and its own threshold.

    ``background``: the signal minus its background level (``estimate_background``), and
    ``noise_factor`` noise deviations as the threshold. ``otsu``, ``triangle``, ``li``: the signal
    itself and the histogram threshold of its log intensities (these depend on how much of the frame
    the cells cover). The threshold is at least ``min_foreground``: above the background level,
    or above the darkest pixel. ``background``: the frame's, already estimated.
    """
    if method == "background":
        bg = background or estimate_background(signal)
        above = signal - bg.level
        return above, max(noise_factor * bg.noise, min_foreground)
    pick: dict[str, Callable[[np.ndarray], float]] = {
        "otsu": filters.threshold_otsu,
        "triangle": filters.threshold_triangle,
        "li": filters.threshold_li,
    }
    if method not in pick:
        raise InputError(f"preprocessing.threshold_method {method!r} is not one of {list(METHODS)}")
    low = float(signal.min())
    if float(signal.max()) <= low:
        return signal, low + min_foreground
    on_log = float(pick[method](np.log1p(signal - low)))
    return signal, max(float(np.expm1(on_log)), min_foreground) + low


def sequence_thresholds(
    thresholds: Sequence[float], fractions: Sequence[float], window: int = 5, jump: float = 2.0
) -> np.ndarray:
    """Per-frame thresholds, with those of frames whose foreground fraction jumps replaced.

    A frame whose foreground fraction is more than ``jump`` times (or less than 1/``jump`` of) the
    median of its ``window`` neighbours on each side, by more than 1 % of the frame, gets the
    median of their thresholds instead, with a log line: cells do not double or halve in one frame,
    a threshold that cut into the noise or into the cells does.
    """
    thr = np.asarray(thresholds, dtype=float)
    frac = np.asarray(fractions, dtype=float)
    out = thr.copy()
    for t in range(len(thr)):
        near = [u for u in range(max(0, t - window), min(len(thr), t + window + 1)) if u != t]
        if len(near) < 2:
            continue
        typical = float(np.median(frac[near]))
        f = float(frac[t])
        if abs(f - typical) > 0.01 and (f > jump * typical or f * jump < typical):
            out[t] = float(np.median(thr[near]))
            log.warning(
                "frame %d: %.1f %% of the frame is foreground, its neighbours %.1f %%: using their "
                "threshold %.4g instead of %.4g",
                t,
                100 * f,
                100 * typical,
                out[t],
                thr[t],
            )
    return out


__all__ = [
    "METHODS",
    "Background",
    "estimate_background",
    "excess",
    "prepare_signal",
    "sequence_thresholds",
]
