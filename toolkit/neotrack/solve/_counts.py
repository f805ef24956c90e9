"""Cells per segment (ilastik's conservation tracking): a segment may hold several cells.

With ``max_objects_per_merger = K > 1`` a selected segment holds 1..K cells (a *merger* when more
than one: touching or overlapping nuclei that segmentation cannot separate) and a transition carries
1..K of them. Counts are conserved: the cells that arrive in a segment (over its transitions, or
appearing) are the cells it holds, and those it holds (plus one when it divides) leave it (over its
transitions, or disappearing). The binary variables of the one-cell program keep their meaning
(``node``: selected, ``edge``: a transition, ``appear``/``disappear``: some cell starts/ends there,
``divide``), so exclusion, pins and anchors act on them as before; the counts are columns of their
own, added only when ``K > 1``: with ``K = 1`` the program is exactly the one-cell program.

Columns per segment (``COUNT_KINDS``): ``cells`` (0..K), ``arrive`` (cells appearing, 0..K),
``leave`` (cells ending, 0..K), ``misfit`` (how far the count lies from what the segment's size
says, see ``count_evidence``); per link: ``flow`` (cells carried, 0..K).
"""

from __future__ import annotations

import numpy as np

from neotrack.config import TrackingConfig
from neotrack.errors import InputError
from neotrack.solve import _constraints as cons
from neotrack.solve._problem import TrackingProblem

COUNT_KINDS = ("cells", "arrive", "leave", "misfit")


def require_one_cell(cfg: TrackingConfig) -> None:
    """Refuse counts where the store is written: its solution, track ids and exports hold one cell
    per segment so far (mergers there, and their resolution into cells, are the next step)."""
    if cfg.max_objects_per_merger > 1:
        raise InputError(
            f"tracking.max_objects_per_merger = {cfg.max_objects_per_merger}: solving a dataset in the "
            "store takes 1 (one cell per segment) for now; programs built from tables "
            "(neotrack.solve.build_program) solve mergers"
        )


def add_counts(p: TrackingProblem, k: int, cell_area: float | None) -> None:
    """The count columns of ``p`` and their rows, in place of the one-cell program's
    ``one_parent`` and ``flow_out``; before any other row (rows are built against the columns
    there are)."""
    for kind, top in zip(COUNT_KINDS, (k, k, k, k - 1), strict=True):
        p.add_columns(kind, p.n_segments, top)
    p.add_columns("flow", len(p.links), k)
    conserve(p)
    counts_follow_choices(p, k)
    only_single_cells_divide(p, k)
    count_evidence(p, k, cell_area)


def conserve(p: TrackingProblem) -> None:
    """sum(flow_e for e into i) + arrive_i = cells_i: the cells a segment holds came over its
    transitions or appeared in it; cells_i + divide_i = sum(flow_e for e out of i) + leave_i: they
    go on over its transitions or end there, and a division adds one. These are the one-cell
    program's ``one_parent`` and ``flow_out`` over the counts; a merger parting into its cells is
    no division: two cells leave over two transitions."""
    cons.one_parent(p, edge="flow", appear="arrive", node="cells", name="conserve_arrivals")
    cons.flow_out(p, node="cells", edge="flow", disappear="leave", name="conserve_departures")


def counts_follow_choices(p: TrackingProblem, k: int) -> None:
    """b <= c <= k b for each count c and its binary b: node_i <= cells_i <= k node_i,
    edge_e <= flow_e <= k edge_e, appear_i <= arrive_i <= k appear_i, disappear_i <= leave_i <=
    k disappear_i: a count is positive exactly where its choice is made."""
    for count, binary in (("cells", "node"), ("flow", "edge"), ("arrive", "appear"), ("leave", "disappear")):
        c, b = p.col(count), p.col(binary)
        name = f"{count}_follows_{binary}"
        p.add_pairs(name, c, b, -1.0, 0.0, np.inf)  # c >= b
        p.add_pairs(name, c, b, -float(k), -np.inf, 0.0)  # c <= k b


def only_single_cells_divide(p: TrackingProblem, k: int) -> None:
    """cells_i + (k - 1) divide_i <= k: a dividing segment holds one cell (a merger's cells
    part; they do not divide while merged); and flow_e + (k - 1) divide_src(e) <= k: each of a
    division's transitions carries one cell, so its two cells leave over two transitions (one
    transition carrying both would be a division nobody sees)."""
    p.add_pairs("only_single_cells_divide", p.col("cells"), p.col("divide"), k - 1.0, -np.inf, float(k))
    p.add_pairs("daughters_one_cell_each", p.col("flow"), p.col("divide", p.src), k - 1.0, -np.inf, float(k))


def count_evidence(p: TrackingProblem, k: int, cell_area: float | None) -> None:
    """misfit_i >= |(cells_i - node_i) - q_i node_i|, q_i = clip(round(area_i / cell_area) - 1, 0,
    k - 1): the cells a selected segment holds beyond one, against those its area holds beyond one
    typical cell (``cell_area``; default the median of the window's candidates), in whole cells
    (so that misfit, an integer column, is exactly the difference: a nucleus of 1.2 typical ones
    holding one cell costs nothing). Its cost, ``merger_weight`` per cell of misfit (``costs``),
    keeps a cell-sized segment at one cell and makes a two-cell blob cheaper as a merger of two
    than as one cell that lost its neighbour."""
    area = p.segments.area.to_numpy(dtype=float)
    typical = cell_area or (float(np.median(area)) if len(area) else 1.0)
    q = np.clip(np.round(area / typical) - 1.0, 0.0, k - 1.0)
    n, seg = p.n_segments, np.arange(p.n_segments)
    cols = np.concatenate([p.col("misfit"), p.col("cells"), p.col("node")])
    rows = np.concatenate([seg, seg, seg])
    for sign in (1.0, -1.0):  # misfit - sign (cells - (1 + q) node) >= 0
        p.add_rows(
            "count_evidence",
            rows=rows,
            cols=cols,
            coefs=np.concatenate([np.ones(n), -sign * np.ones(n), sign * (1.0 + q)]),
            lower=0.0,
            upper=np.inf,
            n_rows=n,
        )


def costs(p: TrackingProblem, cfg: TrackingConfig, appear: np.ndarray, disappear: np.ndarray) -> None:
    """The objective's count terms: appearing and disappearing cost per cell (``arrive``,
    ``leave``: the one-cell program's per-segment costs ``appear`` and ``disappear``), and
    ``merger_weight`` per cell of ``misfit``; the binary ``appear`` and ``disappear`` cost nothing."""
    p.cost[p.col("arrive")] = appear
    p.cost[p.col("leave")] = disappear
    p.cost[p.col("misfit")] = cfg.merger_weight
