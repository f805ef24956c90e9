"""Small hand-made tables for store tests: ids encode frames like the real ones."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from neotrack.store import segment_id


def grid_segments(n_frames: int, per_frame: int, seed: int = 0) -> pd.DataFrame:
    """``per_frame`` segments in each of ``n_frames`` frames with random positions and a feature."""
    rng = np.random.default_rng(seed)
    t = np.repeat(np.arange(n_frames), per_frame)
    k = np.tile(np.arange(1, per_frame + 1), n_frames)
    n = t.size
    return pd.DataFrame(
        {
            "id": segment_id(t, k),
            "t": t,
            "z": np.zeros(n),
            "y": rng.uniform(0, 64, n),
            "x": rng.uniform(0, 64, n),
            "area": rng.integers(10, 100, n),
            "bbox": [[int(a), int(a) + 3, 2, 5] for a in rng.integers(0, 60, n)],
            "frontier": rng.random(n),
            "height": rng.random(n),
            "intensity_mean": rng.random(n),
        }
    )


def chain_links(segments: pd.DataFrame) -> pd.DataFrame:
    """Link the k-th segment of each frame to the k-th and (k+1)-th of the next frame."""
    by_t = {t: g["id"].to_numpy() for t, g in segments.groupby("t")}
    src, dst = [], []
    frames = sorted(by_t)
    for t0, t1 in itertools.pairwise(frames):
        a, b = by_t[t0], by_t[t1]
        for i, s in enumerate(a):
            for j in (i, i + 1):
                if j < len(b):
                    src.append(s)
                    dst.append(b[j])
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {"source": src, "target": dst, "weight": rng.random(len(src)), "iou": rng.random(len(src))}
    )
