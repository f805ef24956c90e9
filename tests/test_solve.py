"""The tracking program on hand-drawn scenes (real Neo4j, real HiGHS): each first shows that the
setting or constraint under test changes the answer, then asserts the answer."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from graphs import assert_valid, sid, solution, store_graph
from neotrack.config import Config, TrackingConfig
from neotrack.errors import InputError
from neotrack.solve import assign_tracks, plan_windows, solve
from neotrack.solve._solve import solve_plans
from neotrack.solve._windows import two_passes
from neotrack.store import Lineage, Store


def config(**tracking: object) -> Config:
    cfg = Config()
    for key, value in tracking.items():
        setattr(cfg.tracking, key, value)
    return cfg


DIVISION = dict(
    segments=[
        (0, 1, 50, 50, 400),
        (1, 1, 50, 40, 200),
        (1, 2, 50, 60, 200),
        (2, 1, 50, 38, 210),
        (2, 2, 50, 62, 210),
    ],
    links=[((0, 1), (1, 1), 0.5), ((0, 1), (1, 2), 0.5), ((1, 1), (2, 1), 0.9), ((1, 2), (2, 2), 0.9)],
)


def test_division(store: Store, name: str) -> None:
    store_graph(store, name, **DIVISION)
    solve(name, config(division_weight=-5.0), store)  # a costly division is not taken ...
    _, nxt, _ = solution(store, name)
    assert len([e for e in nxt if e[0] == sid(0, 1)]) == 1
    result = solve(name, config(), store)  # ... a normal one is
    chosen, nxt, table = solution(store, name)
    assert_valid(store, name)
    assert result.n_divisions == 1 and len(chosen) == 5
    assert {(sid(0, 1), sid(1, 1)), (sid(0, 1), sid(1, 2))} <= nxt
    lineage = Lineage(store, name)
    mother = int(table.track_id[table.id == sid(0, 1)].iloc[0])
    assert lineage.divisions().parent_track_id.tolist() == [mother]
    daughters = sorted(lineage.descendants(mother).track_id)
    assert len(daughters) == 2 and lineage.ancestors(daughters[0]).track_id.tolist() == [mother]
    assert sorted(lineage.lineage(daughters[1]).track_id) == sorted([mother, *daughters])
    assert len(lineage.alive_at(2)) == 2
    tracks = lineage.tracks().set_index("track_id")
    assert tracks.loc[daughters, "parent_track_id"].tolist() == [mother, mother]


def test_crossing_keeps_identities(store: Store, name: str) -> None:
    # two cells pass each other: at t=1 they are close; overlap says who is who
    segments = [
        (0, 1, 20, 20, 300),
        (0, 2, 20, 80, 300),
        (1, 1, 20, 45, 300),
        (1, 2, 20, 55, 300),
        (2, 1, 20, 80, 300),
        (2, 2, 20, 20, 300),
    ]
    links = [
        ((0, 1), (1, 1), 0.6),
        ((0, 1), (1, 2), 0.1),
        ((0, 2), (1, 1), 0.1),
        ((0, 2), (1, 2), 0.6),
        ((1, 1), (2, 1), 0.6),
        ((1, 1), (2, 2), 0.1),
        ((1, 2), (2, 1), 0.1),
        ((1, 2), (2, 2), 0.6),
    ]
    store_graph(store, name, segments, links)
    solve(name, config(), store)
    assert_valid(store, name)
    _, _, table = solution(store, name)
    track = dict(zip(table.id, table.track_id, strict=True))
    assert track[sid(0, 1)] == track[sid(1, 1)] == track[sid(2, 1)]
    assert track[sid(0, 2)] == track[sid(1, 2)] == track[sid(2, 2)] != track[sid(0, 1)]


def test_gap_ends_and_starts_tracks(store: Store, name: str) -> None:
    # the cell is missing in frame 2: only t -> t+1 transitions exist, so two tracks
    segments = [(0, 1, 50, 50, 300), (1, 1, 50, 51, 300), (3, 1, 50, 52, 300), (4, 1, 50, 53, 300)]
    store_graph(store, name, segments, [((0, 1), (1, 1), 0.8), ((3, 1), (4, 1), 0.8)])
    solve(name, config(), store)
    chosen, nxt, table = solution(store, name)
    assert chosen == {sid(0, 1), sid(1, 1), sid(3, 1), sid(4, 1)}
    assert nxt == {(sid(0, 1), sid(1, 1)), (sid(3, 1), sid(4, 1))} and table.track_id.nunique() == 2


def test_appearing_at_the_border_costs_less(store: Store, name: str) -> None:
    # frame 1 holds a new cell at the border (x = 1) and one in the middle; both lone
    segments = [
        (0, 1, 50, 50, 300),
        (1, 1, 50, 50, 300),
        (1, 2, 50, 1, 300),
        (1, 3, 30, 50, 300),
        (2, 1, 50, 50, 300),
    ]
    links = [((0, 1), (1, 1), 0.9), ((1, 1), (2, 1), 0.9)]
    store_graph(store, name, segments, links)
    costly = dict(appear_weight=-1.0, disappear_weight=0.0, segment_weight=0.5)
    solve(name, config(**costly), store)
    assert not {sid(1, 2), sid(1, 3)} & solution(store, name)[0]  # appearing costs too much ...
    solve(name, config(**costly, image_border_size=(10.0, 10.0)), store)
    chosen = solution(store, name)[0]
    assert sid(1, 2) in chosen and sid(1, 3) not in chosen  # ... except near the border


def test_overlapping_candidates_exclude_each_other(store: Store, name: str) -> None:
    # frame 1: candidate 3 is the union of candidates 1 and 2 (two cells touching)
    segments = [
        (0, 1, 50, 40, 200),
        (0, 2, 50, 60, 200),
        (1, 1, 50, 40, 200),
        (1, 2, 50, 60, 200),
        (1, 3, 50, 50, 400),
    ]
    links = [((0, 1), (1, 1), 0.8), ((0, 2), (1, 2), 0.8), ((0, 1), (1, 3), 0.45), ((0, 2), (1, 3), 0.45)]
    hierarchy = [((1, 3), (1, 1)), ((1, 3), (1, 2))]
    store_graph(store, name, segments, links)  # without the hierarchy the union is taken too
    solve(name, config(), store)
    assert sid(1, 3) in solution(store, name)[0]
    store_graph(store, name, segments, links, hierarchy)
    solve(name, config(), store)
    chosen = solution(store, name)[0]
    assert_valid(store, name)
    assert {sid(1, 1), sid(1, 2)} <= chosen and sid(1, 3) not in chosen


def test_size_weighting_prefers_whole_cells_to_fragments(store: Store, name: str) -> None:
    # a cell (area 400) and its two halves (200 each) in frames 0 and 1, fragments link slightly better
    segments = [
        (t, k, 50, 50 + dx, area) for t in (0, 1) for k, dx, area in ((1, 0, 400), (2, -5, 200), (3, 5, 200))
    ]
    links = [((0, 1), (1, 1), 0.8), ((0, 2), (1, 2), 0.7), ((0, 3), (1, 3), 0.7)]
    hierarchy = [((t, 1), (t, k)) for t in (0, 1) for k in (2, 3)]
    store_graph(store, name, segments, links, hierarchy)
    solve(name, config(size_weighted=False), store)  # ultrack's per-transition reward: fragments
    assert solution(store, name)[0] == {sid(t, k) for t in (0, 1) for k in (2, 3)}
    solve(name, config(), store)
    assert solution(store, name)[0] == {sid(0, 1), sid(1, 1)}


def test_pins_force_segments_and_links(store: Store, name: str) -> None:
    store_graph(store, name, **DIVISION)
    store.pin_segments(name, [sid(1, 2)], False)
    solve(name, config(), store)
    assert sid(1, 2) not in solution(store, name)[0]
    store.pin_segments(name, [sid(1, 2)], None)
    store.pin_links(
        name, __import__("pandas").DataFrame({"source": [sid(0, 1)], "target": [sid(1, 2)]}), False
    )
    solve(name, config(), store)
    chosen, nxt, _ = solution(store, name)
    assert sid(1, 2) in chosen and (sid(0, 1), sid(1, 2)) not in nxt
    with pytest.raises(InputError, match="not every segment"):
        store.pin_segments(name, [sid(5, 5)], True)


def test_solving_again_replaces_only_this_solution(store: Store, name: str) -> None:
    other = f"{name}-other"
    try:
        store_graph(store, other, **DIVISION)
        solve(other, config(), store)
        before = store.read_solution(other)
        store_graph(store, name, **DIVISION)
        solve(name, config(division_weight=-5.0), store)
        solve(name, config(), store)
        assert len(solution(store, name)[1]) == 4  # not 3 + 4: the first solution is gone
        after = store.read_solution(other)
        assert before[0].equals(after[0]) and before[1].equals(after[1])
        info = store.dataset(name)
        assert info["solve_solver"] == "HiGHS" and info["solve_gap"] <= 0.001
        assert '"division_weight":-0.01,' in info["solve_config"] and info["solve_version"]
    finally:
        if store.has_dataset(other):
            store.delete_dataset(other)


def test_window_plans_cover_every_frame_once() -> None:
    for size, overlap in [(3, 0), (4, 1), (6, 2), (10, 5)]:
        plans = plan_windows(0, 29, size, overlap)
        committed = [t for p in plans for t in range(p.commit_start, p.commit_stop)]
        assert committed == list(range(30))
        assert all(p.stop - p.start <= size for p in plans)
        assert all(b.start == a.commit_stop - 1 and b.anchored for a, b in itertools.pairwise(plans))
    assert plan_windows(0, 9, None) == plan_windows(0, 9, 50)
    with pytest.raises(Exception, match="overlap_size"):
        config(window_size=3, overlap_size=1)


def test_window_budgets_count_candidates_frame_by_frame() -> None:
    # a movie that crowds: 10 candidates per frame, then 100 from frame 20 on
    counts = pd.Series([10] * 20 + [100] * 20, index=range(40))
    plans = solve_plans(TrackingConfig(window_candidates=300), counts)
    committed = [t for p in plans for t in range(p.commit_start, p.commit_stop)]
    assert committed == list(range(40))
    held = [int(counts.loc[p.start : p.stop - 1].sum()) for p in plans]
    # within the budget, except where the shortest window (overlap + 3 frames) holds more
    assert all(n <= 300 or p.stop - p.start == 4 for n, p in zip(held, plans, strict=True))
    assert plans[0].stop - plans[0].start == 21  # 20 sparse frames and one crowded one
    assert all(p.stop - p.start <= 4 for p in plans if p.start >= 20)  # then the shortest windows
    # a fixed size wins, and a movie within the budget is one window
    assert all(p.stop - p.start <= 5 for p in solve_plans(TrackingConfig(window_size=5), counts))
    assert len(solve_plans(TrackingConfig(window_candidates=10_000), counts)) == 1


def test_two_passes_commit_every_frame_once_anchored_on_the_first_pass() -> None:
    for n_plans_end, size, overlap in [(29, 5, 1), (30, 6, 2), (12, 4, 1)]:
        plans = plan_windows(0, n_plans_end, size, overlap)
        first, second = two_passes(plans, overlap)
        blocks = sorted([*first, *second], key=lambda b: b.commit_start)
        committed = [t for b in blocks for t in range(b.commit_start, b.commit_stop)]
        assert committed == list(range(n_plans_end + 1))
        assert blocks[0] in first and not any(b.left or b.right for b in first)
        # the first pass looks back as far as it looks ahead, within the movie
        assert all(b.start == max(b.commit_start - overlap, 0) for b in first)
        ends = {t for b in first for t in (b.commit_start, b.commit_stop - 1)}
        for b in second:  # anchored on frames the first pass committed, just outside the block
            assert b.left and b.start == b.commit_start - 1 and b.start in ends
            assert b.right == (b.stop == b.commit_stop + 1) and (not b.right or b.stop - 1 in ends)


def test_track_ids_follow_divisions() -> None:
    selected = pd.DataFrame({"id": [1, 2, 3, 4, 5], "t": [0, 1, 1, 2, 2]})
    transitions = pd.DataFrame({"source": [1, 1, 2], "target": [2, 3, 4]})
    tracks = assign_tracks(selected, transitions).set_index("id")
    assert tracks.track_id.to_dict() == {1: 1, 2: 2, 3: 3, 4: 2, 5: 4}
    assert tracks.parent_track_id.to_dict() == {1: 0, 2: 1, 3: 1, 4: 1, 5: 0}
    assert tracks.lineage_id.to_dict() == {1: 1, 2: 1, 3: 1, 4: 1, 5: 4}
