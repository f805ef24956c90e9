"""``solve``: windows of the candidate graph read with Cypher, solved, written back as lineages."""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Callable

import pandas as pd
from tqdm.auto import tqdm

from neotrack._parallel import map_tasks
from neotrack.config import Config, TrackingConfig
from neotrack.errors import InputError
from neotrack.solve._problem import TrackingProblem
from neotrack.solve._program import ProgramSolution, build_program, solve_program
from neotrack.solve._tracks import assign_tracks
from neotrack.solve._windows import WindowPlan, budget_sizes, plan_windows, two_passes
from neotrack.store import DatasetInfo, Stage, Store, Window, opened

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class SolveResult:
    dataset: str
    n_windows: int
    n_selected: int
    n_tracks: int
    n_divisions: int
    objective: float
    gap: float
    solver: str
    seconds: float


def solve(
    dataset: str, config: Config | None = None, store: Store | None = None, progress: bool = False
) -> SolveResult:
    """Choose segments and lineages of a linked dataset and write them into the graph.

    Frames are solved in windows (``tracking.window_size``, looking ``overlap_size`` frames ahead);
    each window's subgraph is read with Cypher, its integer program solved (HiGHS or CBC, or Gurobi), and
    the part it commits written back: ``selected`` segments, ``NEXT`` transitions; then track,
    parent-track and lineage ids. Solving again replaces the dataset's previous solution. The run's
    settings, package version, solver, objective and gap are recorded on the dataset.
    """
    config = config or Config()
    with opened(store) as opened_store:
        return _solve(opened_store, dataset, config, progress)


def _solve(store: Store, dataset: str, config: Config, progress: bool) -> SolveResult:
    with store.writing(dataset, Stage.SOLVE):
        info = store.info(dataset)
        info.require(Stage.LINK)
        if info.link.config == "import":
            raise InputError(
                f"dataset {dataset!r} holds an imported lineage and no candidate links: to track it "
                f"anew, run `neotrack link --dataset {dataset} --overwrite` first"
            )
        cfg = config.tracking
        counts = store.frame_counts(dataset)
        t_min = int(counts.index.min()) if len(counts) else 0
        plans = solve_plans(cfg, counts)
        if cfg.size_weighted and cfg.size_cap is not None and not info.props.get("cell_area"):
            log.info("dataset %r has no measured cell area: size weighting is not capped", dataset)
        started = time.perf_counter()
        store.begin_stage(dataset, Stage.SOLVE, config=config.model_dump_json(include={"tracking"}))
        read = functools.partial(_read_job, store, dataset, cfg, info)
        if config.data.n_workers > 1 and len(plans) >= 3:
            totals = _two_passes(
                store, dataset, plans, read, cfg.overlap_size, config.data.n_workers, progress
            )
        else:
            totals = _one_pass(store, dataset, plans, read, t_min, progress)
        objective, worst_gap, solver = totals
        selected, transitions = store.read_solution(dataset)
        tracks = assign_tracks(selected, transitions)
        store.write_tracks(dataset, tracks)
        n_divisions = int((transitions.groupby("source").size() == 2).sum())
        seconds = time.perf_counter() - started
        store.finish_stage(
            dataset,
            Stage.SOLVE,
            solver=solver,
            objective=objective,
            gap=worst_gap,
            windows=len(plans),
        )
    n_tracks = int(tracks.track_id.max()) if len(tracks) else 0
    log.info(
        "solved %r in %d window(s): %d segments in %d tracks, %d divisions, gap %.2g, %.1f s",
        dataset,
        len(plans),
        len(selected),
        n_tracks,
        n_divisions,
        worst_gap,
        seconds,
    )
    return SolveResult(
        dataset, len(plans), len(selected), n_tracks, n_divisions, objective, worst_gap, solver, seconds
    )


def solve_plans(cfg: TrackingConfig, counts: pd.Series) -> tuple[WindowPlan, ...]:
    """The windows ``solve`` solves the frames of ``counts`` (candidates per frame, by t) in:
    ``window_size`` frames each, else each as many frames as hold about ``window_candidates``
    candidates (all frames at once when the movie holds fewer), looking ``overlap_size`` ahead."""
    if counts.empty:
        return ()
    t_min, t_max = int(counts.index.min()), int(counts.index.max())
    if cfg.window_size is not None or counts.sum() <= cfg.window_candidates:
        return plan_windows(t_min, t_max, cfg.window_size, cfg.overlap_size)
    dense = counts.reindex(range(t_min, t_max + 1), fill_value=0).to_numpy()
    sizes = budget_sizes(dense, t_min, cfg.window_candidates, cfg.overlap_size + 3)
    plans = plan_windows(t_min, t_max, sizes, cfg.overlap_size)
    frames = [plan.stop - plan.start for plan in plans]
    log.info(
        "%d windows of %d-%d frames, each of at most about %d candidates (tracking.window_candidates)",
        len(plans),
        min(frames),
        max(frames),
        cfg.window_candidates,
    )
    return plans


@dataclasses.dataclass(frozen=True)
class _Job:
    """One window's tables and how its program is built: all a worker process needs."""

    window: Window
    frames: tuple[int, int]
    first_fixed: frozenset[int] | None
    last_fixed: frozenset[int] | None
    free_first: bool
    frame_shape: tuple[int, ...]
    cell_area: float | None
    config: TrackingConfig
    where: str


def _read_job(
    store: Store,
    dataset: str,
    cfg: TrackingConfig,
    info: DatasetInfo,
    start: int,
    stop: int,
    first_fixed: set[int] | None = None,
    last_fixed: set[int] | None = None,
    free_first: bool = False,
) -> _Job:
    """Frames [start, stop) read from the store (pins included), to be solved."""
    return _Job(
        store.read_window(dataset, start, stop, extra=["pin"]),
        (start, stop - 1),
        None if first_fixed is None else frozenset(first_fixed),
        None if last_fixed is None else frozenset(last_fixed),
        free_first,
        tuple((info.shape or ())[1:]),
        info.props.get("cell_area"),
        cfg,
        f"dataset {dataset!r}, frames {start}-{stop - 1}",
    )


def _solve_job(job: _Job) -> ProgramSolution | None:
    """What one window chose; None when it holds no candidate at all."""
    if job.window.segments.empty:
        log.info("%s: no candidates, nothing to solve", job.where)
        return None
    solution = solve_program(_program(job), job.config, job.where)
    log.debug(
        "%s: %d segments, %d transitions chosen", job.where, len(solution.segments), len(solution.transitions)
    )
    return solution


def _program(job: _Job, tighten: bool = True) -> TrackingProblem:
    return build_program(
        job.window.segments,
        job.window.links,
        job.window.hierarchy,
        job.config,
        frames=job.frames,
        first_fixed=job.first_fixed,
        last_fixed=job.last_fixed,
        free_first=job.free_first,
        frame_shape=job.frame_shape,
        cell_area=job.cell_area,
        tighten=tighten,
    )


Totals = tuple[float, float, str]
"""The windows' summed objective, their largest gap, the solver's name."""


def _commit(
    store: Store, dataset: str, solution: ProgramSolution, frames: tuple[int, int], sources: tuple[int, int]
) -> None:
    """Write the selection of frames [frames) and the transitions leaving frames [sources)."""
    chosen, edges = solution.segments, solution.transitions
    store.write_selection(dataset, chosen.id[(chosen.t >= frames[0]) & (chosen.t < frames[1])].tolist())
    store.write_transitions(dataset, edges[(edges.source_t >= sources[0]) & (edges.source_t < sources[1])])


def _one_pass(
    store: Store,
    dataset: str,
    plans: tuple[WindowPlan, ...],
    read: Callable[..., _Job],
    t_min: int,
    progress: bool,
) -> Totals:
    """Windows one after the other, each anchored on what the one before committed."""
    anchor: set[int] = set()
    objective, worst_gap, solver = 0.0, 0.0, "none"
    for plan in tqdm(plans, desc="solving", unit="window", disable=None if progress else True):
        job = read(
            plan.start,
            plan.stop,
            anchor if plan.anchored else None,
            None,
            plan.start == t_min or plan.anchored,
        )
        window = _solve_job(job)
        if window is None:  # no candidates in any frame of the window: nothing to choose
            anchor = set()
            continue
        objective, worst_gap, solver = objective + window.objective, max(worst_gap, window.gap), window.solver
        commit = (plan.commit_start, plan.commit_stop)
        _commit(store, dataset, window, commit, (plan.start, plan.commit_stop - 1))
        anchor = set(window.segments.id[window.segments.t == plan.commit_stop - 1].tolist())
    return objective, worst_gap, solver


def _two_passes(
    store: Store,
    dataset: str,
    plans: tuple[WindowPlan, ...],
    read: Callable[..., _Job],
    overlap_size: int,
    n_workers: int,
    progress: bool,
) -> Totals:
    """Every other window in parallel processes, then those between, anchored on both sides
    (``two_passes``); windows are read and written here, solved in the workers."""
    first, second = two_passes(plans, overlap_size)
    held: dict[int, set[int]] = {}  # what the first pass committed in the frames the second is anchored on
    objective, worst_gap, solver = 0.0, 0.0, "none"
    # a first-pass window's first frame is the movie's, or one it only looks back at: tracks there
    # began before, so appearing is free, as in an anchored window's first frame
    jobs = (read(b.start, b.stop, None, None, True) for b in first)
    for block, window in zip(
        first,
        map_tasks(_solve_job, jobs, n_workers, "solving first windows", len(first), progress),
        strict=True,
    ):
        if window is None:
            continue
        objective, worst_gap, solver = objective + window.objective, max(worst_gap, window.gap), window.solver
        commit = (block.commit_start, block.commit_stop)
        _commit(store, dataset, window, commit, (block.commit_start, block.commit_stop - 1))
        for t in (block.commit_start, block.commit_stop - 1):
            held[t] = set(window.segments.id[window.segments.t == t].tolist())
    jobs = (
        read(b.start, b.stop, held.get(b.start, set()), held.get(b.stop - 1, set()) if b.right else None)
        for b in second
    )
    for block, window in zip(
        second,
        map_tasks(_solve_job, jobs, n_workers, "solving windows between", len(second), progress),
        strict=True,
    ):
        if window is None:
            continue
        objective, worst_gap, solver = objective + window.objective, max(worst_gap, window.gap), window.solver
        _commit(store, dataset, window, (block.commit_start, block.commit_stop), (block.start, block.stop))
    return objective, worst_gap, solver


def window_program(
    store: Store,
    dataset: str,
    cfg: TrackingConfig,
    plan: WindowPlan,
    info: DatasetInfo,
    t_min: int,
    anchor: set[int] | None = None,
    tighten: bool = True,
) -> TrackingProblem | None:
    """The program of one planned window, read from the store (pins included), as ``solve``
    builds it; ``anchor``: the ids the previous window selected in this one's first frame. None
    when the window holds no candidate at all (``bench/bench_solve.py``)."""
    free_first = plan.start == t_min or plan.anchored  # an anchored window's tracks began before
    job = _read_job(
        store, dataset, cfg, info, plan.start, plan.stop, anchor if plan.anchored else None, None, free_first
    )
    return None if job.window.segments.empty else _program(job, tighten)
