"""Per-frame filters that turn images into foreground and boundary maps.

Each takes one frame ((Y, X) or (Z, Y, X)) and returns one; sigmas given in physical units are
divided by the voxel size per axis, so anisotropic stacks are smoothed the same in every direction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage as ndi
from skimage import filters, segmentation

from neotrack.errors import InputError
from neotrack.imgproc._background import Background, _sigmas, excess, prepare_signal


def detect_foreground(
    image: np.ndarray,
    voxel_size: Sequence[float] | None = None,
    sigma: float | None = None,
    remove_hist_mode: bool = False,
    min_foreground: float = 0.0,
    smooth: float = 1.0,
    method: str = "background",
    noise_factor: float = 5.0,
    threshold: float | None = None,
    background: Background | None = None,
) -> np.ndarray:
    """Foreground mask of one frame: what stands clearly above its background.

    The frame is smoothed lightly (``smooth`` pixels) and optionally freed of a Gaussian background
    of ``sigma`` (physical units) or of its histogram's mode (``prepare_signal``). ``method``
    ``background`` (default) calls foreground what lies ``noise_factor`` noise deviations above the
    background level (a map over the frame), both estimated from the background alone, so a frame
    with few cells is thresholded like a full one; ``otsu``, ``triangle``, ``li`` threshold log
    intensities (see ``excess``). ``threshold`` (e.g. from ``calibrate``; above the background level
    for ``background``) replaces the frame's own, and ``background`` (``estimate_background``) saves
    estimating it again.
    """
    signal = prepare_signal(image, voxel_size, sigma, remove_hist_mode, smooth)
    above, own = excess(signal, method, noise_factor, min_foreground, background)
    return above > (own if threshold is None else threshold)


def robust_invert(
    image: np.ndarray,
    voxel_size: Sequence[float] | None = None,
    sigma: float = 1.0,
    lower_quantile: float | None = None,
    upper_quantile: float = 0.9999,
) -> np.ndarray:
    """Boundary map from intensities: smooth, scale between quantiles to [0, 1], invert.

    Bright nuclei become low (inside) and the dark gaps between them high (boundaries).
    """
    data = image.astype(np.float32, copy=False)
    if sigma > 0:
        data = ndi.gaussian_filter(data, _sigmas(sigma, data.ndim, voxel_size))
    low = float(np.quantile(data, lower_quantile)) if lower_quantile is not None else float(data.min())
    high = float(np.quantile(data, upper_quantile))
    scaled = np.clip((data - low) / max(high - low, 1e-12), 0, 1)
    return (1.0 - scaled).astype(np.float32)


def threshold_probability(
    prob: np.ndarray,
    sigma: float | Sequence[float] = 1.0,
    threshold: float = 0.5,
    low_threshold: float | None = None,
    min_size: int = 0,
    max_size: int | None = None,
) -> np.ndarray:
    """ilastik's thresholding applet: smooth, threshold (or hysteresis), filter by size.

    With ``low_threshold`` the result holds the regions above it that reach ``threshold``
    somewhere (two thresholds). Objects outside [min_size, max_size] pixels are removed.
    """
    data = _smooth(prob, sigma)
    if low_threshold is None:
        mask = data > threshold
    else:
        mask = filters.apply_hysteresis_threshold(data, low_threshold, threshold)
    return _size_filter(mask, min_size, max_size)


def probability_boundaries(prob: np.ndarray, sigma: float | Sequence[float] = 1.0) -> np.ndarray:
    """Boundary map of a probability map: one minus the smoothed probability."""
    return (1.0 - np.clip(_smooth(prob, sigma), 0, 1)).astype(np.float32)


def labels_to_boundaries(labels: Sequence[np.ndarray], sigma: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Foreground and boundaries from one or more label images of the same frame.

    The foreground is the fraction of label images that cover a pixel; the boundaries are the
    fraction that put a label boundary there (optionally smoothed). One label image gives its own
    objects back; several (e.g. Cellpose and StarDist) become an ensemble of hypotheses.
    """
    if not labels:
        raise InputError("labels_to_boundaries needs at least one label image")
    shape = labels[0].shape
    foreground = np.zeros(shape, dtype=np.float32)
    boundaries = np.zeros(shape, dtype=np.float32)
    for lab in labels:
        if lab.shape != shape:
            raise InputError(f"label images of one frame differ in shape: {lab.shape} vs {shape}")
        if lab.dtype.kind not in "iu":
            raise InputError(f"label images must hold integers, got {lab.dtype}")
        foreground += lab > 0
        boundaries += segmentation.find_boundaries(lab, mode="inner")
    foreground /= len(labels)
    boundaries /= len(labels)
    if sigma > 0:
        boundaries = ndi.gaussian_filter(boundaries, sigma)
    return foreground, boundaries


def _smooth(data: np.ndarray, sigma: float | Sequence[float]) -> np.ndarray:
    data = data.astype(np.float32, copy=False)
    sig = _sigmas(sigma, data.ndim)
    return ndi.gaussian_filter(data, sig) if np.any(sig > 0) else data


def _size_filter(mask: np.ndarray, min_size: int, max_size: int | None) -> np.ndarray:
    if min_size <= 1 and max_size is None:
        return mask
    labels, _ = ndi.label(mask)
    sizes = np.bincount(labels.ravel())
    keep = sizes >= min_size
    if max_size is not None:
        keep &= sizes <= max_size
    keep[0] = False
    return keep[labels]


__all__ = [
    "detect_foreground",
    "labels_to_boundaries",
    "probability_boundaries",
    "robust_invert",
    "threshold_probability",
]
