"""Track ids from a solution: unbranched runs of selected segments, and their lineages (pure)."""

from __future__ import annotations

from collections import Counter

import pandas as pd


def assign_tracks(selected: pd.DataFrame, transitions: pd.DataFrame) -> pd.DataFrame:
    """``id, track_id, parent_track_id, lineage_id`` for every selected segment.

    A track starts at a segment without a parent, or whose parent divides (has two successors);
    otherwise a segment continues its parent's track. ``parent_track_id`` is the track the first
    segment divided from (0: none); ``lineage_id`` the track id at the root of the lineage.
    Track ids are 1, 2, ... in order of first frame, then id.
    """
    parent = dict(zip(transitions.target.tolist(), transitions.source.tolist(), strict=True))
    children = Counter(transitions.source.tolist())
    track: dict[int, int] = {}
    parent_track: dict[int, int] = {}
    lineage: dict[int, int] = {}
    next_id = 1
    for node in selected.sort_values(["t", "id"]).id.tolist():
        up = parent.get(node)
        if up is not None and children[up] == 1:
            track[node], parent_track[node], lineage[node] = track[up], parent_track[up], lineage[up]
            continue
        track[node] = next_id
        parent_track[node] = track[up] if up is not None else 0
        lineage[node] = lineage[up] if up is not None else next_id
        next_id += 1
    ids = list(track)
    return pd.DataFrame(
        {
            "id": ids,
            "track_id": [track[i] for i in ids],
            "parent_track_id": [parent_track[i] for i in ids],
            "lineage_id": [lineage[i] for i in ids],
        }
    )
