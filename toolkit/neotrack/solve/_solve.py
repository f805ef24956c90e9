"""``solve``: windows of the candidate graph read with Cypher, solved, written back as lineages."""

from __future__ import annotations

import dataclasses
import logging
import time

from tqdm.auto import tqdm

from neotrack.config import Config, TrackingConfig
from neotrack.errors import InputError
from neotrack.solve._problem import TrackingProblem
from neotrack.solve._program import ProgramSolution, build_program, solve_program
from neotrack.solve._tracks import assign_tracks
from neotrack.solve._windows import WindowPlan, plan_windows
from neotrack.store import DatasetInfo, Stage, Store, opened

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
        t_min, t_max, n_candidates = store.time_range(dataset)
        plans = solve_plans(cfg, t_min, t_max, n_candidates)
        if cfg.size_weighted and cfg.size_cap is not None and not info.props.get("cell_area"):
            log.info("dataset %r has no measured cell area: size weighting is not capped", dataset)
        started = time.perf_counter()
        store.begin_stage(dataset, Stage.SOLVE, config=config.model_dump_json(include={"tracking"}))
        anchor: set[int] = set()
        objective, worst_gap, solver = 0.0, 0.0, "none"
        for plan in tqdm(plans, desc="solving", unit="window", disable=None if progress else True):
            window = _solve_window(store, dataset, config, plan, anchor, info, t_min)
            if window is None:  # no candidates in any frame of the window: nothing to choose
                anchor = set()
                continue
            chosen, edges, solver = window.segments, window.transitions, window.solver
            objective, worst_gap = objective + window.objective, max(worst_gap, window.gap)
            keep = chosen[(chosen.t >= plan.commit_start) & (chosen.t < plan.commit_stop)]
            kept_edges = edges[edges.source_t < plan.commit_stop - 1]
            store.write_selection(dataset, keep.id.tolist())
            store.write_transitions(dataset, kept_edges)
            anchor = set(chosen.id[chosen.t == plan.commit_stop - 1].tolist())
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


def solve_plans(cfg: TrackingConfig, t_min: int, t_max: int, n_candidates: int) -> tuple[WindowPlan, ...]:
    """The windows ``solve`` solves frames [t_min, t_max] in (``window_size``, ``overlap_size``)."""
    return plan_windows(t_min, t_max, window_size(cfg, t_max - t_min + 1, n_candidates), cfg.overlap_size)


def window_size(cfg: TrackingConfig, n_frames: int, n_candidates: int) -> int | None:
    """``cfg.window_size``, else the frames that hold about ``window_candidates`` candidates (logged)."""
    if cfg.window_size is not None or n_candidates <= cfg.window_candidates:
        return cfg.window_size
    per_frame = n_candidates / max(n_frames, 1)
    size = max(cfg.overlap_size + 3, round(cfg.window_candidates / per_frame))
    log.info(
        "tracking.window_size = %d (%.0f candidates per frame; windows of about %d candidates)",
        size,
        per_frame,
        cfg.window_candidates,
    )
    return size


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
    """The program of one planned window, read from the store (pins included); ``anchor``: the
    ids the previous window selected in this one's first frame. None when the window holds no
    candidate at all."""
    window = store.read_window(dataset, plan.start, plan.stop, extra=["pin"])
    if window.segments.empty:
        return None
    return build_program(
        window.segments,
        window.links,
        window.hierarchy,
        cfg,
        frames=(plan.start, plan.stop - 1),
        first_fixed=anchor if plan.anchored else None,
        free_first=plan.start == t_min or plan.anchored,  # an anchored window's tracks began before
        frame_shape=tuple((info.shape or ())[1:]),
        cell_area=info.props.get("cell_area"),
        tighten=tighten,
    )


def _solve_window(
    store: Store,
    dataset: str,
    config: Config,
    plan: WindowPlan,
    anchor: set[int],
    info: DatasetInfo,
    t_min: int,
) -> ProgramSolution | None:
    """What one window chose; None when the window holds no candidate at all."""
    p = window_program(store, dataset, config.tracking, plan, info, t_min, anchor)
    where = f"dataset {dataset!r}, frames {plan.start}-{plan.stop - 1}"
    if p is None:
        log.info("%s: no candidates, nothing to solve", where)
        return None
    solution = solve_program(p, config.tracking, where)
    log.debug(
        "%s: %d segments, %d transitions chosen", where, len(solution.segments), len(solution.transitions)
    )
    return solution
