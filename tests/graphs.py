"""Hand-drawn candidate graphs for solver tests, written straight into Neo4j (no images).

Each scenario is a list of segments ``(t, k, y, x, area)``, links ``((t, k), (t, k), weight)`` and
hierarchy edges ``((t, k_parent), (t, k_child))``; ids are ``segment_id(t, k)``.
"""

from __future__ import annotations

import pandas as pd

from neotrack.solve import assign_tracks
from neotrack.store import Stage, Store, frames_spanned, segment_id

Seg = tuple[int, int, float, float, int]
Link = tuple[tuple[int, int], tuple[int, int], float]


def sid(t: int, k: int) -> int:
    return int(segment_id(t, k))


def store_graph(
    store: Store,
    dataset: str,
    segments: list[Seg],
    links: list[Link],
    hierarchy: list[tuple[tuple[int, int], tuple[int, int]]] = (),  # type: ignore[assignment]
    shape: tuple[int, int] = (100, 100),
) -> None:
    n_frames = max(s[0] for s in segments) + 1
    store.create_dataset(dataset, overwrite=True, ndim=2, shape=[n_frames, *shape], voxel_size=[1, 1])
    with store.writing(dataset, "test"):
        store.begin_stage(dataset, Stage.SEGMENT)
        store.write_segments(
            dataset,
            pd.DataFrame(
                [(sid(t, k), t, y, x, area) for t, k, y, x, area in segments],
                columns=["id", "t", "y", "x", "area"],
            ),
        )
        if hierarchy:
            store.write_hierarchy(
                dataset, pd.DataFrame([(sid(*p), sid(*c)) for p, c in hierarchy], columns=["parent", "child"])
            )
        store.finish_stage(dataset, Stage.SEGMENT)
        store.begin_stage(dataset, Stage.LINK)
        if links:
            store.write_links(
                dataset,
                pd.DataFrame(
                    [(sid(*a), sid(*b), w) for a, b, w in links], columns=["source", "target", "weight"]
                ),
            )
        store.finish_stage(dataset, Stage.LINK, count=len(links))


def solution(store: Store, dataset: str) -> tuple[set[int], set[tuple[int, int]], pd.DataFrame]:
    """Selected ids, NEXT pairs, and the selected table (with track ids)."""
    selected, nxt = store.read_solution(dataset)
    return set(selected.id), set(zip(nxt.source, nxt.target, strict=True)), selected


def assert_valid(store: Store, dataset: str, max_gap: int = 1) -> None:
    """A tracking: <= 1 parent, <= 2 children, NEXT only between selected segments, t -> t+1 (or
    up to ``max_gap`` frames on, and then a move: the source's only successor)."""
    selected, nxt = store.read_solution(dataset)
    chosen = set(selected.id)
    assert set(nxt.source) <= chosen and set(nxt.target) <= chosen, "transition to an unselected segment"
    assert nxt.target.is_unique, "a segment with two parents"
    assert (nxt.groupby("source").size() <= 2).all(), "more than two children"
    span = pd.Series(frames_spanned(nxt), index=nxt.index)
    assert span.between(1, max_gap).all(), "a transition back in time, or over more than max_gap"
    assert not nxt.source[span > 1].isin(nxt.source[span == 1]).any(), "a gap out of a division"
    assert (selected.track_id > 0).all()


def stored(store: Store, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    selected, nxt = store.read_solution(name)
    return selected[["id", "t", "track_id", "parent_track_id", "lineage_id"]], nxt


def assert_tracks_consistent(store: Store, name: str) -> None:
    """The stored track ids describe the same tracks, parents and lineages as ids assigned afresh."""
    selected, nxt = stored(store, name)
    fresh = assign_tracks(selected[["id", "t"]], nxt).set_index("id").loc[selected.id]
    old = selected.set_index("id")
    pairs = pd.DataFrame({"old": old.track_id, "new": fresh.track_id}).drop_duplicates()
    assert pairs.old.is_unique and pairs.new.is_unique, "track ids do not match tracks one to one"
    rename = dict(zip(pairs.old, pairs.new, strict=True)) | {0: 0}
    assert (old.parent_track_id.map(rename) == fresh.parent_track_id).all(), "parent track ids"
    assert (old.lineage_id.map(rename) == fresh.lineage_id).all(), "lineage ids"
