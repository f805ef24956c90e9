"""Image processing: foreground and boundary maps from intensities, probabilities or labels."""

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
    "FrameMaps",
    "Inputs",
    "detect_foreground",
    "labels_to_boundaries",
    "preprocess",
    "probability_boundaries",
    "robust_invert",
    "threshold_probability",
]
