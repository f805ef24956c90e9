"""Hand-drawn candidate graphs for solver tests, written straight into Neo4j (no images).

Each scenario is a list of segments ``(t, k, y, x, area)``, links ``((t, k), (t, k), weight)`` and
hierarchy edges ``((t, k_parent), (t, k_child))``; ids are ``segment_id(t, k)``.
"""

from __future__ import annotations

import pandas as pd

from neotrack.store import Stage, Store, segment_id

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


def assert_valid(store: Store, dataset: str) -> None:
    """A tracking: <= 1 parent, <= 2 children, NEXT only between selected segments, t -> t+1."""
    selected, nxt = store.read_solution(dataset)
    chosen = set(selected.id)
    assert set(nxt.source) <= chosen and set(nxt.target) <= chosen, "transition to an unselected segment"
    assert nxt.target.is_unique, "a segment with two parents"
    assert (nxt.groupby("source").size() <= 2).all(), "more than two children"
    assert ((nxt.target // 10**9) == (nxt.source // 10**9) + 1).all()
    assert (selected.track_id > 0).all()
