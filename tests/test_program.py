"""One window's program built from DataFrames and solved, without a server: each term's effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neotrack.config import TrackingConfig
from neotrack.errors import SolveError
from neotrack.solve import build_program, solve_program
from neotrack.solve._bases import Basis
from neotrack.solve._counts import shape_evidence
from neotrack.store import segment_id

Seg = tuple[int, int, float, float, int]  # t, k, y, x, area


def sid(t: int, k: int) -> int:
    return int(segment_id(t, k))


def tables(
    segments: list[Seg],
    links: list[tuple[tuple[int, int], tuple[int, int], float]],
    hierarchy: list[tuple[tuple[int, int], tuple[int, int]]] = [],  # noqa: B006 (read only)
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    seg = pd.DataFrame(
        [(sid(t, k), t, y, x, a) for t, k, y, x, a in segments], columns=["id", "t", "y", "x", "area"]
    )
    lnk = pd.DataFrame([(sid(*a), sid(*b), w) for a, b, w in links], columns=["source", "target", "weight"])
    hier = pd.DataFrame([(sid(*p), sid(*c)) for p, c in hierarchy], columns=["parent", "child"])
    return seg, lnk, hier


def test_a_daughter_that_moved_off_her_mother_is_still_her_daughter() -> None:
    # the mother (t 0, 1) has two daughters at t 2: one overlaps her well, the other barely (IoU 0.05)
    segments = [(0, 1, 50, 50, 400), (1, 1, 50, 50, 400), (2, 1, 50, 44, 250), (2, 2, 50, 70, 250)]
    segments += [(3, 1, 50, 42, 260), (3, 2, 50, 74, 260)]
    links = [((0, 1), (1, 1), 0.9), ((1, 1), (2, 1), 0.5), ((1, 1), (2, 2), 0.05)]
    links += [((2, 1), (3, 1), 0.8), ((2, 2), (3, 2), 0.8)]
    seg, lnk, hier = tables(segments, links)
    division = (sid(1, 1), sid(2, 2))

    def transitions(cfg: TrackingConfig) -> set[tuple[int, int]]:
        sol = solve_program(build_program(seg, lnk, hier, cfg), cfg)
        return set(zip(sol.transitions.source, sol.transitions.target, strict=True))

    assert division in transitions(TrackingConfig())
    # when starting a track costs less than a division (ultrack's costs), the far daughter is a newcomer
    assert division not in transitions(TrackingConfig(appear_weight=-0.001, disappear_weight=-0.001))


def test_two_touching_cells_are_taken_apart_rather_than_as_one_large_candidate() -> None:
    # three frames of a candidate holding two touching cells (800 px = 2 typical cells) and the two
    # cells on their own (400 px each), all linked equally well
    segments = [
        (t, k, 50, 50 + dx, a) for t in range(3) for k, dx, a in ((1, 0, 800), (2, -10, 400), (3, 10, 400))
    ]
    links = [((t, k), (t + 1, k), 0.7) for t in range(2) for k in (1, 2, 3)]
    hierarchy = [((t, 1), (t, k)) for t in range(3) for k in (2, 3)]
    seg, lnk, hier = tables(segments, links, hierarchy)

    def picked(cfg: TrackingConfig) -> set[int]:
        # tracks starting in the first frame pay their appearance (else one track ties with two)
        program = build_program(seg, lnk, hier, cfg, cell_area=400.0, free_first=False)
        return set(solve_program(program, cfg).segments.id)

    assert picked(TrackingConfig()) == {sid(t, k) for t in range(3) for k in (2, 3)}
    # counting every pixel alike, one candidate ties with two on rewards and is cheaper in tracks
    assert picked(TrackingConfig(size_cap=None)) == {sid(t, 1) for t in range(3)}


def random_window(rng: np.random.Generator, n_frames: int = 6, n_cells: int = 12):  # type: ignore[no-untyped-def]
    """Candidates with random two-level hierarchies (a cell and its halves) and random links."""
    segments, hierarchy = [], []
    for t in range(n_frames):
        for c in range(n_cells):
            k = 3 * c + 1
            y, x, area = rng.uniform(0, 100), rng.uniform(0, 100), int(rng.integers(200, 900))
            segments += [(t, k, y, x, area), (t, k + 1, y, x - 3, area // 2), (t, k + 2, y, x + 3, area // 2)]
            hierarchy += [((t, k), (t, k + 1)), ((t, k), (t, k + 2))]
    by_t: dict[int, list[int]] = {}
    for t, k, *_ in segments:
        by_t.setdefault(t, []).append(k)
    links = [
        ((t, a), (t + 1, b), float(rng.uniform(0, 1)))
        for t in range(n_frames - 1)
        for b in by_t[t + 1]
        for a in rng.choice(by_t[t], size=4, replace=False)
    ]
    return tables(segments, links, hierarchy)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_lp_shortcut_finds_the_branch_and_bound_optimum(seed: int) -> None:
    seg, lnk, hier = random_window(np.random.default_rng(seed))
    cfg = TrackingConfig(solution_gap=0.0)
    fast = solve_program(build_program(seg, lnk, hier, cfg, cell_area=500.0), cfg)
    assert fast.solver == "HiGHS"  # the default where highspy is installed (a dependency)
    plain = solve_program(build_program(seg, lnk, hier, cfg, cell_area=500.0), cfg, lp_first=False)
    assert fast.objective == pytest.approx(plain.objective, abs=1e-6)  # branch and bound agrees
    # CBC, the fallback, finds the same optimum
    cbc = TrackingConfig(solution_gap=0.0, solver="CBC")
    other = solve_program(build_program(seg, lnk, hier, cbc, cell_area=500.0), cbc)
    assert other.solver == "CBC" and other.objective == pytest.approx(fast.objective, abs=1e-6)
    # and the choice is a valid one: every chosen transition joins chosen segments
    ids = set(fast.segments.id)
    assert set(fast.transitions.source) <= ids and set(fast.transitions.target) <= ids


def test_contradicting_pins_are_one_clear_error() -> None:
    # a cell and its half exclude each other: pinning both in leaves no solution at all
    seg, lnk, hier = tables([(0, 1, 50, 50, 400), (0, 2, 50, 45, 200)], [], [((0, 1), (0, 2))])
    seg["pin"] = True
    with pytest.raises(SolveError, match=r"frames 0-0: the solver found no solution .* check pinned"):
        solve_program(build_program(seg, lnk, hier), where="frames 0-0")


def test_exclusion_has_one_clique_per_chain_of_the_hierarchy() -> None:
    # frame 0: 1 holds 2 and 3, 3 holds 4 and 5; 6 stands alone; 9 (outside the window) holds 7 and 8
    seg, _, hier = tables(
        [(0, k, 50, 50, 100) for k in (1, 2, 3, 4, 5, 6, 7, 8)],
        [],
        [((0, 1), (0, 2)), ((0, 1), (0, 3)), ((0, 3), (0, 4)), ((0, 3), (0, 5)), ((0, 9), (0, 7))],
    )
    hier.loc[len(hier)] = [sid(0, 9), sid(0, 8)]
    p = build_program(seg, pd.DataFrame(columns=["source", "target", "weight"]), hier)
    _, a, lower, upper = next(b for b in p.blocks if b[0] == "exclusion")
    k_of = {int(i): int(i) % 10**9 for i in seg.id}
    cliques = {
        frozenset(k_of[int(seg.id[c - p.col("node")[0]])] for c in a.tocsr()[r].indices)
        for r in range(a.shape[0])
    }
    # 7 and 8 share a parent outside the window, which excludes nothing between them
    assert cliques == {frozenset({1, 2}), frozenset({1, 3, 4}), frozenset({1, 3, 5})}
    assert (upper == 1).all() and np.isinf(lower).all()


@pytest.mark.parametrize("seed", [0, 3])
def test_a_fractional_lp_is_finished_around_its_fractions_with_a_proven_gap(
    seed: int, caplog: pytest.LogCaptureFixture
) -> None:
    # a small tangle whose LP relaxation is fractional, beside 60 easy tracks
    seg, lnk, hier = random_window(np.random.default_rng(seed), n_cells=4)
    easy = [(sid(t, 100 + c), t, 200.0 + c, 200.0, 500) for t in range(6) for c in range(60)]
    easy_links = [(sid(t, 100 + c), sid(t + 1, 100 + c), 0.9) for t in range(5) for c in range(60)]
    seg = pd.concat([seg, pd.DataFrame(easy, columns=seg.columns)], ignore_index=True)
    lnk = pd.concat([lnk, pd.DataFrame(easy_links, columns=lnk.columns)], ignore_index=True)
    cfg = TrackingConfig()
    with caplog.at_level("DEBUG", logger="neotrack.solve._solver"):
        fast = solve_program(build_program(seg, lnk, hier, cfg, cell_area=500.0), cfg)
    assert "fractional" in caplog.text and "branch and bound over the whole program" not in caplog.text
    exact = TrackingConfig(solution_gap=0.0)
    best = solve_program(build_program(seg, lnk, hier, exact, cell_area=500.0), exact, lp_first=False)
    # the gap reported is a proven one: the exact optimum lies within it
    assert 0 < fast.gap <= cfg.solution_gap
    assert fast.objective <= best.objective + 1e-6
    assert best.objective - fast.objective <= fast.gap * abs(fast.objective) + 1e-6


@pytest.mark.parametrize("seed", [0, 3])
def test_a_start_near_the_optimum_gives_the_same_optimum(seed: int) -> None:
    seg, lnk, hier = random_window(np.random.default_rng(seed))
    cfg = TrackingConfig(solution_gap=0.0)
    cold = solve_program(build_program(seg, lnk, hier, cfg, cell_area=500.0), cfg)
    p = build_program(seg, lnk, hier, cfg, cell_area=500.0)
    # the values of a choice are its objective
    assert p.cost @ p.values(cold.segments.id, cold.transitions) == pytest.approx(cold.objective)
    # the optimum with one selected segment pinned out, from the unpinned optimum and from a poor start
    out = int(cold.segments.id.iloc[len(cold.segments) // 2])
    seg["pin"] = np.where(seg.id == out, False, None)
    pinned = solve_program(build_program(seg, lnk, hier, cfg, cell_area=500.0), cfg)
    assert out not in set(pinned.segments.id)
    for start in ((cold.segments.id, cold.transitions), (seg.id[::3], lnk.iloc[::5])):
        warm = solve_program(build_program(seg, lnk, hier, cfg, cell_area=500.0), cfg, start=start)
        assert warm.objective == pytest.approx(pinned.objective, abs=1e-6)
        assert out not in set(warm.segments.id)


def test_a_kept_basis_starts_an_overlapping_program_and_never_changes_the_optimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import highspy

    iterations: list[int] = []  # of each LP and program HiGHS runs

    class Counting(highspy.Highs):  # type: ignore[misc]
        def run(self):  # type: ignore[no-untyped-def]
            found = super().run()
            iterations.append(int(self.getInfo().simplex_iteration_count))
            return found

    monkeypatch.setattr(highspy, "Highs", Counting)
    seg, lnk, hier = random_window(np.random.default_rng(7))
    cfg = TrackingConfig(solution_gap=0.0)
    p = build_program(seg, lnk, hier, cfg, cell_area=500.0)
    names = p.names()
    assert names.shape == (p.n_cols + p.n_rows, 3)
    named = names[names[:, 0] != 0]
    assert len(np.unique(named, axis=0)) == len(named) > 0.9 * len(names)  # each column and row once
    first = solve_program(p, cfg, keep_basis=True)
    assert first.basis is not None and len(first.basis.status) > 0
    # the later frames only, one of the chosen segments pinned out: other columns, rows and bounds
    later = seg[seg.t > seg.t.min()].copy()
    out = int(first.segments.id[first.segments.t > seg.t.min()].iloc[0])
    later["pin"] = np.where(later.id == out, False, None)
    q = build_program(later, lnk, hier, cfg, cell_area=500.0)
    found = first.basis.statuses_for(q)
    assert found is not None and (len(found[0]), len(found[1])) == (q.n_cols, q.n_rows)
    assert (found[0] != 0).any() and set(np.unique(np.concatenate(found))) <= {0, 1, 2}  # a real start
    iterations.clear()
    warm = solve_program(q, cfg, basis=first.basis)
    warm_iterations = iterations[0]
    iterations.clear()
    cold = solve_program(q, cfg)
    assert warm.objective == pytest.approx(cold.objective, abs=1e-6)
    assert warm_iterations < iterations[0] / 2  # the basis reached HiGHS: far fewer iterations
    assert out not in set(warm.segments.id)
    # a basis that names nothing of a program is no start; one of another program is only a start
    assert Basis(np.array([[1, 2, 3]]), np.array([1], np.int8)).statuses_for(q) is None
    seg2, lnk2, hier2 = random_window(np.random.default_rng(8))
    other = solve_program(build_program(seg2, lnk2, hier2, cfg, cell_area=500.0), cfg, keep_basis=True)
    assert other.basis is not None
    again = solve_program(q, cfg, basis=other.basis)
    assert again.objective == pytest.approx(cold.objective, abs=1e-6)


def test_anchors_that_leave_whole_chains_or_everything_out_still_make_a_program() -> None:
    # two frames of one cell and its halves each: every candidate is on a chain of the hierarchy
    segments = [
        (t, k, 50.0, 50.0 + 3 * (k - 2) * (k > 1), 600 if k == 1 else 300) for t in (0, 1) for k in (1, 2, 3)
    ]
    hierarchy = [((t, 1), (t, k)) for t in (0, 1) for k in (2, 3)]
    links = [((0, a), (1, b), 0.5) for a in (1, 2, 3) for b in (1, 2, 3)]
    seg, lnk, hier = tables(segments, links, hierarchy)
    cfg = TrackingConfig(solution_gap=0.0)
    # the right anchor keeps one half: the last chain (the other half and the cell) has nothing left
    chosen = solve_program(build_program(seg, lnk, hier, cfg, last_fixed={sid(1, 2)}), cfg)
    assert set(chosen.segments.id[chosen.segments.t == 1]) == {sid(1, 2)}
    # both anchors hold nothing: no column at all
    empty = build_program(seg, lnk, hier, cfg, first_fixed=set(), last_fixed=set())
    assert empty.n_cols == 0 and solve_program(empty, cfg).segments.empty


def test_an_anchor_leaves_its_unselected_candidates_out_of_the_program() -> None:
    seg, lnk, hier = random_window(np.random.default_rng(5))
    cfg = TrackingConfig(solution_gap=0.0)
    first = seg[seg.t == seg.t.min()]
    keep = set(first.id[(first.id % 3 == 1)].iloc[::2])  # every other whole cell (no overlaps)
    anchored = build_program(seg, lnk, hier, cfg, first_fixed=keep, cell_area=500.0)
    assert anchored.n_segments == len(seg) - (len(first) - len(keep))
    # the same choice, at the same cost (same size weighting), as with the anchor made of pins
    seg["pin"] = np.where(seg.id.isin(keep), True, np.where(seg.id.isin(first.id), False, None))
    pinned = build_program(seg, lnk, hier, cfg, free_first=True, cell_area=500.0)
    assert pinned.n_segments == len(seg)
    a, b = solve_program(anchored, cfg), solve_program(pinned, cfg)
    assert a.objective == pytest.approx(b.objective, abs=1e-6)
    assert set(a.segments.id) == set(b.segments.id)


def test_a_link_pinned_into_an_unselected_anchor_candidate_is_one_clear_error() -> None:
    # frame 1 is the right anchor, holding only candidate (1, 1); a link pinned into (1, 2)
    # contradicts it: an error, not a solution that silently drops the pin
    seg, lnk, hier = tables(
        [(0, 1, 50, 50, 400), (1, 1, 50, 52, 400), (1, 2, 80, 80, 400)],
        [((0, 1), (1, 1), 0.9), ((0, 1), (1, 2), 0.2)],
    )
    lnk["pin"] = [None, True]
    with pytest.raises(SolveError, match="check pinned"):
        solve_program(build_program(seg, lnk, hier, last_fixed={sid(1, 1)}))


def test_anchors_around_empty_frames_with_nothing_selected_choose_nothing() -> None:
    # the range (frame 1) holds no candidate and the anchors nothing selected: an empty choice
    seg, lnk, hier = tables([(0, 1, 50, 50, 400), (2, 1, 50, 50, 400)], [])
    chosen = solve_program(build_program(seg, lnk, hier, frames=(0, 2), first_fixed=set(), last_fixed=set()))
    assert chosen.segments.empty and chosen.transitions.empty and chosen.objective == 0.0


def test_size_weighting_counts_the_capped_areas_of_every_candidate_given() -> None:
    # two candidates, areas 100 and 300, capped at 200 (size_cap 1 x cell area 200): the reference
    # is the median of the capped areas (150), whether or not an anchor leaves one out
    seg, lnk, hier = tables([(0, 1, 10, 10, 100), (0, 2, 80, 80, 300)], [])
    cfg = TrackingConfig(size_cap=1.0)
    p = build_program(seg, lnk, hier, cfg, cell_area=200.0)
    node = p.cost[p.col("node")]
    assert node[1] / node[0] == pytest.approx(2.0)  # 200 / 100: the larger one counted up to the cap
    assert node[0] == pytest.approx(cfg.segment_weight * 100 / 150)


def merger_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Two nuclei (400 px) run into each other: one blob of 800 px at t 1-2 that no candidate
    separates, then apart again at t 3; each linked to the blob as well as one cell to half of it."""
    segments = [(0, 1, 50, 40, 400), (0, 2, 50, 60, 400), (1, 1, 50, 50, 800), (2, 1, 50, 50, 800)]
    segments += [(3, 1, 50, 40, 400), (3, 2, 50, 60, 400), (4, 1, 50, 38, 400), (4, 2, 50, 62, 400)]
    links = [((0, 1), (1, 1), 0.45), ((0, 2), (1, 1), 0.45), ((1, 1), (2, 1), 0.9)]
    links += [((2, 1), (3, 1), 0.45), ((2, 1), (3, 2), 0.45), ((3, 1), (4, 1), 0.9), ((3, 2), (4, 2), 0.9)]
    return tables(segments, links)


def test_a_merger_holds_both_cells_and_keeps_both_tracks_through_it() -> None:
    seg, lnk, hier = merger_tables()
    blob = {sid(1, 1), sid(2, 1)}

    def solved(k: int):  # type: ignore[no-untyped-def]
        cfg = TrackingConfig(max_objects_per_merger=k)
        return solve_program(build_program(seg, lnk, hier, cfg, cell_area=400.0), cfg)

    one = solved(1)  # one cell per segment: one track ends in the blob, and it "divides" after
    assert "cells" not in one.segments
    assert one.transitions.source.value_counts()[sid(2, 1)] == 2  # the false division
    assert one.transitions.target.value_counts()[sid(1, 1)] == 1  # the other cell lost
    two = solved(2)
    cells = dict(zip(two.segments.id, two.segments.cells, strict=True))
    assert {i: cells[i] for i in blob} == {i: 2 for i in blob}
    assert all(cells[i] == 1 for i in set(cells) - blob)
    pairs = ["source", "target"]
    carried = two.transitions.set_index(pairs).cells.to_dict()
    # every link is taken; the one inside the blob carries both cells, the others one each
    assert carried == {(s, t): 2 if {s, t} <= blob else 1 for s, t in lnk[pairs].itertuples(index=False)}
    # the same with CBC (integer columns above 1 through python-mip)
    cbc = TrackingConfig(max_objects_per_merger=2, solver="CBC")
    other = solve_program(build_program(seg, lnk, hier, cbc, cell_area=400.0), cbc)
    assert other.objective == pytest.approx(two.objective, abs=1e-6)
    assert dict(zip(other.segments.id, other.segments.cells, strict=True)) == cells


def test_a_long_merger_keeps_both_tracks() -> None:
    # two nuclei one blob (560 px, 1.4 cells) for 12 frames: with the default merger_weight the
    # blob holds both all along; at the former -0.02 per frame (0.24 in all) one track ending in the
    # blob and a false division after it (0.11) came cheaper, and the blob held one cell most of it
    n = 12
    segments = [(0, 1, 50, 40, 400), (0, 2, 50, 60, 400)]
    segments += [(t, 1, 50, 50, 560) for t in range(1, n + 1)]
    segments += [(t, k, 50, x, 400) for t in (n + 1, n + 2) for k, x in ((1, 40), (2, 60))]
    links = [((0, k), (1, 1), 0.45) for k in (1, 2)] + [((t, 1), (t + 1, 1), 0.9) for t in range(1, n)]
    links += [((n, 1), (n + 1, k), 0.45) for k in (1, 2)] + [((n + 1, k), (n + 2, k), 0.9) for k in (1, 2)]
    seg, lnk, hier = tables(segments, links)

    def blob_cells(weight: float) -> set[int]:
        cfg = TrackingConfig(max_objects_per_merger=2, merger_weight=weight)
        sol = solve_program(build_program(seg, lnk, hier, cfg, cell_area=400.0), cfg)
        assert len(sol.segments) == len(seg)  # every segment taken either way
        return set(sol.segments.cells[sol.segments.t.between(1, n)])

    assert blob_cells(TrackingConfig().merger_weight) == {2}
    assert blob_cells(-0.02) != {2}  # one of the two ends in the blob


def test_a_merger_must_fit_in_the_blob_and_pay_off_in_the_tracks() -> None:
    seg, lnk, hier = merger_tables()

    def blob_cells(areas: pd.DataFrame, weight: float = TrackingConfig().merger_weight) -> set[int]:
        cfg = TrackingConfig(max_objects_per_merger=2, merger_weight=weight)
        sol = solve_program(build_program(areas, lnk, hier, cfg, cell_area=400.0), cfg)
        return set(sol.segments.cells[sol.segments.t.isin([1, 2])])

    blob = seg.t.isin([1, 2])
    overlapping = seg.assign(area=seg.area.where(~blob, 560))  # 1.4 cells: two nuclei over each other
    assert blob_cells(overlapping) == {2}  # the default: two cells in, two out
    assert blob_cells(overlapping, -1.0) == {1}  # a merger dearer than a lost track and a false division
    young = seg.assign(area=seg.area.where(~blob, 460))  # 1.15 cells: two young nuclei over each other
    assert blob_cells(young) == {2}
    small = seg.assign(area=seg.area.where(~blob, 400))  # one nucleus's area: one cell, whatever the tracks
    assert blob_cells(small) == blob_cells(small, 0.0) == {1}
    # where the hierarchy offers the two cells apart, they are taken apart, as with one cell per segment
    segments = [
        (t, k, 50, 50 + dx, a) for t in range(3) for k, dx, a in ((1, 0, 800), (2, -10, 400), (3, 10, 400))
    ]
    links = [((t, k), (t + 1, k), 0.7) for t in range(2) for k in (1, 2, 3)]
    seg, lnk, hier = tables(segments, links, [((t, 1), (t, k)) for t in range(3) for k in (2, 3)])
    for k in (1, 2, 3):
        cfg = TrackingConfig(max_objects_per_merger=k)
        program = build_program(seg, lnk, hier, cfg, cell_area=400.0, free_first=False)
        assert set(solve_program(program, cfg).segments.id) == {sid(t, i) for t in range(3) for i in (2, 3)}


def test_a_nucleus_somewhat_larger_than_the_typical_one_is_still_one_cell() -> None:
    # one track of nuclei 1.1-1.4 typical cells large: the same choice with counts allowed
    segments = [(t, 1, 50, 50 + t, a) for t, a in enumerate((440, 470, 500, 530, 560))]
    seg, lnk, hier = tables(segments, [((t, 1), (t + 1, 1), 0.8) for t in range(4)])
    for k in (1, 2):
        cfg = TrackingConfig(max_objects_per_merger=k)
        sol = solve_program(build_program(seg, lnk, hier, cfg, cell_area=400.0), cfg)
        assert set(sol.segments.id) == set(seg.id) and len(sol.transitions) == 4
        assert k == 1 or (sol.segments.cells == 1).all()


def test_sisters_that_stay_one_blob_divide_into_it_where_its_shape_shows_two_cells() -> None:
    # a round cell runs into a blob of 1.5 cells' area for t 2-3, which then parts into two. With
    # the blob as long as two cells side by side (elongation 2, a single cell's 1), she divided into
    # it: one transition carries both daughters (more than its source holds), then one each; with
    # a round blob, or no shape evidence, she divides when the two are seen apart, at t 3 -> 4
    segments = [(0, 1, 50, 40, 400), (1, 1, 50, 42, 400), (2, 1, 50, 50, 600), (3, 1, 50, 50, 600)]
    segments += [(4, 1, 50, 40, 400), (4, 2, 50, 60, 400)]
    links = [((0, 1), (1, 1), 0.9), ((1, 1), (2, 1), 0.45), ((2, 1), (3, 1), 0.9)]
    links += [((3, 1), (4, 1), 0.45), ((3, 1), (4, 2), 0.45)]
    seg, lnk, hier = tables(segments, links)

    def solved(elongation: float, **settings: float):  # type: ignore[no-untyped-def]
        cfg = TrackingConfig(max_objects_per_merger=2, **settings)  # type: ignore[arg-type]
        shaped = seg.assign(elongation=np.where(seg.t.isin([2, 3]), elongation, 1.0))
        sol = solve_program(build_program(shaped, lnk, hier, cfg, cell_area=400.0), cfg)
        assert len(sol.transitions) == 5 and len(sol.segments) == len(seg)
        cells = dict(zip(sol.segments.id, sol.segments.cells, strict=True))
        carried = sol.transitions.set_index(["source", "target"]).cells.to_dict()
        return (
            cells[sid(2, 1)],
            carried[(sid(1, 1), sid(2, 1))],
            sol.transitions.cells[sol.transitions.source == sid(3, 1)].tolist(),
        )

    assert solved(2.0) == (2, 2, [1, 1])  # divided into the blob: both daughters over one transition
    assert solved(1.0) == (1, 1, [1, 1])  # a round blob: her division is the parting
    assert solved(2.0, merger_shape=0.0) == (1, 1, [1, 1])
    assert solved(2.0, division_weight=-1.0)[1] == 1  # a division dearer than a cell appearing in it


def test_shape_evidence_is_bounded_unknown_where_unmeasured_and_off_in_3d() -> None:
    # single cells (elongation 1) and candidates twice, four times as long, one not measured
    segments = [(0, k, 50, 20 * k, 400) for k in range(1, 5)] + [(0, k, 50, 20 * k, 600) for k in (5, 6, 7)]
    seg, lnk, hier = tables(segments, [])
    seg["elongation"] = [1.0, 1.0, 1.0, 1.0, 2.0, 4.0, None]
    p = build_program(seg, lnk, hier, TrackingConfig(max_objects_per_merger=2), cell_area=400.0)
    shape = shape_evidence(p, 0.02, 400.0)
    assert shape.tolist() == pytest.approx([-0.01] * 4 + [0.01, 0.02, 0.0])  # log2 4 = 2, bounded at 1.5
    assert not shape_evidence(p, 0.02, 400.0, planar=False).any()  # 3D: one slice thick says nothing
    assert not shape_evidence(p, 0.0, 400.0).any()


def test_an_anchored_merger_keeps_its_cells_whatever_this_window_s_typical_area() -> None:
    # the window before chose two cells for the blob at t 2; here the typical cell is larger, so
    # the blob's area alone would admit one: the anchor's count stands, and the program is solvable
    seg, lnk, hier = merger_tables()
    window = seg[seg.t >= 2]
    cfg = TrackingConfig(max_objects_per_merger=2)
    program = build_program(
        window, lnk, hier, cfg, first_fixed=[sid(2, 1)], fixed_cells={sid(2, 1): 2}, cell_area=700.0
    )
    chosen = solve_program(program, cfg)
    cells = dict(zip(chosen.segments.id, chosen.segments.cells, strict=True))
    assert cells[sid(2, 1)] == 2 and cells[sid(3, 1)] == cells[sid(3, 2)] == 1


def test_where_no_segment_fits_two_cells_the_counted_program_is_the_one_cell_program() -> None:
    seg, lnk, hier = random_window(np.random.default_rng(3))
    seg["area"] = 400
    programs = [
        build_program(seg, lnk, hier, TrackingConfig(max_objects_per_merger=k), cell_area=400.0)
        for k in (1, 2)
    ]
    (a1, lo1, hi1), (a2, lo2, hi2) = (p.matrix() for p in programs)
    assert a1.shape == a2.shape and (a1 != a2).nnz == 0
    for one, two in (
        (lo1, lo2),
        (hi1, hi2),
        *((getattr(programs[0], k), getattr(programs[1], k)) for k in ("cost", "lower", "upper")),
    ):
        np.testing.assert_array_equal(one, two)
    # a blob of two cells' area has count columns of its own; the other segments' counts are their choices
    seg.loc[0, "area"] = 800
    p = build_program(seg, lnk, hier, TrackingConfig(max_objects_per_merger=2), cell_area=400.0)
    own = p.col("cells") != p.col("node")
    assert own.tolist() == [True] + [False] * (len(seg) - 1)
    assert p.n_cols == programs[0].n_cols + 3  # cells, arrive, leave; its links lead to one-cell segments


def test_transitions_from_overlapping_candidates_into_a_blob_are_one_at_most() -> None:
    # frame 0: a blob of two cells' area (1) holds one cell each (2, 3); frame 1: a blob (1) that
    # each of them links to. Of 1 and 2 one at most is chosen, so one at most sends a transition,
    # and only when the blob is chosen: one row per chain of the frame before, none twice
    seg, lnk, hier = tables(
        [(0, 1, 50, 50, 800), (0, 2, 50, 40, 400), (0, 3, 50, 60, 400), (1, 1, 50, 50, 800)],
        [((0, k), (1, 1), 0.5) for k in (1, 2, 3)],
        [((0, 1), (0, 2)), ((0, 1), (0, 3))],
    )
    p = build_program(seg, lnk, hier, TrackingConfig(max_objects_per_merger=2), cell_area=400.0)
    _, a, lower, upper = next(b for b in p.blocks if b[0] == "edge_needs_target")
    a = a.tocsr()
    name = {int(c): f"edge {lnk.source[e] % 10**9}" for e, c in enumerate(p.col("edge"))}
    name |= {int(c): f"node {seg.id[i] // 10**9}.{seg.id[i] % 10**9}" for i, c in enumerate(p.col("node"))}
    rows = {
        frozenset((name[int(c)], v) for c, v in zip(a[r].indices, a[r].data, strict=True))
        for r in range(a.shape[0])
    }
    assert rows == {frozenset({("edge 1", 1.0), (f"edge {k}", 1.0), ("node 1.1", -1.0)}) for k in (2, 3)}
    assert (upper == 0).all() and np.isinf(lower).all()
