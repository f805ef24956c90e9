"""One window's integer program built from tables and solved: no server involved.

``solve`` reads each window from Neo4j and calls these two functions; notebooks and tests call them
on DataFrames directly, to see what a window's program holds and what it chooses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from neotrack.config import TrackingConfig
from neotrack.solve import _constraints as cons
from neotrack.solve import _costs as costs
from neotrack.solve import _counts as counted
from neotrack.solve._bases import Basis
from neotrack.solve._problem import TrackingProblem
from neotrack.solve._solver import optimize, solver_name
from neotrack.store import ID_STRIDE


@dataclasses.dataclass(frozen=True)
class ProgramSolution:
    """What a window's program chose: ``segments`` (id, t) and ``transitions`` (source, target,
    source_t); the objective, the solver's relative gap (0 when the LP relaxation was integral)
    and the solver's name. With ``max_objects_per_merger`` above 1 both tables have a ``cells``
    column: the cells a segment holds (above 1: a merger), the cells a transition carries.
    ``basis``: the LP relaxation's optimal basis, where asked for and HiGHS solved it."""

    segments: pd.DataFrame
    transitions: pd.DataFrame
    objective: float
    gap: float
    solver: str
    basis: Basis | None = None


def build_program(
    segments: pd.DataFrame,
    links: pd.DataFrame,
    hierarchy: pd.DataFrame | None = None,
    config: TrackingConfig | None = None,
    *,
    frames: tuple[int, int] | None = None,
    first_fixed: Iterable[int] | None = None,
    last_fixed: Iterable[int] | None = None,
    fixed_cells: Mapping[int, int] | None = None,
    free_first: bool = True,
    frame_shape: tuple[int, ...] | None = None,
    cell_area: float | None = None,
    tighten: bool = True,
) -> TrackingProblem:
    """The integer program of one window (the formulas: ``_constraints.py``, ``_costs.py``).

    ``segments``: ``id, t, y, x, area`` (and ``z``; a boolean ``pin`` column forces segments in or
    out where it is not null); ``links``: ``source, target, weight`` (and ``pin``); ``hierarchy``:
    ``parent, child`` of candidates that contain one another. ``frames`` = (first, last) frame
    (default: those of the segments). ``first_fixed``: the ids selected in the first frame when the
    window continues a solution on its left (the anchor); those tracks began earlier, so appearing
    there is free, as it is in the movie's first frame when ``free_first``. ``last_fixed``: the ids
    selected in the last frame when the window is followed by a solution it must meet (the right
    anchor of ``solve_window``); the other segments of that frame stay out. Pins of an anchored
    frame are ignored: it is held as it was chosen (``fixed_cells``: how many cells its segments
    hold where that is more than one, with ``max_objects_per_merger`` above 1). ``frame_shape`` places
    the border for ``image_border_size``; ``cell_area`` is the typical cell's area, up to
    ``size_cap`` times which size weighting counts a candidate's area (and of which a merger's
    cells cover ``merger_area`` each). ``tighten=False`` leaves
    out ``edge_needs_source``, which integer solutions do not need: only to measure what it brings
    to the LP relaxation (``bench/bench_solve.py``).
    """
    cfg = config or TrackingConfig()
    hierarchy = pd.DataFrame({"parent": [], "child": []}) if hierarchy is None else hierarchy
    if frames is None and len(segments):
        frames = (int(segments.t.min()), int(segments.t.max()))
    all_areas = segments.area.to_numpy(dtype=float) if "area" in segments else None  # before any drop
    segments = _without_unselected_anchors(segments, links, frames, first_fixed, last_fixed)
    p = TrackingProblem.create(segments, links, hierarchy, frames)
    k = cfg.max_objects_per_merger
    if k > 1:  # cells counted: conservation over counts instead of one parent / one successor
        counted.add_counts(p, k, cell_area, cfg.merger_area, fixed_cells)
    else:
        cons.one_parent(p)
        cons.flow_out(p)
    if tighten:
        cons.edge_needs_source(p)
    cons.division_needs_segment(p)
    cons.exclusion(p)
    held = np.zeros(len(p.segments), bool)  # anchored frames: held to a choice made outside
    for fixed, frame in ((first_fixed, p.first), (last_fixed, p.last)):
        if fixed is not None:
            cons.anchor(p, set(fixed), frame)
            if k > 1:
                counted.anchor_counts(p, frame, fixed_cells or {})
            held |= frame
    for value in (True, False):  # pins: True forced in, False forced out, null free; not on anchors
        if "pin" in p.segments:
            cons.fixed_segments(p, np.flatnonzero((p.segments.pin == value).to_numpy() & ~held), int(value))
        if "pin" in p.links:
            cons.fixed_links(p, np.flatnonzero((p.links.pin == value).to_numpy()), int(value))
    ramp = costs.border_ramp(p.segments, cfg, frame_shape or ())
    size = costs.relative_areas(p, cfg, cell_area, all_areas)
    p.cost[p.col("edge")] = costs.transitions(p, cfg, size)
    p.cost[p.col("divide")] = costs.divisions(p, cfg)
    p.cost[p.col("node")] = costs.segments(p, cfg, size)
    appear = costs.appearances(p, cfg, ramp, free_first or first_fixed is not None)
    disappear = costs.disappearances(p, cfg, ramp)
    if k > 1:  # per cell appearing or ending, per cell beyond one
        counted.costs(p, cfg, appear, disappear, cell_area, planar=len(frame_shape or ()) < 3)
    else:
        p.cost[p.col("appear")], p.cost[p.col("disappear")] = appear, disappear
    return p


def _without_unselected_anchors(
    segments: pd.DataFrame,
    links: pd.DataFrame,
    frames: tuple[int, int] | None,
    first_fixed: Iterable[int] | None,
    last_fixed: Iterable[int] | None,
) -> pd.DataFrame:
    """The segments less those of an anchored frame that the anchor leaves out: they could only
    be columns fixed at 0 (and their links, rows), which the LP would still carry; a fifth of an
    anchored 12-frame window. Their links go with them (``TrackingProblem.create``). A segment
    that a link pinned in touches stays: that pin contradicts the anchor, and must say so."""
    if (first_fixed is None and last_fixed is None) or frames is None:
        return segments
    t = segments.t.to_numpy()
    first, last = frames
    drop = np.zeros(len(segments), bool)
    ids = segments.id.to_numpy(dtype=np.int64)
    for fixed, frame in ((first_fixed, first), (last_fixed, last)):
        if fixed is not None:
            drop |= (t == frame) & ~np.isin(ids, np.fromiter(fixed, dtype=np.int64))
    if "pin" in links and drop.any():
        pinned = links[(links.pin == True).to_numpy()]  # noqa: E712 (null: not pinned)
        drop &= ~np.isin(ids, np.concatenate([pinned.source, pinned.target]).astype(np.int64))
    return segments[~drop] if drop.any() else segments


def solve_program(
    p: TrackingProblem,
    config: TrackingConfig | None = None,
    where: str = "window",
    *,
    lp_first: bool = True,
    start: tuple[Iterable[int], pd.DataFrame] | None = None,
    basis: Basis | None = None,
    keep_basis: bool = False,
) -> ProgramSolution:
    """Solve a built program: the LP relaxation first, branch and bound only when it is fractional
    (``lp_first=False``: branch and bound straight away).

    HiGHS starts its LP from ``basis``, the optimal basis of an overlapping program (other
    frames, other pins: ``_bases.py``) where it names any of this one's columns and rows, else
    from ``start``: a choice near the optimum — selected segment ids and transitions (``source,
    target``), as a window chose before a pin. The result is the same; it comes sooner.
    ``keep_basis``: the solution carries its LP's optimal basis, for the next such start.

    Raises ``SolveError`` naming ``where`` when there is no solution (contradicting pins).
    """
    cfg = config or TrackingConfig()
    if p.n_cols == 0:  # nothing to choose (e.g. anchors with nothing selected around empty frames)
        segments = pd.DataFrame({"id": np.zeros(0, np.int64), "t": np.zeros(0, np.int64)})
        transitions = pd.DataFrame({k: np.zeros(0, np.int64) for k in ("source", "target", "source_t")})
        if "cells" in p.counted:
            segments["cells"] = transitions["cells"] = np.zeros(0, np.int64)
        return ProgramSolution(segments, transitions, 0.0, 0.0, solver_name(cfg))
    names = p.names() if basis is not None or keep_basis else None  # (made once for both)
    statuses = None if basis is None else basis.statuses_for(p, names)
    x0 = None if start is None or statuses is not None or p.counted else p.values(*start)  # no counts
    best = optimize(p, cfg, where, lp_first=lp_first, start=x0, basis=statuses, keep_basis=keep_basis)
    node = best.x[p.col("node")] > 0.5
    edge = best.x[p.col("edge")] > 0.5
    chosen = p.segments.loc[node, ["id", "t"]].reset_index(drop=True)
    edges = p.links.loc[edge, ["source", "target"]].reset_index(drop=True)
    edges["source_t"] = edges.source // ID_STRIDE
    if "cells" in p.counted:
        chosen["cells"] = best.x[p.col("cells")][node].astype(np.int64)
        edges["cells"] = best.x[p.col("flow")][edge].astype(np.int64)
    kept = None if best.basis is None or names is None else Basis.of(p, *best.basis, names)
    return ProgramSolution(chosen, edges, best.objective, best.gap, best.solver, kept)
