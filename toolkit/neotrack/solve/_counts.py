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


def add_count_columns(p: TrackingProblem, k: int) -> None:
    """The count columns of ``p`` (before any row is added): 0..k each, ``misfit`` 0..k-1."""
    n = p.n_segments
    upper = [k, k, k, k - 1]
    for kind, top in zip(COUNT_KINDS, upper, strict=True):
        p.add_columns(kind, n, top)
    p.add_columns("flow", len(p.links), k)


def conserve_arrivals(p: TrackingProblem) -> None:
    """sum(flow_e for e into i) + arrive_i = cells_i: the cells a segment holds came over its
    transitions or appeared in it (the one-cell program's ``one_parent``, counted)."""
    n, seg = p.n_segments, np.arange(p.n_segments)
    p.add_rows(
        "conserve_arrivals",
        rows=np.concatenate([p.dst, seg, seg]),
        cols=np.concatenate([p.col("flow"), p.col("arrive"), p.col("cells")]),
        coefs=np.concatenate([np.ones(len(p.dst)), np.ones(n), -np.ones(n)]),
        lower=0.0,
        upper=0.0,
        n_rows=n,
    )


def conserve_departures(p: TrackingProblem) -> None:
    """cells_i + divide_i = sum(flow_e for e out of i) + leave_i: its cells go on over its
    transitions or end there; a division adds one (the one-cell program's ``flow_out``, counted).
    A merger parting into its cells is no division: two cells leave over two transitions."""
    n, seg = p.n_segments, np.arange(p.n_segments)
    p.add_rows(
        "conserve_departures",
        rows=np.concatenate([seg, seg, p.src, seg]),
        cols=np.concatenate([p.col("cells"), p.col("divide"), p.col("flow"), p.col("leave")]),
        coefs=np.concatenate([np.ones(2 * n), -np.ones(len(p.src)), -np.ones(n)]),
        lower=0.0,
        upper=0.0,
        n_rows=n,
    )


def counts_follow_choices(p: TrackingProblem, k: int) -> None:
    """b <= c <= k b for each count c and its binary b: node_i <= cells_i <= k node_i,
    edge_e <= flow_e <= k edge_e, appear_i <= arrive_i <= k appear_i, disappear_i <= leave_i <=
    k disappear_i: a count is positive exactly where its choice is made."""
    for count, binary in (("cells", "node"), ("flow", "edge"), ("arrive", "appear"), ("leave", "disappear")):
        c, b = p.col(count), p.col(binary)
        m, row = len(c), np.arange(len(c))
        for coef, lower, upper in ((1.0, 0.0, np.inf), (float(k), -np.inf, 0.0)):  # c >= b, c <= k b
            p.add_rows(
                f"{count}_follows_{binary}",
                rows=np.concatenate([row, row]),
                cols=np.concatenate([c, b]),
                coefs=np.concatenate([np.ones(m), -coef * np.ones(m)]),
                lower=lower,
                upper=upper,
                n_rows=m,
            )


def only_single_cells_divide(p: TrackingProblem, k: int) -> None:
    """cells_i + (k - 1) divide_i <= k: a dividing segment holds one cell (a merger's cells
    part; they do not divide while merged); and flow_e + (k - 1) divide_src(e) <= k: each of a
    division's transitions carries one cell, so its two cells leave over two transitions (one
    transition carrying both would be a division nobody sees)."""
    n, seg = p.n_segments, np.arange(p.n_segments)
    p.add_rows(
        "only_single_cells_divide",
        rows=np.concatenate([seg, seg]),
        cols=np.concatenate([p.col("cells"), p.col("divide")]),
        coefs=np.concatenate([np.ones(n), np.full(n, k - 1.0)]),
        lower=-np.inf,
        upper=float(k),
        n_rows=n,
    )
    m, link = len(p.src), np.arange(len(p.src))
    p.add_rows(
        "daughters_one_cell_each",
        rows=np.concatenate([link, link]),
        cols=np.concatenate([p.col("flow"), p.col("divide", p.src)]),
        coefs=np.concatenate([np.ones(m), np.full(m, k - 1.0)]),
        lower=-np.inf,
        upper=float(k),
        n_rows=m,
    )


def count_evidence(p: TrackingProblem, k: int, cell_area: float | None) -> None:
    """misfit_i >= |(cells_i - node_i) - q_i node_i|, q_i = clip(round(area_i / cell_area) - 1, 0,
    k - 1): the cells a selected segment holds beyond one, against those its area holds beyond one
    typical cell (``cell_area``; default the median of the window's candidates), in whole cells
    (so that misfit, an integer column, is exactly the difference: a nucleus of 1.2 typical ones
    holding one cell costs nothing). Its cost, ``merger_weight`` per cell of misfit (``counts``),
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


def counts(p: TrackingProblem, cfg: TrackingConfig, appear: np.ndarray, disappear: np.ndarray) -> None:
    """The objective with counts: appearing and disappearing cost per cell (``arrive``, ``leave``)
    rather than per segment, and ``merger_weight`` per cell of ``misfit``; the binary ``appear``
    and ``disappear`` cost nothing of their own."""
    p.cost[p.col("arrive")] = appear
    p.cost[p.col("leave")] = disappear
    p.cost[p.col("appear")] = 0.0
    p.cost[p.col("disappear")] = 0.0
    p.cost[p.col("misfit")] = cfg.merger_weight
