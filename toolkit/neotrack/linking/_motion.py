"""Motion from a solution: each candidate moves like its solved neighbours (for re-linking)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from neotrack.store import ID_STRIDE, Store, frames_spanned

log = logging.getLogger(__name__)


def estimate_shifts(store: Store, dataset: str, neighbors: int = 8) -> pd.DataFrame:
    """Store, for every candidate, the median displacement t -> t+1 of its ``neighbors`` nearest
    solved cells that moved without dividing; returns ``id, shift_z, shift_y, shift_x``.

    Dense tissue that drifts or expands moves coherently: shifting each candidate by its
    neighbours' motion before linking again turns far, non-overlapping pairs into overlapping ones.
    """
    selected, nxt = store.read_solution(dataset)
    segments = store.read_segments(dataset)
    one_frame = frames_spanned(nxt) == 1  # (not over a gap closed)
    moves = nxt[(nxt.groupby("source").source.transform("size") == 1) & one_frame]
    pos = selected.set_index("id")[["z", "y", "x"]]
    delta = pos.reindex(moves.target).to_numpy() - pos.reindex(moves.source).to_numpy()
    start = pos.reindex(moves.source).to_numpy()
    frame_of_move = moves.source.to_numpy() // ID_STRIDE
    rows = []
    for t, group in segments.groupby("t"):
        here = frame_of_move == t
        if not here.any():
            continue
        k = min(neighbors, int(here.sum()))
        _, idx = cKDTree(start[here]).query(group[["z", "y", "x"]].to_numpy(), k=k)
        idx = idx.reshape(len(group), k)
        shift = np.median(delta[here][idx], axis=1)
        rows.append(
            pd.DataFrame(
                {
                    "id": group.id.to_numpy(),
                    "shift_z": shift[:, 0],
                    "shift_y": shift[:, 1],
                    "shift_x": shift[:, 2],
                }
            )
        )
    table = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=["id", "shift_z", "shift_y", "shift_x"])
    )
    store.write_shifts(dataset, table)
    log.info("estimated the motion of %d candidates from %d solved moves", len(table), len(moves))
    return table
