"""``solve_window``: a range of frames solved again, anchored on both sides (real Neo4j, real solver)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from graphs import Link, Seg, assert_tracks_consistent, assert_valid, store_graph, stored
from neotrack.candidates import segment
from neotrack.config import Config, TrackingConfig
from neotrack.datasets import simulate
from neotrack.errors import InputError
from neotrack.linking import link
from neotrack.solve import solve, solve_window
from neotrack.solve._bases import FOLDER, BasisFolder
from neotrack.store import Store


def random_movie(rng: np.random.Generator, n_frames: int = 12, n_cells: int = 10):  # type: ignore[no-untyped-def]
    """Cells drifting at random, each a candidate with two halves; links to nearby candidates."""
    segments: list[Seg] = []
    hierarchy = []
    pos = rng.uniform(10, 90, (n_cells, 2))
    for t in range(n_frames):
        pos = pos + rng.normal(0, 2, pos.shape)
        for c, (y, x) in enumerate(pos):
            k = 3 * c + 1
            area = int(rng.integers(300, 500))
            segments += [(t, k, y, x, area), (t, k + 1, y, x - 4, area // 2), (t, k + 2, y, x + 4, area // 2)]
            hierarchy += [((t, k), (t, k + 1)), ((t, k), (t, k + 2))]
    by_t: dict[int, list[Seg]] = {}
    for s in segments:
        by_t.setdefault(s[0], []).append(s)
    links: list[Link] = []
    for t in range(n_frames - 1):
        for a in by_t[t]:
            for b in by_t[t + 1]:
                d = float(np.hypot(a[2] - b[2], a[3] - b[3]))
                if d < 12:
                    links.append(
                        ((t, a[1]), (t + 1, b[1]), float(np.clip(1 - d / 12 + rng.normal(0, 0.1), 0, 1)))
                    )
    return segments, links, hierarchy


@pytest.fixture
def solved(store: Store, name: str) -> str:
    store_graph(store, name, *random_movie(np.random.default_rng(7)))
    solve(name, Config(), store)
    return name


def test_a_window_solved_again_with_nothing_changed_is_the_same_solution(store: Store, solved: str) -> None:
    before = stored(store, solved)
    result = solve_window(solved, 4, 8, store=store)
    after = stored(store, solved)
    assert result.n_selected > 0 and result.n_transitions > 0
    pd.testing.assert_frame_equal(before[0], after[0])
    pd.testing.assert_frame_equal(before[1], after[1])


def test_a_pinned_segment_is_solved_around_and_nothing_outside_the_range_moves(
    store: Store, solved: str
) -> None:
    before, before_next = stored(store, solved)
    # pin out a selected segment in the middle of the range that continues a track on both sides
    inner = before_next[(before_next.source // 10**9 == 5)]
    target = int(inner.source.iloc[0])
    store.pin_segments(solved, [target], False)
    result = solve_window(solved, 4, 8, store=store)
    after, after_next = stored(store, solved)
    assert target not in set(after.id)
    assert result.n_selected > 0
    # outside frames [4, 8) the selection is as it was, anchors included
    outside = ~before.t.between(4, 7)
    assert set(before.id[outside]) == set(after.id[~after.t.between(4, 7)])
    # transitions that leave frames before 3 or from 8 on are untouched
    keep = lambda n: n[(n.source // 10**9 < 3) | (n.source // 10**9 >= 8)]  # noqa: E731
    pd.testing.assert_frame_equal(
        keep(before_next).reset_index(drop=True), keep(after_next).reset_index(drop=True)
    )
    assert_valid(store, solved)
    assert_tracks_consistent(store, solved)


def test_a_changed_window_renames_tracks_downstream(store: Store, solved: str) -> None:
    before, before_next = stored(store, solved)
    # cut every track through frame 5: with every candidate of frame 5 pinned out, the tracks after
    # it start anew, in new lineages, and take new ids down to the end of the movie
    store.pin_segments(solved, store.read_segments(solved, 5, 6).id.tolist(), False)
    result = solve_window(solved, 5, 6, store=store)
    after, _ = stored(store, solved)
    assert result.n_selected == 0 and result.n_retracked > 0
    later = after[after.t > 6]
    assert not set(later.lineage_id) & set(before.lineage_id[before.t <= 4])  # no lineage crosses the cut
    assert (before_next.source // 10**9 > 6).any() and (later.parent_track_id > 0).any()  # divisions after
    assert_valid(store, solved)
    assert_tracks_consistent(store, solved)


def test_ranges_outside_the_movie_and_unsolved_datasets_are_one_clear_error(store: Store, name: str) -> None:
    store_graph(store, name, *random_movie(np.random.default_rng(1), n_frames=4, n_cells=2))
    with pytest.raises(InputError, match="is not solved"):
        solve_window(name, 0, 2, store=store)
    solve(name, Config(tracking=TrackingConfig()), store)
    for start, stop in [(2, 2), (-1, 2), (3, 9)]:
        with pytest.raises(InputError, match=r"expected 0 <= start < stop <= 4"):
            solve_window(name, start, stop, store=store)


def test_the_command_line_solves_a_range_again(store: Store, solved: str) -> None:
    from click.testing import CliRunner

    from neotrack.cli import main

    before = stored(store, solved)
    result = CliRunner().invoke(main, ["solve", "--dataset", solved, "--frames", "4:8", "--uri", store.uri])
    assert result.exit_code == 0, result.output
    assert f"dataset {solved!r}, frames 4-7 solved again" in result.output
    pd.testing.assert_frame_equal(before[0], stored(store, solved)[0])
    bad = CliRunner().invoke(main, ["solve", "--dataset", solved, "--frames", "4-8", "--uri", store.uri])
    assert bad.exit_code == 2 and "--frames" in bad.output and "START:STOP" in bad.output
    outside = CliRunner().invoke(main, ["solve", "--dataset", solved, "--frames", "4:99", "--uri", store.uri])
    assert outside.exit_code == 1 and "are not a range of dataset" in outside.output


def test_two_passes_honour_a_link_pinned_into_a_window_of_the_first_pass(store: Store, solved: str) -> None:
    # windows of 4 frames: the first pass commits frames 0-2, 5-6 and 9-11, the second 3-4 and 7-8
    config = Config()
    config.tracking.window_size, config.data.n_workers = 4, 2
    selected, _ = store.read_solution(solved)
    window = store.read_window(solved, 4, 6)
    into = window.links[(window.links.source // 10**9 == 4) & ~window.links.target.isin(selected.id)]
    pinned = into.iloc[:1][["source", "target"]]  # into a segment the solution left out
    store.pin_links(solved, pinned, True)
    result = solve(solved, config, store)
    assert result.n_windows == 5
    assert_valid(store, solved)
    _, nxt = store.read_solution(solved)
    assert set(zip(nxt.source, nxt.target, strict=True)) >= set(
        zip(pinned.source, pinned.target, strict=True)
    )
    # and the two passes choose what one window after the other chooses, or nearly
    config.data.n_workers = 1
    one = solve(solved, config, store)
    assert abs(one.objective - result.objective) <= 0.02 * abs(one.objective)


def test_a_change_of_the_solution_that_refers_to_a_missing_segment_writes_nothing(
    store: Store, solved: str
) -> None:
    before = stored(store, solved)
    first = before[0].iloc[:3]
    missing = int(before[0].id.max()) + 12_345
    with pytest.raises(InputError, match="1 of 2 changes of the solution refer to segments"):
        store.update_solution(
            solved,
            unselect=first.id.tolist(),  # applied first, then rolled back with the rest
            select=[int(before[0].id.iloc[5]), missing],
            remove=before[1].iloc[:2],
            add=before[1].iloc[:0],
            tracks=first.iloc[:0],
        )
    after = stored(store, solved)
    pd.testing.assert_frame_equal(before[0], after[0])
    pd.testing.assert_frame_equal(before[1], after[1])


def test_kept_bases_start_a_correction_and_never_change_what_it_chooses(
    store: Store, name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scene = simulate(n_frames=14, n_cells=10, division_rate=0.05, seed=31)
    config = Config()
    config.data.working_dir = tmp_path
    config.segmentation.min_area, config.segmentation.max_area = 60, 600
    config.tracking.window_size, config.tracking.overlap_size = 4, 1
    segment(scene.images, dataset=name, config=config, store=store)
    link(name, config, store)
    result = solve(name, config, store)
    folder = store.pixels(name) / FOLDER
    spans = sorted(tuple(int(v) for v in f.stem.split("-")[1:]) for f in folder.glob("*.npz"))
    assert len(spans) == result.n_windows  # each window keeps the frames it committed, once
    assert [t for lo, hi in spans for t in range(lo, hi + 1)] == list(range(14))
    kept = BasisFolder(folder).load(4, 9)
    assert kept is not None and set(np.unique(kept.frames())) == set(range(4, 10))
    # a correction: the range starts from the kept bases, and keeps its own (covering what it solved)
    selected, _ = store.read_solution(name, 6, 7)
    store.pin_segments(name, [int(selected.id.iloc[0])], False)
    solve_window(name, 5, 10, config, store)
    warm = stored(store, name)
    spans = [tuple(int(v) for v in f.stem.split("-")[1:]) for f in folder.glob("*.npz")]
    assert (5, 9) in spans and not any(lo >= 5 and hi <= 9 for lo, hi in spans if (lo, hi) != (5, 9))
    # the same range from the stored choice alone (no bases), and from an unreadable file: the same
    for damage in ("remove", "garble", "another layout"):
        if damage == "remove":
            shutil.rmtree(folder)
        elif damage == "garble":
            next(folder.glob("*.npz")).write_bytes(b"not a basis")
        else:
            with next(folder.glob("*.npz")).open("wb") as f:
                np.savez(f, names=np.arange(5), status=np.zeros(3))
        solve_window(name, 5, 10, config, store)
        pd.testing.assert_frame_equal(warm[0], stored(store, name)[0])
        pd.testing.assert_frame_equal(warm[1], stored(store, name)[1])
    assert_tracks_consistent(store, name)
    # solving anew forgets them all: the files are the new solution's
    before = set(folder.glob("*.npz"))
    solve(name, config, store)
    assert before and not before & set(folder.glob("*.npz"))
    # where they cannot be written: one warning, the solve and corrections go on, nothing is removed
    shutil.rmtree(folder)
    folder.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="neotrack"):
        solve(name, config, store)
        solve_window(name, 5, 10, config, store)
    assert sum("could not keep the LP basis" in r.getMessage() for r in caplog.records) == 2  # one each
    assert folder.read_text() == "not a folder"
