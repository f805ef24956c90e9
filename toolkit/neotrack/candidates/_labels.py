"""Candidate segments from existing label images: one candidate per label."""

from __future__ import annotations

import numpy as np
import pandas as pd
from skimage.measure import regionprops_table

from neotrack.errors import InputError
from neotrack.store import segment_id


def segments_from_labels(frame: np.ndarray, t: int) -> pd.DataFrame:
    """Segments of one label frame ((Y, X) or (Z, Y, X)); a label's id is ``segment_id(t, label)``.

    Columns: id, t, z, y, x (centroid, pixels), area, bbox (start..., stop...), label.
    """
    if frame.ndim not in (2, 3):
        raise InputError(f"frame {t}: label image must be 2D or 3D, got shape {frame.shape}")
    if frame.dtype.kind not in "iu":
        raise InputError(f"frame {t}: label image must hold integers, got dtype {frame.dtype}")
    props = regionprops_table(frame, properties=("label", "centroid", "area", "bbox"))
    ndim = frame.ndim
    labels = props["label"].astype(np.int64)
    centroid = [props[f"centroid-{i}"] for i in range(ndim)]
    bbox = np.stack([props[f"bbox-{i}"] for i in range(2 * ndim)], axis=1).astype(np.int64)
    z = centroid[0] if ndim == 3 else np.zeros(len(labels))
    return pd.DataFrame(
        {
            "id": segment_id(t, labels),
            "t": np.full(len(labels), t, dtype=np.int64),
            "z": z,
            "y": centroid[-2],
            "x": centroid[-1],
            "area": props["area"].astype(np.int64),
            "bbox": list(bbox),
            "label": labels,
        }
    )
