"""Cells per segment (ilastik's conservation tracking): a segment may hold several cells.

With ``max_objects_per_merger = K > 1`` a selected segment holds 1..K cells (a *merger* when more
than one: touching or overlapping nuclei that segmentation cannot separate) and a transition carries
1..K of them. Counts are conserved: the cells that arrive in a segment (over its transitions, or
appearing) are the cells it holds, and those it holds (plus one when it divides) leave it (over its
transitions, or disappearing). The binary variables of the one-cell program keep their meaning
(``node``: selected, ``edge``: a transition, ``appear``/``disappear``: some cell starts/ends there,
``divide``), so exclusion, pins and anchors act on them as before; counts are added only when
``K > 1``: with ``K = 1`` the program is exactly the one-cell program.

Counts per segment: ``cells`` (0..K, at most what its size can hold:
``capacity``), ``arrive`` (cells appearing), ``leave`` (cells ending); per link: ``flow`` (cells
carried, at most what both its ends can hold). Only a count that can exceed one is a column of its
own; elsewhere it is its binary (``TrackingProblem.add_counts``), so away from segments large enough
for a merger the program is the one-cell program, rows, relaxation and all.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from neotrack.config import TrackingConfig
from neotrack.errors import InputError
from neotrack.solve import _constraints as cons
from neotrack.solve._problem import TrackingProblem
from neotrack.store import DatasetInfo

COUNTS = {"cells": "node", "arrive": "appear", "leave": "disappear", "flow": "edge"}
"""Each count and the binary choice it goes with."""


def require_one_cell(cfg: TrackingConfig, info: DatasetInfo) -> None:
    """Refuse counts in ``solve_window``: a range solved again holds one cell per segment for now
    (mergers in a range, resolved again around its anchors, are a later step), so neither settings
    that count cells nor a dataset whose solution holds mergers (as its solve recorded; imported
    are taken."""
    held = int(info.solve.attrs.get("mergers") or 0)
    if cfg.max_objects_per_merger > 1 or held:
        raise InputError(
            f"solve_window solves one cell per segment for now (tracking.max_objects_per_merger = 1), "
            f"and dataset {info.name!r} holds {held} mergers; run `neotrack solve` for the whole "
            "dataset instead"
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
    merger_area: float,
    held: Mapping[int, int] | None = None,
) -> None:
    """The counts of ``p`` and their rows, in place of the one-cell program's ``one_parent`` and
    ``flow_out``; before any other row (rows are built against the columns there are). ``held``:
    cells of anchored segments chosen outside the window, which their capacity admits whatever
    this window's typical area says."""
    n = capacity(p, k, cell_area, merger_area)
    if held:
        outside = p.segments.id.map(held).fillna(1).to_numpy(dtype=float)
        n = np.maximum(n, outside)
    # a transition carries what both ends hold, and two daughters from a single cell dividing
    flow = np.minimum(np.maximum(n[p.src], 2.0), n[p.dst])
    most = {"cells": n, "arrive": n, "leave": n, "flow": flow}
    for kind, binary in COUNTS.items():
        p.add_counts(kind, binary, most[kind])
    conserve(p)
    counts_follow_choices(p, most)
    only_single_cells_divide(p, most, n[p.src])
    edge_needs_target(p, n)


def edge_needs_target(p: TrackingProblem, n: np.ndarray) -> None:
    """sum(edge_e for e into i from one chain of the hierarchy) <= node_i, for each segment i that
    can hold more than one cell (``n``: ``capacity``) and each chain of candidates that contain
    one another in the frame before (``chains``): a transition leads into a selected segment only,
    and of overlapping candidates one at most sends one. Into the other segments the one-cell row
    ``one_parent`` says so. Over counts this is implied for integer solutions only; without it the
    relaxation led whole transitions into half-chosen segments large enough for two cells, fed by
    a candidate and its own children at once, and a 21-frame window took 8-16 s of branch and
    bound instead of 0.3 s. Chains sending the same transitions into i make one row."""
    into = np.flatnonzero(n[p.dst] > 1)
    if not len(into):
        return
    chain, position, _ = cons.chains(p)
    pairs = (  # each transition once per chain its source is on
        pd.DataFrame({"link": into, "source": p.src[into], "target": p.dst[into]})
        .merge(pd.DataFrame({"source": position, "chain": chain}), on="source")
        .sort_values(["target", "chain", "link"])
    )
    groups = pairs.groupby(["target", "chain"], sort=False)
    row, place = groups.ngroup().to_numpy(), groups.cumcount().to_numpy()
    table = np.full((row.max() + 1, place.max() + 2), -1, np.int64)  # the target, then its transitions
    table[row, 0] = pairs.target.to_numpy()
    table[row, place + 1] = pairs.link.to_numpy()
    table = np.unique(table, axis=0)  # chains sending the same transitions: one row
    row, place = np.nonzero(table[:, 1:] >= 0)
    p.add_rows(
        "edge_needs_target",
        rows=np.concatenate([row, np.arange(len(table))]),
        cols=np.concatenate([p.col("edge", table[row, place + 1]), p.col("node", table[:, 0])]),
        coefs=np.concatenate([np.ones(len(row)), -np.ones(len(table))]),
        lower=-np.inf,
        upper=0.0,
        n_rows=len(table),
    )


def capacity(p: TrackingProblem, k: int, cell_area: float | None, merger_area: float) -> np.ndarray:
    """n_i = clip(floor(area_i / (merger_area cell_area)), 1, k): the cells segment i can hold,
    each covering at least ``merger_area`` typical cells of it (``cell_area``: default the median
    of the window's candidates). Nuclei hide part of each other where they overlap, and a nucleus
    is about 0.8 of the median right after division (it grows 1.6-fold over its cycle): two young
    nuclei whose centres are 0.6 radii apart make one blob of 1.1 median cells, which the default
    0.55 admits as two; a segment of one cell's area is one, however many tracks could lead into
    it. The size is the evidence until a learned object count takes its place; between one and two
    cells' area it cannot tell, and the tracks through the segment decide."""
    area = p.segments.area.to_numpy(dtype=float)
    typical = cell_area or (float(np.median(area)) if len(area) else 1.0)
    return np.clip(np.floor(area / (typical * merger_area)), 1.0, float(k))


def conserve(p: TrackingProblem) -> None:
    """sum(flow_e for e into i) + arrive_i = cells_i: the cells a segment holds came over its
    transitions or appeared in it; cells_i + divide_i = sum(flow_e for e out of i) + leave_i: they
    go on over its transitions or end there, and a division adds one. These are the one-cell
    program's ``one_parent`` and ``flow_out`` over the counts; a merger parting into its cells is
    no division: two cells leave over two transitions."""
    cons.one_parent(p, edge="flow", appear="arrive", node="cells", name="conserve_arrivals")
    cons.flow_out(p, node="cells", edge="flow", disappear="leave", name="conserve_departures")


def counts_follow_choices(p: TrackingProblem, most: Mapping[str, np.ndarray]) -> None:
    """b <= c <= m b for each count c of its own and its binary b, m the most cells there can be
    (``most``: per count): node_i <= cells_i <= n_i node_i, appear_i <= arrive_i <= n_i appear_i,
    disappear_i <= leave_i <= n_i disappear_i, and edge_e <= flow_e <= min(n_src, n_dst) edge_e
    (``capacity``): a count is positive exactly where its choice is made. (Where m is 1 the count
    is its binary; with one bound k everywhere the relaxation carried whole cells on half-chosen
    transitions, and branch and bound took a minute a window.)"""
    for count, binary in COUNTS.items():
        m = most[count]
        own = np.flatnonzero(m > 1)
        c, b = p.col(count, own), p.col(binary, own)
        name = f"{count}_follows_{binary}"
        p.add_pairs(name, c, b, -1.0, 0.0, np.inf)  # c >= b
        p.add_pairs(name, c, b, -m[own], -np.inf, 0.0)  # c <= m b


def only_single_cells_divide(p: TrackingProblem, most: Mapping[str, np.ndarray], source: np.ndarray) -> None:
    """cells_i + (n_i - 1) divide_i <= n_i: a dividing segment holds one cell (a merger's cells
    part; they do not divide while merged). Her two daughters leave over two transitions or, where
    they stay touching, over one carrying both into a merger (sisters that no candidate separates
    yet; resolution then gives each her own part of it): flow_e <= edge_e + divide_src(e) where the
    source holds one cell at most (``source``: its bound) and the target two or more, so only a
    division sends a single cell's transition two. Where the bounds (``most``) are 1 both hold
    already."""
    m = most["cells"]
    own = np.flatnonzero(m > 1)
    p.add_pairs(
        "only_single_cells_divide", p.col("cells", own), p.col("divide", own), m[own] - 1, -np.inf, m[own]
    )
    two = np.flatnonzero((most["flow"] > 1) & (source == 1))
    p.add_rows(
        "two_daughters_over_one_transition",
        rows=np.tile(np.arange(len(two)), 3),
        cols=np.concatenate([p.col("flow", two), p.col("edge", two), p.col("divide", p.src[two])]),
        coefs=np.concatenate([np.ones(len(two)), -np.ones(len(two)), -np.ones(len(two))]),
        lower=-np.inf,
        upper=0.0,
        n_rows=len(two),
    )


def shape_evidence(
    p: TrackingProblem, weight: float, cell_area: float | None, planar: bool = True
) -> np.ndarray:
    """w (clip(log2(e_i / e1), 0, 1.5) - 1/2) per segment (``merger_shape``): e_i its elongation,
    e1 the median elongation of the window's candidates within 1.5 times a typical cell's area
    either way (``cell_area``: default the median area), a single cell's. Two cells side by side
    are about twice as long as one (log2 = 1: w / 2 for holding two); a segment as round as one
    cell or rounder, -w / 2. Beyond two cells each as elongated as a long single one (1.4 times
    the median: log2(2.8) = 1.5) elongation says no more: with ``merger_weight`` a cell beyond one
    earns at most w - 0.005 a frame, and only where a segment is 1.7 times as elongated as a single
    cell or more does holding it pay by itself (a cell that could leave it for free, at the movie's
    end, is then taken for there). Zero where the elongation is not known (segments imported
    without it) and in 3D (``planar`` False): there a candidate one slice thick has no extent along
    z, and its elongation says nothing."""
    if weight == 0 or not planar or "elongation" not in p.segments or not p.n_segments:
        return np.zeros(p.n_segments)
    e = pd.to_numeric(p.segments.elongation, errors="coerce").to_numpy(dtype=float)
    area = p.segments.area.to_numpy(dtype=float)
    typical = cell_area or float(np.median(area))
    single = (area >= typical / 1.5) & (area <= typical * 1.5) & np.isfinite(e)
    if not single.any():
        return np.zeros(p.n_segments)
    ratio = np.clip(np.log2(e / float(np.median(e[single]))), 0.0, 1.5)
    return np.nan_to_num(weight * (ratio - 0.5))


def costs(
    p: TrackingProblem,
    cfg: TrackingConfig,
    appear: np.ndarray,
    disappear: np.ndarray,
    cell_area: float | None = None,
    planar: bool = True,
) -> None:
    """The objective's count terms (after the segments' own reward is set): appearing and
    disappearing cost per cell (``arrive``, ``leave``: the one-cell program's per-segment costs
    ``appear`` and ``disappear``, which cost nothing where a count has a column of its own), and
    (``merger_weight`` + ``shape_evidence``) (cells_i - node_i) for the cells a segment holds
    beyond one: a merger must pay off in the tracks it keeps (a track that would end in the blob
    and a false division or a new track after it), less so where its shape shows two cells."""
    p.cost[p.col("arrive")] = appear
    p.cost[p.col("leave")] = disappear
    own = np.flatnonzero(p.col("cells") != p.col("node"))
    extra = cfg.merger_weight + shape_evidence(p, cfg.merger_shape, cell_area, planar)[own]
    p.cost[p.col("cells", own)] += extra
    p.cost[p.col("node", own)] -= extra
