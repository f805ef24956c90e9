"""From a run's inputs to per-frame foreground and boundary maps."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from neotrack.config import Config
from neotrack.errors import InputError
from neotrack.imgproc._background import Background
from neotrack.imgproc._filters import (
    detect_foreground,
    labels_to_boundaries,
    probability_boundaries,
    robust_invert,
    threshold_probability,
)
from neotrack.io import FrameSource, crop, open_images


@dataclasses.dataclass(frozen=True)
class FrameMaps:
    """What ``segment`` needs of one frame."""

    foreground: np.ndarray
    boundaries: np.ndarray
    intensity: np.ndarray | None


@dataclasses.dataclass(frozen=True)
class Inputs:
    """The sources of a run, checked to agree in frames and shape.

    Any of: ``images`` (raw or probability maps, preprocessed per the config), ready-made
    ``foreground`` and ``boundaries`` maps, or ``labels`` (one or more label stacks). Each is cut
    to ``data.frames`` and ``data.roi`` alike (:func:`neotrack.io.crop`).
    """

    config: Config
    images: FrameSource | None = None
    foreground: FrameSource | None = None
    boundaries: FrameSource | None = None
    labels: tuple[FrameSource, ...] = ()
    thresholds: tuple[float, ...] | None = None
    """Per-frame foreground thresholds of raw images, from ``calibrate`` (None: each frame's own)."""
    backgrounds: tuple[Background | None, ...] | None = None
    """Per-frame backgrounds those thresholds lie above, from ``calibrate`` (None: estimated again)."""

    @classmethod
    def open(
        cls,
        config: Config,
        images: Any = None,
        foreground: Any = None,
        boundaries: Any = None,
        labels: Any = None,
    ) -> Inputs:
        data = config.data
        opened = {
            name: open_images(src, data.axes, data.channel, data.internal_path)
            for name, src in (("images", images), ("foreground", foreground), ("boundaries", boundaries))
            if src is not None
        }
        label_list = (
            [] if labels is None else (list(labels) if isinstance(labels, list | tuple) else [labels])
        )
        label_sources = tuple(open_images(src) for src in label_list)
        for src in label_sources:
            if src.dtype.kind not in "iu":
                raise InputError(f"{src.name}: labels must hold integers, got {src.dtype}")
        inputs = cls(
            config,
            images=opened.get("images"),
            foreground=opened.get("foreground"),
            boundaries=opened.get("boundaries"),
            labels=label_sources,
        )
        inputs._check()  # the whole movies agree: then the same crop of each agrees too

        def cut(src: FrameSource | None) -> FrameSource | None:
            return None if src is None else crop(src, data.frames, data.roi)

        return dataclasses.replace(
            inputs,
            images=cut(inputs.images),
            foreground=cut(inputs.foreground),
            boundaries=cut(inputs.boundaries),
            labels=tuple(crop(s, data.frames, data.roi) for s in inputs.labels),
        )

    @property
    def sources(self) -> list[FrameSource]:
        return [s for s in (self.images, self.foreground, self.boundaries, *self.labels) if s is not None]

    @property
    def shape(self) -> tuple[int, ...]:
        return self.sources[0].shape

    def _check(self) -> None:
        if not self.sources:
            raise InputError("nothing to segment: give images, foreground and boundaries, or labels")
        if not self.labels:
            if self.foreground is None and self.images is None:
                raise InputError("a foreground map or images to compute it from are needed")
            if self.boundaries is None and self.images is None:
                raise InputError("a boundary map or images to compute it from are needed")
        first = self.sources[0]
        for src in self.sources[1:]:
            if src.shape != first.shape:
                raise InputError(
                    f"{src.name} has shape {src.shape} but {first.name} has {first.shape}: "
                    "all inputs of a run must have the same frames and frame shape"
                )
        if len(first.frame_shape) not in (2, 3):
            raise InputError(f"{first.name}: frames must be 2D or 3D, got {first.frame_shape}")
        voxel = self.config.data.voxel_size
        if voxel is not None and len(voxel) != len(first.frame_shape):
            raise InputError(
                f"data.voxel_size {voxel} has {len(voxel)} values but frames are "
                f"{len(first.frame_shape)}D {first.frame_shape}"
            )

    @property
    def voxel(self) -> tuple[float, ...]:
        """Physical size of a voxel (1 per axis when not set)."""
        return tuple(self.config.data.voxel_size or (1.0,) * (len(self.shape) - 1))

    @property
    def detects(self) -> bool:
        """Whether the foreground comes from thresholding raw intensities above their background."""
        return (
            not self.labels
            and self.foreground is None
            and self.images is not None
            and self.config.preprocessing.foreground == "detect"
        )

    def raw(self, t: int) -> np.ndarray:
        """Frame ``t`` of the images."""
        if self.images is None:  # Inputs.open made sure this does not happen where it is needed
            raise InputError("images are needed to compute the missing maps")
        return self.images.frame(t)

    def maps(self, t: int) -> FrameMaps:
        """Foreground, boundaries and intensities of frame ``t``."""
        pre, voxel = self.config.preprocessing, self.config.data.voxel_size
        image = self.images.frame(t) if self.images is not None else None
        if self.labels:
            fg, bnd = labels_to_boundaries([s.frame(t) for s in self.labels], pre.labels_sigma)
            return FrameMaps(fg, bnd, image)

        def raw() -> np.ndarray:
            return image if image is not None else self.raw(t)

        fg = self.foreground_map(t, image)
        if self.boundaries is not None:
            bnd = self.boundaries.frame(t).astype(np.float32, copy=False)
        elif pre.boundaries == "invert":
            bnd = robust_invert(raw(), voxel, pre.invert_sigma, pre.lower_quantile, pre.upper_quantile)
        else:
            bnd = probability_boundaries(raw(), pre.smooth_sigma)
        return FrameMaps(fg, bnd, image)

    def foreground_map(self, t: int, image: np.ndarray | None = None) -> np.ndarray:
        """The foreground of frame ``t`` without the boundaries (no label inputs): the given map,
        or computed from ``image`` (frame ``t`` of the images, read when not given)."""
        pre = self.config.preprocessing
        if self.foreground is not None:
            return self.foreground.frame(t)
        raw = self.raw(t) if image is None else image
        if pre.foreground == "detect":
            return detect_foreground(
                raw,
                self.config.data.voxel_size,
                pre.sigma,
                pre.remove_hist_mode,
                pre.min_foreground,
                method=pre.threshold_method,
                noise_factor=pre.noise_factor,
                threshold=None if self.thresholds is None else self.thresholds[t],
                background=None if self.backgrounds is None else self.backgrounds[t],
            )
        return threshold_probability(
            raw, pre.smooth_sigma, pre.prob_threshold, pre.prob_low_threshold, pre.min_size, pre.max_size
        )
