"""Which transitions linking keeps: the best by overlap among every candidate within reach."""

from __future__ import annotations

import numpy as np
import pandas as pd

from neotrack.candidates._masks import CandidateFrame
from neotrack.config import LinkingConfig
from neotrack.linking import frame_links
from neotrack.store import segment_id


def frame(t: int, leaves: np.ndarray) -> CandidateFrame:
    """A frame whose candidates are the labels of ``leaves`` (no hierarchy), with their centres."""
    rows = []
    for k in range(1, int(leaves.max()) + 1):
        yx = np.argwhere(leaves == k)
        rows.append((int(segment_id(t, k)), *yx.mean(axis=0), len(yx)))
    segments = pd.DataFrame(rows, columns=["id", "y", "x", "area"]).set_index("id")
    return CandidateFrame(t, segments, {}, leaves)


def test_a_cell_running_into_a_blob_keeps_its_transition_behind_nearer_fragments() -> None:
    # t 0: a whole cell on the blob's left (label 1) and twelve 2-px fragments at the blob's
    # centre; t 1: one blob. The fragments' centres are all nearer the blob's than the cell's,
    # but the cell overlaps it most: its transition is among the blob's five best
    before, after = np.zeros((40, 80), np.int64), np.zeros((40, 80), np.int64)
    before[12:28, 22:38] = 1
    for k in range(12):
        y, x = 14 + 2 * (k // 4) * 2, 48 + 2 * (k % 4)
        before[y : y + 2, x] = k + 2
    after[12:28, 22:66] = 1
    links = frame_links(frame(0, before), frame(1, after), LinkingConfig(max_distance=30.0), np.ones(2))
    cell, blob = int(segment_id(0, 1)), int(segment_id(1, 1))
    assert len(links) == 5
    assert links.source.iloc[links.weight.argmax()] == cell and (links.target == blob).all()
    # the same with the cell's centre beyond reach: left out, whatever it overlaps
    far = frame_links(frame(0, before), frame(1, after), LinkingConfig(max_distance=12.0), np.ones(2))
    assert cell not in set(far.source)
