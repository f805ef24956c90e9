"""One window of a stored dataset as a job: its tables read from the store, and how its program is
built. ``solve`` (one pass or two, in worker processes), ``solve_window`` and the bench share it."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping

from neotrack.config import TrackingConfig
from neotrack.solve._problem import TrackingProblem
from neotrack.solve._program import ProgramSolution, build_program, solve_program
from neotrack.solve._windows import WindowPlan
from neotrack.store import DatasetInfo, Store, Window

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class WindowJob:
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
    fixed_cells: Mapping[int, int] = dataclasses.field(default_factory=dict)
    """Cells held by anchored segments where more than one (mergers chosen outside the window)."""

    def program(self, tighten: bool = True) -> TrackingProblem:
        """The window's program (``build_program``)."""
        return build_program(
            self.window.segments,
            self.window.links,
            self.window.hierarchy,
            self.config,
            frames=self.frames,
            first_fixed=self.first_fixed,
            last_fixed=self.last_fixed,
            fixed_cells=self.fixed_cells,
            free_first=self.free_first,
            frame_shape=self.frame_shape,
            cell_area=self.cell_area,
            tighten=tighten,
        )


def read_job(
    store: Store,
    dataset: str,
    cfg: TrackingConfig,
    info: DatasetInfo,
    start: int,
    stop: int,
    first_fixed: Iterable[int] | None = None,
    last_fixed: Iterable[int] | None = None,
    free_first: bool = False,
    fixed_cells: Mapping[int, int] | None = None,
) -> WindowJob:
    """Frames [start, stop) read from the store (pins included), anchored on ``first_fixed`` /
    ``last_fixed`` (the ids held selected in its first / last frame) where given, holding
    ``fixed_cells`` cells where more than one."""
    return WindowJob(
        store.read_window(
            dataset, start, stop, ["pin"], ["elongation"] if cfg.max_objects_per_merger > 1 else []
        ),
        (start, stop - 1),
        None if first_fixed is None else frozenset(first_fixed),
        None if last_fixed is None else frozenset(last_fixed),
        free_first,
        tuple((info.shape or ())[1:]),
        info.props.get("cell_area"),
        cfg,
        f"dataset {dataset!r}, frames {start}-{stop - 1}",
        dict(fixed_cells or {}),
    )


def read_planned(
    store: Store,
    dataset: str,
    cfg: TrackingConfig,
    info: DatasetInfo,
    plan: WindowPlan,
    t_min: int,
    anchor: Mapping[int, int] | None = None,
) -> WindowJob:
    """The job of one window of a one-pass solve; ``anchor``: the ids the previous window
    selected in this one's first frame, with the cells each holds. Tracks in the movie's first
    frame, or in an anchored window's, began before: appearing there is free."""
    free_first = plan.start == t_min or plan.anchored
    first_fixed = (anchor or {}).keys() if plan.anchored else None
    return read_job(store, dataset, cfg, info, plan.start, plan.stop, first_fixed, None, free_first, anchor)


def solve_job(job: WindowJob) -> ProgramSolution | None:
    """What one window chose, with its LP's optimal basis (``_bases.py``); None when it holds
    no candidate at all."""
    if job.window.segments.empty:
        log.info("%s: no candidates, nothing to solve", job.where)
        return None
    solution = solve_program(job.program(), job.config, job.where, keep_basis=True)
    log.debug(
        "%s: %d segments, %d transitions chosen", job.where, len(solution.segments), len(solution.transitions)
    )
    return solution
