"""Image processing: foreground and boundary maps from intensities, probabilities or labels."""

from neotrack.imgproc._background import Background, estimate_background
from neotrack.imgproc._calibrate import Calibration, calibrate, calibrated, resolve_section
from neotrack.imgproc._filters import (
    detect_foreground,
    labels_to_boundaries,
    probability_boundaries,
    robust_invert,
    threshold_probability,
)
from neotrack.imgproc._maps import FrameMaps, Inputs
from neotrack.imgproc._preprocess import preprocess

__all__ = [
    "Background",
    "Calibration",
    "FrameMaps",
    "Inputs",
    "calibrate",
    "calibrated",
    "detect_foreground",
    "estimate_background",
    "labels_to_boundaries",
    "preprocess",
    "probability_boundaries",
    "resolve_section",
    "robust_invert",
    "threshold_probability",
]
