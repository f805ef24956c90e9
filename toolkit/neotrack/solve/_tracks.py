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


def retrack_range(
    selected: pd.DataFrame,
    transitions: pd.DataFrame,
    old: pd.DataFrame,
    old_transitions: pd.DataFrame,
    fixed: pd.DataFrame,
    next_id: int,
) -> pd.DataFrame:
    """Track ids of a range of frames solved again, consistent with the rest of the solution.

    ``selected`` (``id, t``) and ``transitions`` (``source, target``) are the range's new solution;
    ``old`` and ``old_transitions`` what was there before (``old``: ``id`` and the track columns);
    ``fixed`` the segments before the range that keep their ids (``id`` and the track columns).
    A segment continuing a track takes its ids; a segment starting a track keeps the track id it
    had when it started that track before too, else gets ``next_id``, ``next_id + 1``, ...
    Returns ``id, track_id, parent_track_id, lineage_id`` for the range's selected segments.
    """
    columns = ["track_id", "parent_track_id", "lineage_id"]
    ids: dict[int, tuple[int, int, int]] = {
        int(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in fixed[["id", *columns]].itertuples(index=False)
    }
    before = {int(r[0]): int(r[1]) for r in old[["id", "track_id"]].itertuples(index=False)}
    old_parent = dict(zip(old_transitions.target.tolist(), old_transitions.source.tolist(), strict=True))
    old_children = Counter(old_transitions.source.tolist())
    parent = dict(zip(transitions.target.tolist(), transitions.source.tolist(), strict=True))
    children = Counter(transitions.source.tolist())
    out: dict[int, tuple[int, int, int]] = {}
    for node in selected.sort_values(["t", "id"]).id.tolist():
        if node in ids:
            continue
        up = parent.get(node)
        if up is not None and children[up] == 1:
            out[node] = ids[node] = ids[up]
            continue
        was_up = old_parent.get(node)
        started_before = node in before and (was_up is None or old_children[was_up] != 1)
        if started_before:
            track = before[node]
        else:
            track, next_id = next_id, next_id + 1
        value = (track, ids[up][0], ids[up][2]) if up is not None else (track, 0, track)
        out[node] = ids[node] = value
    return pd.DataFrame([(k, *v) for k, v in out.items()], columns=["id", *columns])


def retrack_descendants(start: pd.DataFrame, descendants: pd.DataFrame) -> pd.DataFrame:
    """New track columns of the segments that follow ``start`` (``id`` and its new track columns),
    from ``descendants`` (``Store.read_descendants``: ``id, parent, t`` and the old columns): a
    segment continuing its parent's track takes its ids; a daughter keeps her own track id, with
    her mother's track as parent and her lineage. Only rows that change are returned."""
    columns = ["track_id", "parent_track_id", "lineage_id"]
    ids = {
        int(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in start[["id", *columns]].itertuples(index=False)
    }
    children = Counter(descendants.parent.tolist())
    changed = []
    for row in descendants.sort_values(["t", "id"]).itertuples(index=False):
        up = ids[int(row.parent)]
        new = up if children[int(row.parent)] == 1 else (int(row.track_id), up[0], up[2])
        ids[int(row.id)] = new
        if new != (int(row.track_id), int(row.parent_track_id), int(row.lineage_id)):
            changed.append((int(row.id), *new))
    return pd.DataFrame(changed, columns=["id", *columns])
