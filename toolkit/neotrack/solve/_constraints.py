"""Constraints of the tracking program, one function each (formulas in the docstrings).

Each adds one block of rows to the program with array operations (``TrackingProblem.add_rows``).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from neotrack.solve._problem import TrackingProblem


def one_parent(
    p: TrackingProblem,
    edge: str = "edge",
    appear: str = "appear",
    node: str = "node",
    name: str = "one_parent",
) -> None:
    """sum(edge_e for e into i) + appear_i = node_i: a selected segment continues one track or
    starts one; an unselected one has no incoming transition. The same row over other columns
    counts cells instead (``_counts.py``: flow, arrive, cells)."""
    n, seg = p.n_segments, np.arange(p.n_segments)
    p.add_rows(
        name,
        rows=np.concatenate([p.dst, seg, seg]),
        cols=np.concatenate([p.col(edge), p.col(appear), p.col(node)]),
        coefs=np.concatenate([np.ones(len(p.dst)), np.ones(n), -np.ones(n)]),
        lower=0.0,
        upper=0.0,
        n_rows=n,
        about=p.segments.id.to_numpy(),
    )


def flow_out(
    p: TrackingProblem,
    node: str = "node",
    edge: str = "edge",
    disappear: str = "disappear",
    name: str = "flow_out",
) -> None:
    """node_i + divide_i = sum(edge_e for e out of i) + disappear_i: a selected segment has one
    successor, two when it divides, none when its track ends. The same row over other columns
    counts cells instead (``_counts.py``: cells, flow, leave)."""
    n, seg = p.n_segments, np.arange(p.n_segments)
    p.add_rows(
        name,
        rows=np.concatenate([seg, seg, p.src, seg]),
        cols=np.concatenate([p.col(node), p.col("divide"), p.col(edge), p.col(disappear)]),
        coefs=np.concatenate([np.ones(2 * n), -np.ones(len(p.src)), -np.ones(n)]),
        lower=0.0,
        upper=0.0,
        n_rows=n,
        about=p.segments.id.to_numpy(),
    )


def edge_needs_source(p: TrackingProblem) -> None:
    """edge_e <= node_src(e): a transition leaves a selected segment only.

    Implied for integer solutions by ``flow_out``, but not for the LP relaxation, where a
    half-selected segment could send a whole transition (and half divide): with it the relaxation
    of these programs is almost always integral already, so the solver does not branch.
    """
    about = p.links[["source", "target"]].to_numpy()
    p.add_pairs("edge_needs_source", p.col("edge"), p.col("node", p.src), -1.0, -np.inf, 0.0, about)


def division_needs_segment(p: TrackingProblem) -> None:
    """divide_i + disappear_i <= node_i: only a selected segment divides, and a dividing one does
    not also end its track."""
    n, seg = p.n_segments, np.arange(p.n_segments)
    p.add_rows(
        "division_needs_segment",
        rows=np.concatenate([seg, seg, seg]),
        cols=np.concatenate([p.col("divide"), p.col("disappear"), p.col("node")]),
        coefs=np.concatenate([np.ones(2 * n), -np.ones(n)]),
        lower=-np.inf,
        upper=0.0,
        n_rows=n,
        about=p.segments.id.to_numpy(),
    )


def exclusion(p: TrackingProblem) -> None:
    """sum(node_j for j on a root-to-leaf chain of the hierarchy) <= 1: of candidates that contain
    one another (overlap), at most one is selected. One clique constraint per chain with more than
    one candidate in the window (``chains``), named by the chain's leaf."""
    if p.hierarchy.empty:
        return
    row, col, leaf = chains(p)
    size = np.bincount(row, minlength=len(leaf))  # (chains without a segment here: size 0)
    keep = size[row] > 1
    renumber = np.cumsum(size > 1) - 1
    p.add_rows(
        "exclusion",
        rows=renumber[row[keep]],
        cols=p.col("node", col[keep]),
        coefs=1.0,
        lower=-np.inf,
        upper=1.0,
        n_rows=int((size > 1).sum()),
        about=leaf[size > 1],
    )


def chains(p: TrackingProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The root-to-leaf chains of the hierarchy as (chain, segment position) pairs, the window's
    segments only: candidates on one chain contain one another, so at most one of them is chosen.
    The chains are walked up from all leaves at once, one level of the hierarchy per step; a
    segment outside the hierarchy is a chain of its own (numbered after the others). Third: each
    chain's leaf (its id; the leaf may lie outside the window), which names the chain."""
    child = p.hierarchy.child.to_numpy(dtype=np.int64)
    parent = p.hierarchy.parent.to_numpy(dtype=np.int64)
    members = pd.Index(np.unique(np.concatenate([child, parent])))
    up = np.full(len(members), -1)
    up[members.get_indexer(child)] = members.get_indexer(parent)
    position = pd.Index(p.segments.id.to_numpy(dtype=np.int64)).get_indexer(members)  # -1: not here
    leaves = np.setdiff1d(members.get_indexer(child), members.get_indexer(parent))
    rows, cols = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    chain, current = np.arange(len(leaves)), leaves
    for _ in range(len(members)):  # no chain is longer (and a cycle cannot hang the loop)
        if not len(current):
            break
        here = position[current] >= 0
        rows.append(chain[here])
        cols.append(position[current[here]])
        current = up[current]
        chain, current = chain[current >= 0], current[current >= 0]
    row, col = np.concatenate(rows), np.concatenate(cols)
    alone = np.setdiff1d(np.arange(p.n_segments), col)
    leaf = np.concatenate([members.to_numpy()[leaves], p.segments.id.to_numpy(dtype=np.int64)[alone]])
    return np.concatenate([row, len(leaves) + np.arange(len(alone))]), np.concatenate([col, alone]), leaf


def fixed_segments(p: TrackingProblem, positions: Iterable[int] | np.ndarray, value: int) -> None:
    """node_i = value for the given segments (pins, and the anchor frames of a window)."""
    p.fix(p.col("node", np.fromiter(positions, dtype=np.int64)), value)


def fixed_links(p: TrackingProblem, positions: Iterable[int] | np.ndarray, value: int) -> None:
    """edge_e = value for the given transitions (pins)."""
    p.fix(p.col("edge", np.fromiter(positions, dtype=np.int64)), value)


def anchor(p: TrackingProblem, selected: set[int], frame: np.ndarray) -> None:
    """The segments of one frame of the window (``frame`` flags them) are fixed to a choice made
    outside it: those in ``selected`` in, the others out. In the window's first frame their
    tracks started before, so appearing there is free (see costs)."""
    where = np.flatnonzero(frame)
    chosen = np.isin(p.segments.id.to_numpy()[where], np.fromiter(selected, dtype=np.int64))
    fixed_segments(p, where[chosen], 1)
    fixed_segments(p, where[~chosen], 0)
