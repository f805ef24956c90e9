"""``solve``: windows of the candidate graph read with Cypher, solved, written back as lineages."""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Callable, Iterable, Iterator

import pandas as pd
from tqdm.auto import tqdm

from neotrack._parallel import map_tasks
from neotrack.candidates import CandidateMasks
from neotrack.candidates._masks import write_parts
from neotrack.config import Config, TrackingConfig
from neotrack.errors import InputError
from neotrack.solve._bases import BasisFolder, basis_folder
from neotrack.solve._gaps import close_gaps, gap_attrs, link_distance
from neotrack.solve._job import WindowJob, read_job, read_planned, solve_job
from neotrack.solve._mergers import Resolution, resolve_mergers
from neotrack.solve._program import ProgramSolution
from neotrack.solve._tracks import COLUMNS, assign_tracks
from neotrack.solve._windows import BlockPlan, WindowPlan, budget_sizes, plan_windows, two_passes
from neotrack.store import ID_STRIDE, DatasetInfo, Stage, Store, opened

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
        # mergers are split by their pixels: a dataset without masks is refused before anything changes
        masks = CandidateMasks(store, dataset) if cfg.max_objects_per_merger > 1 else None
        reach = link_distance(info) if cfg.max_gap > 1 else None  # (refused here too, when unknown)
        counts = store.frame_counts(dataset)
        plans = solve_plans(cfg, counts)
        if cfg.size_weighted and cfg.size_cap is not None and not info.props.get("cell_area"):
            log.info("dataset %r has no measured cell area: size weighting is not capped", dataset)
        started = time.perf_counter()
        store.begin_stage(dataset, Stage.SOLVE, config=config.model_dump_json(include={"tracking"}))
        bases = basis_folder(store, info)
        if bases is not None:
            bases.clear()  # the old solution's go with it
        commit = functools.partial(_commit, store, dataset, bases)
        if config.data.n_workers > 1 and len(plans) >= 3:
            read = functools.partial(read_job, store, dataset, cfg, info)
            totals = _two_passes(plans, read, commit, cfg.overlap_size, config.data.n_workers, progress)
        else:
            read = functools.partial(read_planned, store, dataset, cfg, info)
            totals = _one_pass(plans, read, commit, progress)
        objective, worst_gap, solver = totals.objective, totals.gap, totals.solver
        selected, transitions = store.read_solution(dataset)
        n_mergers = 0
        if masks is not None:
            selected, transitions, n_mergers = resolve_solution(
                store, dataset, info, masks, selected, transitions
            )
        gaps = transitions.iloc[:0]
        if reach is not None:  # tracks joined over missing frames
            frame_shape, voxel = tuple((info.shape or ())[1:]), tuple(info.voxel)
            gaps = close_gaps(selected, transitions, cfg, reach, frame_shape, voxel)
            store.write_transitions(dataset, gaps)
            transitions = pd.concat([transitions, gaps], ignore_index=True)
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
            mergers=n_mergers,
            **gap_attrs(gaps),
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


def resolve_solution(
    store: Store,
    dataset: str,
    info: DatasetInfo,
    masks: CandidateMasks,
    selected: pd.DataFrame,
    transitions: pd.DataFrame,
    keep: Iterable[int] = (),
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The solution's mergers split into their cells (``_mergers.py``) and stored
    (``store_resolution``, keeping the pixels of the cells ``keep``); the solution's segments and
    transitions as they are then, and how many mergers were resolved."""
    mergers, carried = store.read_counts(dataset)
    mergers = mergers[mergers.id.isin(selected.id)]  # (those resolved before, as an import's, stay)
    if mergers.empty:
        return selected, transitions, 0
    first_free = {
        t: int(masks.frame(t).segments.index.max()) % ID_STRIDE + 1 for t in set(mergers.id // ID_STRIDE)
    }
    frame_shape = tuple((info.shape or ())[1:])
    found = resolve_mergers(
        selected, transitions, mergers, carried, masks.mask, frame_shape, first_free, tuple(info.voxel)
    )
    return (*store_resolution(store, dataset, found, selected, transitions, keep), len(mergers))


def store_resolution(
    store: Store,
    dataset: str,
    found: Resolution,
    selected: pd.DataFrame,
    transitions: pd.DataFrame,
    keep: Iterable[int] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mergers resolved into their cells, stored: the cells' pixels first (beside those of the
    cells ``keep``, stored before in the same frames: an import's resolved mergers), then their
    segments, then the solution changed in one transaction. Returns
    the solution's segments (the columns ``selected`` shares with the cells) and transitions as
    they are then."""
    write_parts(store, dataset, found.pixels, keep=keep)
    store.write_parts(dataset, found.parts)
    store.update_solution(
        dataset,
        unselect=found.mergers,
        select=found.parts.id.tolist(),
        remove=found.remove,
        add=found.add,
        tracks=pd.DataFrame(columns=["id", *COLUMNS]),
    )
    kept = selected[~selected.id.isin(found.mergers)]
    stays = transitions.merge(found.remove, how="left", indicator=True)._merge == "left_only"
    return (
        pd.concat([kept, found.parts[kept.columns.intersection(found.parts.columns)]], ignore_index=True),
        pd.concat([transitions[stays.to_numpy()], found.add], ignore_index=True),
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


@dataclasses.dataclass
class _Totals:
    """The windows' summed objective, their largest gap, the solver's name."""

    objective: float = 0.0
    gap: float = 0.0
    solver: str = "none"

    def add(self, window: ProgramSolution) -> None:
        self.objective += window.objective
        self.gap = max(self.gap, window.gap)
        self.solver = window.solver


def _commit(
    store: Store,
    dataset: str,
    bases: BasisFolder | None,
    solution: ProgramSolution,
    frames: tuple[int, int],
    sources: tuple[int, int],
) -> None:
    """Write the selection of frames [frames) and the transitions leaving frames [sources); keep
    the LP basis of frames [frames) in ``bases``."""
    chosen, edges = solution.segments, solution.transitions
    kept = chosen[(chosen.t >= frames[0]) & (chosen.t < frames[1])]
    store.write_selection(dataset, kept.id.tolist(), kept.cells.tolist() if "cells" in kept else None)
    store.write_transitions(dataset, edges[(edges.source_t >= sources[0]) & (edges.source_t < sources[1])])
    if bases is not None and solution.basis is not None:
        bases.save(solution.basis, frames[0], frames[1] - 1)


def _one_pass(
    plans: tuple[WindowPlan, ...],
    read: Callable[..., WindowJob],
    commit: Callable[..., None],
    progress: bool,
) -> _Totals:
    """Windows one after the other, each anchored on what the one before committed."""
    anchor: dict[int, int] = {}
    totals = _Totals()
    for plan in tqdm(plans, desc="solving", unit="window", disable=None if progress else True):
        window = solve_job(read(plan, plans[0].start, anchor))  # plans[0] starts at the first frame
        if window is None:  # no candidates in any frame of the window: nothing to choose
            anchor = {}
            continue
        totals.add(window)
        commit(window, (plan.commit_start, plan.commit_stop), (plan.start, plan.commit_stop - 1))
        anchor = _held(window, plan.commit_stop - 1)
    return totals


def _two_passes(
    plans: tuple[WindowPlan, ...],
    read: Callable[..., WindowJob],
    commit: Callable[..., None],
    overlap_size: int,
    n_workers: int,
    progress: bool,
) -> _Totals:
    """Every other window in parallel processes, then those between, anchored on both sides
    (``two_passes``); windows are read and written here, solved in the workers."""
    first, second = two_passes(plans, overlap_size)
    totals = _Totals()
    # a first-pass window's first frame is the movie's, or one it only looks back at: tracks there
    # began before, so appearing is free, as in an anchored window's first frame
    jobs = (read(b.start, b.stop, None, None, True) for b in first)
    chosen = _pass(first, jobs, commit, n_workers, "solving first windows", progress, totals)
    held = {  # what the first pass committed in the frames the second is anchored on
        t: _held(window, t)
        for block, window in zip(first, chosen, strict=True)
        if window is not None
        for t in (block.commit_start, block.commit_stop - 1)
    }

    def between(b: BlockPlan) -> WindowJob:  # anchored on the first pass's frames on both sides
        left, right = held.get(b.start, {}), held.get(b.stop - 1, {}) if b.right else None
        return read(
            b.start, b.stop, left.keys(), None if right is None else right.keys(), False, left | (right or {})
        )

    jobs = (between(b) for b in second)
    _pass(second, jobs, commit, n_workers, "solving windows between", progress, totals)
    return totals


def _held(window: ProgramSolution, t: int) -> dict[int, int]:
    """The segments a window selected in frame ``t`` and the cells each holds."""
    chosen = window.segments[window.segments.t == t]
    cells = chosen.cells.tolist() if "cells" in chosen else [1] * len(chosen)
    return dict(zip(chosen.id.tolist(), cells, strict=True))


def _pass(
    blocks: list[BlockPlan],
    jobs: Iterator[WindowJob],
    commit: Callable[..., None],
    n_workers: int,
    desc: str,
    progress: bool,
    totals: _Totals,
) -> list[ProgramSolution | None]:
    """Solve one pass's windows in worker processes and commit each: its own frames, and the
    transitions leaving them (but for its last frame when it is unanchored there: those are the
    next window's, which is anchored on it)."""
    chosen: list[ProgramSolution | None] = []
    for block, window in zip(
        blocks, map_tasks(solve_job, jobs, n_workers, desc, len(blocks), progress), strict=True
    ):
        if window is None:
            chosen.append(window)
            continue
        totals.add(window)
        sources = (block.start, block.stop) if block.left else (block.commit_start, block.commit_stop - 1)
        commit(window, (block.commit_start, block.commit_stop), sources)
        chosen.append(dataclasses.replace(window, basis=None))  # (kept for its anchors; the basis is saved)
    return chosen
