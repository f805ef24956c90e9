"""Gap closing: tracks joined over missing frames after the solve (``solve/_gaps.py``), their
track ids, exports and imports."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from graphs import assert_tracks_consistent, assert_valid, stored
from neotrack.candidates import segment
from neotrack.config import Config, TrackingConfig
from neotrack.datasets import lineage_links, simulate
from neotrack.errors import InputError
from neotrack.export import import_h5_events, objects_table, to_ctc, to_h5_events
from neotrack.export._h5 import frame_events
from neotrack.linking import link
from neotrack.solve import assign_tracks, solve, solve_window
from neotrack.solve._gaps import close_gaps, gap_candidates
from neotrack.store import ID_STRIDE, Store, frames_spanned, segment_id


def track(k: int, frames: range, y: float, x: float) -> pd.DataFrame:
    return pd.DataFrame({"id": segment_id(np.asarray(frames), k), "t": list(frames), "y": y, "x": x})


def moves(segments: pd.DataFrame) -> pd.DataFrame:
    ids = segments.sort_values("t").id.to_numpy()
    return pd.DataFrame({"source": ids[:-1], "target": ids[1:]})


def joined(selected: pd.DataFrame, transitions: pd.DataFrame, **settings: float) -> set[tuple[int, int]]:
    cfg = TrackingConfig(**settings)
    gaps = close_gaps(selected, transitions, cfg, max_distance=10.0, frame_shape=(200, 200))
    return {(int(s) // ID_STRIDE, int(t) // ID_STRIDE) for s, t in zip(gaps.source, gaps.target, strict=True)}


def test_a_track_missed_for_a_frame_or_two_is_joined_to_the_one_that_starts_nearby() -> None:
    before = track(1, range(0, 4), 100, 100)
    for start, max_gap, expected in [
        (5, 1, set()),  # max_gap 1: today's behaviour
        (5, 2, {(3, 5)}),  # one frame missed
        (6, 2, set()),  # two missed, one allowed
        (6, 3, {(3, 6)}),
    ]:
        after = track(2, range(start, start + 3), 104, 100)
        selected = pd.concat([before, after], ignore_index=True)
        assert joined(selected, pd.concat([moves(before), moves(after)]), max_gap=max_gap) == expected
    # too far away (beyond max_distance per frame spanned), or a missed frame that costs too much
    after = track(2, range(5, 8), 125, 100)
    selected = pd.concat([before, after], ignore_index=True)
    assert joined(selected, pd.concat([moves(before), moves(after)]), max_gap=2) == set()
    after = track(2, range(5, 8), 104, 100)
    selected = pd.concat([before, after], ignore_index=True)
    assert joined(selected, pd.concat([moves(before), moves(after)]), max_gap=2, gap_weight=-1.0) == set()


def test_joins_are_the_best_matching_of_ends_to_starts() -> None:
    a, b = track(1, range(0, 4), 100, 100), track(2, range(0, 4), 100, 110)  # two ends at frame 3
    near_a, near_b = track(3, range(5, 8), 100, 103), track(4, range(5, 8), 100, 121)  # two starts
    selected = pd.concat([a, b, near_a, near_b], ignore_index=True)
    transitions = pd.concat([moves(a), moves(b), moves(near_a), moves(near_b)])
    gaps = close_gaps(selected, transitions, TrackingConfig(max_gap=2), 10.0)
    # near_a is the nearest start of both a (3 away) and b (7; near_b 11): the best matching joins
    # each end and each start once, b to near_b, rather than each end to its nearest start
    candidates = gap_candidates(selected, transitions, TrackingConfig(max_gap=2), 10.0, (), (1.0, 1.0))
    assert len(candidates) > len(gaps) and ((candidates.source % ID_STRIDE) == 2).sum() == 2
    assert sorted(zip(gaps.source % ID_STRIDE, gaps.target % ID_STRIDE, strict=True)) == [(1, 3), (2, 4)]
    # a start is joined once: with one start between two ends, the nearer end takes it
    selected = pd.concat([a, b, near_a], ignore_index=True)
    gaps = close_gaps(
        selected, pd.concat([moves(a), moves(b), moves(near_a)]), TrackingConfig(max_gap=2), 10.0
    )
    assert list(gaps.source % ID_STRIDE) == [1] and list(gaps.target % ID_STRIDE) == [3]


def test_a_join_over_missing_frames_starts_a_track_of_its_own_in_the_same_lineage() -> None:
    before, after = track(1, range(0, 4), 100, 100), track(2, range(5, 8), 100, 100)
    gap = pd.DataFrame({"source": [segment_id(3, 1)], "target": [segment_id(5, 2)]})
    tracks = assign_tracks(
        pd.concat([before, after], ignore_index=True), pd.concat([moves(before), moves(after), gap])
    ).set_index("id")
    first, second = tracks.loc[segment_id(3, 1)], tracks.loc[segment_id(5, 2)]
    assert second.track_id != first.track_id
    assert second.parent_track_id == first.track_id and second.lineage_id == first.lineage_id
    assert tracks.loc[segment_id(7, 2)].track_id == second.track_id


@pytest.fixture
def missed(store: Store, name: str, tmp_path: Path) -> tuple[str, int]:
    """A generated movie of cells that do not divide, one of which is missing from frame 6 (its
    pixels painted over with the background): its dataset, solved with max_gap 2, and its label."""
    scene = simulate(n_frames=12, n_cells=6, division_rate=0.0, appear_rate=0.0, seed=5)
    images = scene.images.copy()
    label = int(np.unique(scene.labels[6][scene.labels[6] > 0])[0])
    gone = ndimage.binary_dilation(scene.labels[6] == label, iterations=5)  # with its blurred rim
    images[6][gone] = int(np.median(images[6][scene.labels[6] == 0]))
    config = Config()
    config.data.working_dir = tmp_path
    config.segmentation.min_area, config.segmentation.max_area = 60, 600
    config.tracking.max_gap = 2
    segment(images, dataset=name, config=config, store=store)
    link(name, config, store)
    solve(name, config, store)
    return name, label


def test_a_cell_missed_in_one_frame_keeps_its_lineage_through_the_gap(
    store: Store, missed: tuple[str, int], tmp_path: Path
) -> None:
    name, _ = missed
    selected, transitions = store.read_solution(name)
    spans = frames_spanned(transitions)
    over = transitions[spans == 2]
    assert len(over) == 1 and int(over.source.iloc[0]) // ID_STRIDE == 5  # over the missing frame 6
    assert store.info(name).solve.attrs["gaps"] == 1
    by_id = selected.set_index("id")
    before, after = by_id.loc[int(over.source.iloc[0])], by_id.loc[int(over.target.iloc[0])]
    assert after.parent_track_id == before.track_id and after.lineage_id == before.lineage_id
    # ilastik's objects table: the track after the gap starts with its parent track
    objects = objects_table(name, store).set_index(["frame", "labelimageId"])
    first = objects.loc[(7, int(over.target.iloc[0]) % ID_STRIDE)]
    assert first.trackId == after.track_id and first.parentTrackId == before.track_id
    # CTC: a parent link across the missing frame, a valid result
    from ctc_metrics import validate_sequence

    res = to_ctc(name, tmp_path / "RES", store=store)
    lines = np.loadtxt(res / "res_track.txt", dtype=int, ndmin=2)
    child = lines[lines[:, 0] == after.track_id][0]
    assert child[1] == 7 and child[3] == before.track_id and lines[lines[:, 0] == before.track_id][0][2] == 5
    with contextlib.redirect_stdout(io.StringIO()):
        assert validate_sequence(str(res), threads=1)["Valid"] == 1
    # h5: a MultiFrameMoves row in frame 7's file, read back as the same transition
    h5 = to_h5_events(name, tmp_path / "h5", store=store)
    with h5py.File(h5 / "00007.h5") as f:
        rows = np.asarray(f["tracking/MultiFrameMoves"])
    assert rows.tolist() == [[int(over.source.iloc[0]) % ID_STRIDE, int(over.target.iloc[0]) % ID_STRIDE, 5]]
    again = f"{name}-h5"
    try:
        import_h5_events(h5, again, store=store)
        _, imported = store.read_solution(again)
        assert len(imported) == len(transitions)
        assert store.info(again).solve.attrs["gaps"] == 1
        with pytest.raises(InputError, match="imported lineage"):  # no candidates to choose from
            solve_window(again, 4, 8, store=store)
        to_h5_events(again, tmp_path / "h5-again", store=store)
        with h5py.File(tmp_path / "h5-again" / "00007.h5") as f:
            assert np.asarray(f["tracking/MultiFrameMoves"]).tolist() == rows.tolist()
    finally:
        if store.has_dataset(again):
            store.delete_dataset(again)


@pytest.mark.parametrize("frames", [(3, 9), (6, 9), (2, 6), (6, 7)], ids=["around", "after", "before", "in"])
def test_a_range_solved_again_keeps_or_makes_again_the_gaps_that_cross_it(
    store: Store, missed: tuple[str, int], frames: tuple[int, int]
) -> None:
    name, _ = missed
    config = Config()
    config.tracking.max_gap = 2
    before = stored(store, name)
    solve_window(name, *frames, config, store)  # the gap 5 -> 7 into, out of or over the range
    pd.testing.assert_frame_equal(before[0], stored(store, name)[0])
    pd.testing.assert_frame_equal(before[1], stored(store, name)[1])


def test_corrections_around_a_gap_keep_the_tracking_valid(store: Store, missed: tuple[str, int]) -> None:
    name, _ = missed
    config = Config()
    config.tracking.max_gap = 2
    _, transitions = store.read_solution(name)
    gap = transitions[frames_spanned(transitions) == 2].iloc[0]
    # the cell after the gap pinned out: the track cannot go on there; then back, as it was
    store.pin_segments(name, [int(gap.target)], False)
    solve_window(name, 6, 9, config, store)
    _, now = store.read_solution(name)
    assert int(gap.target) not in set(now.target) and int(gap.target) not in set(now.source)
    assert_valid(store, name, max_gap=2)
    assert_tracks_consistent(store, name)
    store.pin_segments(name, [int(gap.target)], None)
    solve_window(name, 6, 9, config, store)
    _, again = store.read_solution(name)
    pd.testing.assert_frame_equal(transitions, again)
    assert_tracks_consistent(store, name)
    # the cell before the gap pinned out, the range ending before the gap's end: joined from elsewhere
    # or not at all, and the track after the gap renamed to match
    store.pin_segments(name, [int(gap.source)], False)
    solve_window(name, 3, 6, config, store)
    assert_valid(store, name, max_gap=2)
    assert_tracks_consistent(store, name)
    # without gap closing, a range across the gap drops it: the cell after it starts a track
    store.pin_segments(name, [int(gap.source)], None)
    solve_window(name, 4, 8, store=store)
    _, plain = store.read_solution(name)
    assert not (frames_spanned(plain) > 1).any()
    assert_valid(store, name)
    assert_tracks_consistent(store, name)
    solve(name, Config(), store)  # and solving it whole with max_gap 1 records none
    assert store.info(name).solve.attrs["gaps"] == 0


def test_generated_cells_can_go_unseen_and_the_truth_has_the_gaps_as_ctc_does() -> None:
    scene = simulate(n_frames=12, n_cells=8, missed=0.15, seed=3)
    seen = simulate(n_frames=12, n_cells=8, seed=3)  # the same scene, every cell rendered
    assert len(scene.missed) > 0 and scene.missed.t.between(1, 10).all()
    for t, label in scene.missed.itertuples(index=False):
        assert not (scene.labels[t] == label).any()  # not in the truth
        there = seen.labels[t] == label  # (a cell's first gap: its label is the full scene's)
        if there.any():
            assert not scene.labels[t][there].any()
            background = np.median(
                scene.images[t][ndimage.binary_dilation(seen.labels[t] > 0, iterations=4) == 0]
            )
            assert scene.images[t][there].mean() < background + 20
    assert set(np.argwhere(seen.images != scene.images)[:, 0]) == set(scene.missed.t)
    # the truth is a valid CTC lineage: each track present in every frame from B to E, and only there
    for row in scene.tracks.itertuples():
        present = [t for t in range(scene.n_frames) if (scene.labels[t] == row.L).any()]
        assert present == list(range(row.B, row.E + 1)), row
    # a cell unseen for a frame and seen again continues as a child of its track before the gap
    ends = scene.tracks.set_index("L").E
    children = scene.tracks[scene.tracks.P > 0]
    over_gap = children[children.B - children.P.map(ends) > 1]
    assert len(over_gap) > 0
    assert len(scene.tracks) > len(seen.tracks) and scene.n_divisions == seen.n_divisions
    with pytest.raises(InputError, match="missed"):
        simulate(n_frames=3, missed=1.0)


def test_merged_cells_that_go_unseen_leave_the_truth_of_mergers() -> None:
    scene = simulate(n_frames=30, shape=(128, 128), n_cells=12, mergers=0.5, missed=0.1, seed=3)
    rows = scene.mergers
    assert len(rows) and len(scene.missed)
    assert all((scene.labels[t] == label).any() for t, label in rows[["t", "L"]].itertuples(index=False))
    assert rows.groupby(["t", "merger"]).size().min() >= 2
    full = simulate(n_frames=30, shape=(128, 128), n_cells=12, mergers=0.5, seed=3)
    assert len(rows) < len(full.mergers)  # (the scene had merged cells go unseen)


def test_h5_events_carry_a_truth_with_gaps_and_daughters_seen_late() -> None:
    # cells unseen in their first frames too: a daughter seen only after a gap, her sister at once
    scene = simulate(n_frames=20, n_cells=10, seed=0, missed=0.2)
    links = lineage_links(scene.tracks)
    frames = [(t, int(k)) for t in range(scene.n_frames) for k in np.unique(scene.labels[t]) if k]
    selected = pd.DataFrame({"id": [segment_id(t, k) for t, k in frames], "t": [t for t, _ in frames]})
    back = []
    for t in range(scene.n_frames):
        events = frame_events(t, selected, links, scene.n_frames - 1)
        for name, rows in events.items():
            if name in ("Moves", "Splits"):
                back += [(segment_id(t - 1, r[0]), segment_id(t, c)) for r in rows for c in r[1:]]
            elif name == "MultiFrameMoves":
                back += [(segment_id(r[2], r[0]), segment_id(t, r[1])) for r in rows]
    spans = frames_spanned(links)
    assert (spans > 1).any() and links.source[spans > 1].isin(links.source[spans == 1]).any()
    assert sorted(back) == sorted(zip(links.source, links.target, strict=True))
