"""Cells per segment (ilastik's conservation tracking): a segment may hold several cells.

With ``max_objects_per_merger = K > 1`` a selected segment holds 1..K cells (a *merger* when more
than one: touching or overlapping nuclei that segmentation cannot separate) and a transition carries
1..K of them. Counts are conserved: the cells that arrive in a segment (over its transitions, or
appearing) are the cells it holds, and those it holds (plus one when it divides) leave it (over its
transitions, or disappearing). The binary variables of the one-cell program keep their meaning
(``node``: selected, ``edge``: a transition, ``appear``/``disappear``: some cell starts/ends there,
``divide``), so exclusion, pins and anchors act on them as before; the counts are columns of their
own, added only when ``K > 1``: with ``K = 1`` the program is exactly the one-cell program.

Columns per segment (``COUNT_KINDS``): ``cells`` (0..K, at most what its size can hold:
``capacity``), ``arrive`` (cells appearing), ``leave`` (cells ending); per link: ``flow`` (cells
carried).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np

from neotrack.config import TrackingConfig
from neotrack.errors import InputError
from neotrack.solve import _constraints as cons
from neotrack.solve._problem import TrackingProblem

COUNT_KINDS = ("cells", "arrive", "leave")


def require_one_cell(cfg: TrackingConfig, solved_with: str | None) -> None:
    """Refuse counts in ``solve_window``: a range solved again holds one cell per segment for now
    (mergers in a range, resolved again around its anchors, are a later step); ``solved_with``:
    the settings the dataset was solved with (JSON), whose mergers the range could not keep."""
    try:
        before = json.loads(solved_with or "{}").get("tracking", {}).get("max_objects_per_merger", 1)
    except (ValueError, AttributeError):  # an imported lineage ("import"): one cell per segment
        before = 1
    if max(cfg.max_objects_per_merger, before) > 1:
        raise InputError(
            f"tracking.max_objects_per_merger = {max(cfg.max_objects_per_merger, before)}: solve_window "
            "solves one cell per segment for now; run `neotrack solve` for the whole dataset instead"
        )


def anchor_counts(p: TrackingProblem, frame: np.ndarray, held: Mapping[int, int]) -> None:
    """cells_i = h_i for the selected segments of an anchored frame (``frame`` flags it; call it
    after ``anchor``): they hold what the solution outside the window chose, ``held`` (id ->
    cells; 1 where it says nothing)."""
    where = np.flatnonzero(frame & (p.lower[p.col("node")] == 1))
    ids = p.segments.id.to_numpy()[where]
    p.fix(p.col("cells", where), np.array([held.get(int(i), 1) for i in ids], dtype=float))


def add_counts(
    p: TrackingProblem,
    k: int,
    cell_area: float | None,
    size_cap: float | None,
    held: Mapping[int, int] | None = None,
) -> None:
    """The count columns of ``p`` and their rows, in place of the one-cell program's
    ``one_parent`` and ``flow_out``; before any other row (rows are built against the columns
    there are). ``held``: cells of anchored segments chosen outside the window, which their
    capacity admits whatever this window's typical area says."""
    for kind in COUNT_KINDS:
        p.add_columns(kind, p.n_segments, k)
    p.add_columns("flow", len(p.links), k)
    conserve(p)
    n = capacity(p, k, cell_area, size_cap)
    if held:
        outside = p.segments.id.map(held).fillna(1).to_numpy(dtype=float)
        n = np.maximum(n, outside)
    counts_follow_choices(p, n)
    only_single_cells_divide(p, k)
    edge_needs_target(p)


def edge_needs_target(p: TrackingProblem) -> None:
    """edge_e <= node_dst(e): a transition leads into a selected segment only. The one-cell
    program's ``one_parent`` says so; over counts it is implied for integer solutions only, and
    without it the relaxation led whole transitions into half-chosen segments large enough for
    two cells."""
    p.add_pairs("edge_needs_target", p.col("edge"), p.col("node", p.dst), -1.0, -np.inf, 0.0)


def capacity(p: TrackingProblem, k: int, cell_area: float | None, size_cap: float | None) -> np.ndarray:
    """n_i = clip(ceil(area_i / (size_cap cell_area)), 1, k): the cells segment i can hold, each
    at most ``size_cap`` typical cells large (``cell_area``: default the median of the window's
    candidates; ``size_cap`` default 1.25, as a nucleus grows that much over its cycle). Two nuclei
    overlapping into one blob of 1.3-2.5 cells' area can be two; a segment of one cell's area is
    one, however many tracks could lead into it (``size_cap`` None: 1.25 here all the same). The
    size is the evidence until a learned object count takes its place."""
    area = p.segments.area.to_numpy(dtype=float)
    typical = cell_area or (float(np.median(area)) if len(area) else 1.0)
    return np.clip(np.ceil(area / (typical * (size_cap or 1.25))), 1.0, float(k))


def conserve(p: TrackingProblem) -> None:
    """sum(flow_e for e into i) + arrive_i = cells_i: the cells a segment holds came over its
    transitions or appeared in it; cells_i + divide_i = sum(flow_e for e out of i) + leave_i: they
    go on over its transitions or end there, and a division adds one. These are the one-cell
    program's ``one_parent`` and ``flow_out`` over the counts; a merger parting into its cells is
    no division: two cells leave over two transitions."""
    cons.one_parent(p, edge="flow", appear="arrive", node="cells", name="conserve_arrivals")
    cons.flow_out(p, node="cells", edge="flow", disappear="leave", name="conserve_departures")


def counts_follow_choices(p: TrackingProblem, n: np.ndarray) -> None:
    """b <= c <= m b for each count c and its binary b, m the most cells there can be: node_i <=
    cells_i <= n_i node_i, appear_i <= arrive_i <= n_i appear_i, disappear_i <= leave_i <= n_i
    disappear_i, and edge_e <= flow_e <= min(n_src, n_dst) edge_e (``capacity``): a count is
    positive exactly where its choice is made. Where m is 1 the count is its binary, so away from
    segments large enough for a merger the program is the one-cell program, LP relaxation and all
    (with one bound k everywhere the relaxation could carry whole cells on half-chosen
    transitions, and branch and bound took a minute a window)."""
    flow_cap = np.minimum(n[p.src], n[p.dst])
    for count, binary, m in (
        ("cells", "node", n),
        ("flow", "edge", flow_cap),
        ("arrive", "appear", n),
        ("leave", "disappear", n),
    ):
        c, b = p.col(count), p.col(binary)
        name = f"{count}_follows_{binary}"
        p.add_pairs(name, c, b, -1.0, 0.0, np.inf)  # c >= b
        p.add_pairs(name, c, b, -m, -np.inf, 0.0)  # c <= m b


def only_single_cells_divide(p: TrackingProblem, k: int) -> None:
    """cells_i + (k - 1) divide_i <= k: a dividing segment holds one cell (a merger's cells
    part; they do not divide while merged); and flow_e + (k - 1) divide_src(e) <= k: each of a
    division's transitions carries one cell, so its two cells leave over two transitions (one
    transition carrying both would be a division nobody sees)."""
    p.add_pairs("only_single_cells_divide", p.col("cells"), p.col("divide"), k - 1.0, -np.inf, float(k))
    p.add_pairs("daughters_one_cell_each", p.col("flow"), p.col("divide", p.src), k - 1.0, -np.inf, float(k))


def costs(p: TrackingProblem, cfg: TrackingConfig, appear: np.ndarray, disappear: np.ndarray) -> None:
    """The objective's count terms (after the segments' own reward is set): appearing and
    disappearing cost per cell (``arrive``, ``leave``: the one-cell program's per-segment costs
    ``appear`` and ``disappear``; the binary ``appear`` and ``disappear`` cost nothing), and
    ``merger_weight`` (cells_i - node_i) for the cells a segment holds beyond one: a merger must
    pay off in the tracks it keeps (a track that would end in the blob and a false division or a
    new track after it)."""
    p.cost[p.col("arrive")] = appear
    p.cost[p.col("leave")] = disappear
    p.cost[p.col("cells")] += cfg.merger_weight
    p.cost[p.col("node")] -= cfg.merger_weight
