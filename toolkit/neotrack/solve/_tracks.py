"""Track ids from a solution: unbranched runs of selected segments, and their lineages (pure)."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from neotrack.store import ID_STRIDE

COLUMNS = ["track_id", "parent_track_id", "lineage_id"]
"""What this module assigns to each selected segment (besides its ``id``)."""


def _rows(table: pd.DataFrame | None) -> dict[int, tuple[int, int, int]]:
    if table is None:
        return {}
    return {
        int(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in table[["id", *COLUMNS]].itertuples(index=False)
    }


def assign_tracks(
    selected: pd.DataFrame,
    transitions: pd.DataFrame,
    *,
    before: pd.DataFrame | None = None,
    before_transitions: pd.DataFrame | None = None,
    fixed: pd.DataFrame | None = None,
    next_id: int = 1,
) -> pd.DataFrame:
    """``id, track_id, parent_track_id, lineage_id`` for every selected segment (``id, t``) of a
    solution (``transitions``: ``source, target``).

    A track starts at a segment without a parent, whose parent divides (has two successors), or
    whose parent lies more than one frame before it (a gap closed: ``_gaps.py``); otherwise a
    segment continues its parent's track. ``parent_track_id`` is the track the first segment
    divided or was joined from (0: none); ``lineage_id`` the track id at the root of the lineage.
    Track ids are ``next_id``, ``next_id + 1``, ... in order of first frame, then id.

    For a range solved again (``solve_window``): ``fixed`` (``id`` and the track columns) are
    segments before the range that keep their ids, and are not returned; ``before`` and
    ``before_transitions`` the range's previous solution, in which a segment that starts a track
    now and started one then keeps that track id.
    """
    ids = _rows(fixed)
    old = _rows(before)
    was_parent = (
        {}
        if before_transitions is None
        else dict(zip(before_transitions.target.tolist(), before_transitions.source.tolist(), strict=True))
    )
    was_children = Counter([] if before_transitions is None else before_transitions.source.tolist())
    parent = dict(zip(transitions.target.tolist(), transitions.source.tolist(), strict=True))
    children = Counter(transitions.source.tolist())
    frame = dict(zip(selected.id.tolist(), selected.t.tolist(), strict=True))
    out: dict[int, tuple[int, int, int]] = {}
    for node in selected.sort_values(["t", "id"]).id.tolist():
        if node in ids:
            continue
        up = parent.get(node)
        if up is not None and _continues(up, node, children, frame):
            out[node] = ids[node] = ids[up]
            continue
        was_up = was_parent.get(node)
        if node in old and (was_up is None or not _continues(was_up, node, was_children, frame)):
            track = old[node][0]
        else:
            track, next_id = next_id, next_id + 1
        out[node] = ids[node] = (track, ids[up][0], ids[up][2]) if up is not None else (track, 0, track)
    return pd.DataFrame([(k, *v) for k, v in out.items()], columns=["id", *COLUMNS])


def retrack_descendants(start: pd.DataFrame, descendants: pd.DataFrame) -> pd.DataFrame:
    """New track columns of the segments that follow ``start`` (``id`` and its new track columns),
    from ``descendants`` (``Store.read_descendants``: ``id, parent, t`` and the old columns): a
    segment continuing its parent's track takes its ids; a daughter keeps her own track id, with
    her mother's track as parent and her lineage. Only rows that change are returned."""
    ids = _rows(start)
    children = Counter(descendants.parent.tolist())
    frame = dict(zip(descendants.id.tolist(), descendants.t.tolist(), strict=True))
    changed = []
    for row in descendants.sort_values(["t", "id"]).itertuples(index=False):
        up = ids[int(row.parent)]
        continues = _continues(int(row.parent), int(row.id), children, frame)
        new = up if continues else (int(row.track_id), up[0], up[2])
        ids[int(row.id)] = new
        if new != (int(row.track_id), int(row.parent_track_id), int(row.lineage_id)):
            changed.append((int(row.id), *new))
    return pd.DataFrame(changed, columns=["id", *COLUMNS])


def _continues(parent: int, child: int, children: Counter[int], frame: dict[int, int]) -> bool:
    """Whether ``child`` continues its ``parent``'s track: its only successor, in the next frame
    (``frame``: the frames known; else the frame a segment id encodes)."""
    if children[parent] != 1:
        return False
    return frame.get(child, child // ID_STRIDE) - frame.get(parent, parent // ID_STRIDE) == 1
