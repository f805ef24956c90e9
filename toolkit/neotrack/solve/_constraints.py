"""Constraints of the tracking program, one function each (formulas in the docstrings)."""

from __future__ import annotations

from collections.abc import Iterable

import mip
import numpy as np

from neotrack.solve._problem import TrackingProblem


def one_parent(p: TrackingProblem) -> None:
    """sum(edge_e for e into i) + appear_i = node_i: a selected segment continues one track or
    starts one; an unselected one has no incoming transition."""
    for i, into in enumerate(p.edges_by(p.dst)):
        p.model += mip.xsum(p.edge[e] for e in into) + p.appear[i] == p.node[i]


def flow_out(p: TrackingProblem) -> None:
    """node_i + divide_i = sum(edge_e for e out of i) + disappear_i: a selected segment has one
    successor, two when it divides, none when its track ends."""
    for i, out in enumerate(p.edges_by(p.src)):
        p.model += p.node[i] + p.divide[i] == mip.xsum(p.edge[e] for e in out) + p.disappear[i]


def edge_needs_source(p: TrackingProblem) -> None:
    """edge_e <= node_src(e): a transition leaves a selected segment only.

    Implied for integer solutions by ``flow_out``, but not for the LP relaxation, where a
    half-selected segment could send a whole transition (and half divide): with it the relaxation
    of these programs is almost always integral already, so the solver does not branch.
    """
    for e, i in enumerate(p.src):
        p.model += p.edge[e] <= p.node[int(i)]


def division_needs_segment(p: TrackingProblem) -> None:
    """divide_i + disappear_i <= node_i: only a selected segment divides, and a dividing one does
    not also end its track."""
    for i in range(len(p.segments)):
        p.model += p.divide[i] + p.disappear[i] <= p.node[i]


def exclusion(p: TrackingProblem) -> None:
    """sum(node_j for j on a root-to-leaf chain of the hierarchy) <= 1: of candidates that contain
    one another (overlap), at most one is selected. One clique constraint per chain."""
    if p.hierarchy.empty:
        return
    position = dict(zip(p.segments.id.to_numpy().tolist(), range(len(p.segments)), strict=True))
    parent = dict(zip(p.hierarchy.child.tolist(), p.hierarchy.parent.tolist(), strict=True))
    has_child = set(parent.values())
    for leaf in parent:
        if leaf in has_child:
            continue
        chain, node = [leaf], leaf
        while node in parent:
            node = parent[node]
            chain.append(node)
        members = [position[c] for c in chain if c in position]
        if len(members) > 1:
            p.model += mip.xsum(p.node[j] for j in members) <= 1


def fixed_segments(p: TrackingProblem, positions: Iterable[int], value: int) -> None:
    """node_i = value for the given segments (pins, and the anchor frame of a window)."""
    for i in positions:
        p.model += p.node[int(i)] == value


def fixed_links(p: TrackingProblem, positions: Iterable[int], value: int) -> None:
    """edge_e = value for the given transitions (pins)."""
    for e in positions:
        p.model += p.edge[int(e)] == value


def anchor(p: TrackingProblem, selected: set[int], frame: np.ndarray) -> None:
    """The segments of one frame of the window (``frame`` flags them) are fixed to a choice made
    outside it: those in ``selected`` in, the others out. In the window's first frame their
    tracks started before, so appearing there is free (see costs)."""
    where = np.flatnonzero(frame)
    chosen = np.isin(p.segments.id.to_numpy()[where], list(selected))
    fixed_segments(p, where[chosen], 1)
    fixed_segments(p, where[~chosen], 0)
