"""Candidates from one existing label image: every label is a candidate, none overlap."""

from __future__ import annotations

import numpy as np
import pandas as pd
from skimage.measure import regionprops_table

from neotrack.candidates._hierarchy import FrameCandidates
from neotrack.errors import InputError
from neotrack.store import ID_STRIDE, segment_id


def segments_from_labels(frame: np.ndarray, t: int, intensity: np.ndarray | None = None) -> pd.DataFrame:
    """Segments of one label frame ((Y, X) or (Z, Y, X)); a label's id is ``segment_id(t, label)``.

    Columns: id, t, z, y, x (centroid, pixels), area, bbox (start..., stop...), label, elongation,
    and with ``intensity`` its mean and standard deviation.
    """
    if frame.ndim not in (2, 3):
        raise InputError(f"frame {t}: label image must be 2D or 3D, got shape {frame.shape}")
    if frame.dtype.kind not in "iu":
        raise InputError(f"frame {t}: label image must hold integers, got dtype {frame.dtype}")
    if frame.size and int(frame.max()) >= ID_STRIDE:
        raise InputError(f"frame {t}: labels must be below {ID_STRIDE}")
    props = ["label", "centroid", "area", "bbox", "inertia_tensor_eigvals"]
    if intensity is not None:
        props += ["intensity_mean", "intensity_std"]
    table = regionprops_table(frame, intensity_image=intensity, properties=props)
    ndim = frame.ndim
    labels = table["label"].astype(np.int64)
    centroid = [table[f"centroid-{i}"] for i in range(ndim)]
    bbox = np.stack([table[f"bbox-{i}"] for i in range(2 * ndim)], axis=1).astype(np.int64)
    eig = np.stack([table[f"inertia_tensor_eigvals-{i}"] for i in range(ndim)], axis=1)
    eig = np.clip(eig, 1e-12, None)
    out = pd.DataFrame(
        {
            "id": segment_id(t, labels),
            "t": np.full(len(labels), t, dtype=np.int64),
            "z": centroid[0] if ndim == 3 else np.zeros(len(labels)),
            "y": centroid[-2],
            "x": centroid[-1],
            "area": table["area"].astype(np.int64),
            "bbox": list(bbox),
            "label": labels,
            "elongation": np.sqrt(eig.max(axis=1) / eig.min(axis=1)),
        }
    )
    if intensity is not None:
        out["intensity_mean"] = table["intensity_mean"]
        out["intensity_std"] = table["intensity_std"]
    return out


def label_candidates(frame: np.ndarray, t: int, intensity: np.ndarray | None = None) -> FrameCandidates:
    """A label image as the frame's candidates: its labels, unchanged, with no hierarchy."""
    segments = segments_from_labels(frame, t, intensity)
    hierarchy = pd.DataFrame({"parent": np.empty(0, np.int64), "child": np.empty(0, np.int64)})
    return FrameCandidates(t, segments, hierarchy, frame.astype(np.uint32))
