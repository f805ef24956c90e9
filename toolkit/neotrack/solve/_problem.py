"""The variables of one window's integer program, indexed like the window's tables."""

from __future__ import annotations

import dataclasses

import mip
import numpy as np
import pandas as pd


@dataclasses.dataclass
class TrackingProblem:
    """Binary variables per segment i — ``node`` (selected), ``appear``, ``disappear``, ``divide`` —
    and per candidate transition e — ``edge`` (selected) — over one window's subgraph.

    ``segments`` and ``links`` are the window's tables; ``src``/``dst`` give each link's segment
    positions; ``first``/``last`` flag segments of the window's first and last frame.
    """

    model: mip.Model
    segments: pd.DataFrame
    links: pd.DataFrame
    hierarchy: pd.DataFrame
    node: list[mip.Var]
    appear: list[mip.Var]
    disappear: list[mip.Var]
    divide: list[mip.Var]
    edge: list[mip.Var]
    src: np.ndarray
    dst: np.ndarray
    first: np.ndarray
    last: np.ndarray

    @classmethod
    def create(
        cls,
        model: mip.Model,
        segments: pd.DataFrame,
        links: pd.DataFrame,
        hierarchy: pd.DataFrame,
        frames: tuple[int, int] | None = None,
    ) -> TrackingProblem:
        """The variables of one window; ``frames`` = (first, last) frame of the window (default:
        those of its segments). A window's first or last frame may hold no candidate at all: the
        flags must then mark none, not the nearest frame that has some."""
        segments = segments.reset_index(drop=True)
        position = pd.Series(np.arange(len(segments)), index=segments.id.to_numpy())
        inside = links.source.isin(position.index) & links.target.isin(position.index)
        links = links[inside].reset_index(drop=True)
        n, m = len(segments), len(links)

        def binaries(k: int) -> list[mip.Var]:
            return [model.add_var(var_type=mip.BINARY) for _ in range(k)]

        return cls(
            model=model,
            segments=segments,
            links=links,
            hierarchy=hierarchy,
            node=binaries(n),
            appear=binaries(n),
            disappear=binaries(n),
            divide=binaries(n),
            edge=binaries(m),
            src=position.reindex(links.source).to_numpy(),
            dst=position.reindex(links.target).to_numpy(),
            first=(segments.t == (segments.t.min() if frames is None else frames[0])).to_numpy(),
            last=(segments.t == (segments.t.max() if frames is None else frames[1])).to_numpy(),
        )

    def edges_by(self, ends: np.ndarray) -> list[list[int]]:
        """For each segment, the positions of the links whose ``ends`` (src or dst) it is."""
        groups: list[list[int]] = [[] for _ in range(len(self.segments))]
        for e, i in enumerate(ends):
            groups[i].append(e)
        return groups
