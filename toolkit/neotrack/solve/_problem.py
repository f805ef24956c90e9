"""One window's integer program in matrix form: columns for the variables, rows for the constraints.

The program is built with numpy, one array operation per term, never a Python loop per variable:
a window of 5,000 candidates and 15,000 links is about 35,000 columns and 45,000 rows.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Iterable

import numpy as np
import pandas as pd
import scipy.sparse as sp

KINDS = ("node", "appear", "disappear", "divide")
"""The binary variables each segment i has, in column order: ``node`` (selected), ``appear``,
``disappear``, ``divide``; then one ``edge`` (transition selected) per link."""


@dataclasses.dataclass
class TrackingProblem:
    """Columns: ``node``, ``appear``, ``disappear``, ``divide`` per segment, ``edge`` per link,
    each binary within ``lower``/``upper`` (a pin or an anchor sets both), with objective
    coefficient ``cost`` (maximised). Rows: blocks added by ``add_rows``, each a named family of
    constraints ``lower <= A x <= upper`` (``_constraints.py``).

    ``segments`` and ``links`` are the window's tables; ``src``/``dst`` give each link's segment
    positions; ``first``/``last`` flag segments of the window's first and last frame.
    """

    segments: pd.DataFrame
    links: pd.DataFrame
    hierarchy: pd.DataFrame
    src: np.ndarray
    dst: np.ndarray
    first: np.ndarray
    last: np.ndarray
    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    blocks: list[tuple[str, sp.coo_matrix, np.ndarray, np.ndarray]] = dataclasses.field(default_factory=list)
    counted: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    """Count variables (``add_counts``): kind -> the column of each segment's or link's count."""
    about: list[np.ndarray | None] = dataclasses.field(default_factory=list)
    """Per block of rows, what each row is about: ``(n_rows, 2)`` ids (a segment's id and 0, a
    link's source and target, a chain's leaf and 0), or None. With the block's name they name the
    row in any program that holds it (``names``)."""

    @classmethod
    def create(
        cls,
        segments: pd.DataFrame,
        links: pd.DataFrame,
        hierarchy: pd.DataFrame,
        frames: tuple[int, int] | None = None,
    ) -> TrackingProblem:
        """The columns of one window; ``frames`` = (first, last) frame of the window (default:
        those of its segments). A window's first or last frame may hold no candidate at all: the
        flags must then mark none, not the nearest frame that has some."""
        segments = segments.reset_index(drop=True)
        index = pd.Index(segments.id.to_numpy(dtype=np.int64))
        src = index.get_indexer(links.source.to_numpy(dtype=np.int64))
        dst = index.get_indexer(links.target.to_numpy(dtype=np.int64))
        inside = (src >= 0) & (dst >= 0)
        links = links[inside].reset_index(drop=True)
        n_cols = len(KINDS) * len(segments) + len(links)
        t = segments.t.to_numpy()
        return cls(
            segments=segments,
            links=links,
            hierarchy=hierarchy,
            src=src[inside],
            dst=dst[inside],
            first=t == (frames[0] if frames is not None else t.min() if len(t) else 0),
            last=t == (frames[1] if frames is not None else t.max() if len(t) else 0),
            cost=np.zeros(n_cols),
            lower=np.zeros(n_cols),
            upper=np.ones(n_cols),
        )

    @property
    def n_segments(self) -> int:
        return len(self.segments)

    @property
    def n_cols(self) -> int:
        return len(self.cost)

    @property
    def n_rows(self) -> int:
        return sum(block[1].shape[0] for block in self.blocks)

    def col(self, kind: str, positions: np.ndarray | None = None) -> np.ndarray:
        """Column numbers of variable ``kind`` (a name of ``KINDS``, ``"edge"`` or a count of
        ``counted``) for the given segment or link positions (default: all)."""
        n = self.n_segments
        if kind in self.counted:
            cols = self.counted[kind]
            return cols if positions is None else cols[np.asarray(positions, dtype=np.int64)]
        if kind == "edge":
            base, size = len(KINDS) * n, len(self.links)
        else:
            base, size = KINDS.index(kind) * n, n
        return base + (np.arange(size) if positions is None else np.asarray(positions, dtype=np.int64))

    def values(self, selected: Iterable[int], transitions: pd.DataFrame) -> np.ndarray:
        """The column values of a choice: segments ``selected`` (ids) and ``transitions``
        (``source, target``); appearances, disappearances and divisions follow from them within
        the window (a selected segment without a transition into it appears, and so on)."""
        node = self.segments.id.isin(pd.Index(np.fromiter(selected, dtype=np.int64))).to_numpy(dtype=float)
        chosen = pd.MultiIndex.from_frame(transitions[["source", "target"]].astype("int64"))
        edge = pd.MultiIndex.from_frame(self.links[["source", "target"]].astype("int64")).isin(chosen)
        edge = edge.astype(float)
        n_in = np.bincount(self.dst, weights=edge, minlength=self.n_segments)
        n_out = np.bincount(self.src, weights=edge, minlength=self.n_segments)
        x = np.zeros(self.n_cols)
        for kind, value in (
            ("node", node),
            ("appear", node * (n_in == 0)),
            ("disappear", node * (n_out == 0)),
            ("divide", node * (n_out >= 2)),
            ("edge", edge),
        ):
            x[self.col(kind)] = value
        return x

    def add_counts(self, kind: str, binary: str, most: np.ndarray) -> None:
        """A count ``kind`` for each position of the binary variable ``binary``, an integer in
        [0, ``most``]: a column of its own where ``most`` is above 1, and the binary's own column
        where it is 1 (a count of at most one cell is its choice); only before any row (rows are
        built against the columns there are)."""
        if self.blocks:
            raise ValueError("columns are added before the first row")
        own = np.flatnonzero(most > 1)
        cols = self.col(binary).copy()
        cols[own] = self.n_cols + np.arange(len(own))
        self.counted[kind] = cols
        self.cost = np.concatenate([self.cost, np.zeros(len(own))])
        self.lower = np.concatenate([self.lower, np.zeros(len(own))])
        self.upper = np.concatenate([self.upper, np.asarray(most, dtype=float)[own]])

    def add_rows(
        self,
        name: str,
        rows: np.ndarray,
        cols: np.ndarray,
        coefs: np.ndarray | float,
        lower: np.ndarray | float,
        upper: np.ndarray | float,
        n_rows: int,
        about: np.ndarray | None = None,
    ) -> None:
        """Add ``n_rows`` constraints ``lower <= sum(coef x_col) <= upper`` given as triplets
        (row within this block, column, coefficient); ``about``: the ids each row is about, one
        id or a pair per row (``names``)."""
        rows = np.asarray(rows, dtype=np.int64)
        data = np.broadcast_to(np.asarray(coefs, dtype=float), rows.shape)
        a = sp.coo_matrix((data, (rows, np.asarray(cols, dtype=np.int64))), shape=(n_rows, self.n_cols))
        lo = np.broadcast_to(np.asarray(lower, dtype=float), (n_rows,))
        hi = np.broadcast_to(np.asarray(upper, dtype=float), (n_rows,))
        self.blocks.append((name, a, lo, hi))
        if about is not None:
            about = np.asarray(about, dtype=np.int64)
            if about.ndim == 1:  # one id per row: the second is 0
                about = np.column_stack([about, np.zeros_like(about)])
        self.about.append(about)

    def add_pairs(
        self,
        name: str,
        first: np.ndarray,
        second: np.ndarray,
        coef: float | np.ndarray,
        lower: float | np.ndarray,
        upper: float | np.ndarray,
        about: np.ndarray | None = None,
    ) -> None:
        """One constraint per pair of columns: ``lower <= x_first[i] + coef * x_second[i] <= upper``
        (``coef``, ``lower``, ``upper``: one for all pairs, or one per pair; ``about``: as in
        ``add_rows``)."""
        m, row = len(first), np.arange(len(first))
        self.add_rows(
            name,
            rows=np.concatenate([row, row]),
            cols=np.concatenate([first, second]),
            coefs=np.concatenate([np.ones(m), np.broadcast_to(np.asarray(coef, dtype=float), (m,))]),
            lower=lower,
            upper=upper,
            n_rows=m,
            about=about,
        )

    def fix(self, cols: np.ndarray, value: int | np.ndarray) -> None:
        """Hold the given columns at ``value`` (0 or 1; or one value per column)."""
        self.lower[cols] = value
        self.upper[cols] = value

    def names(self) -> np.ndarray:
        """Each column, then each row, named by what it is about, the same in every program that
        holds it: ``(n_cols + n_rows, 3)`` int64 rows ``(kind, a, b)``. A segment's column is
        (its kind, its id, 0), a transition's (edge, source, target), a row (its block's name,
        ``about``); kinds are numbers made of those names (CRC-32). Count columns of their own and rows
        of blocks without ``about`` have kind 0: unnamed."""
        ids = self.segments.id.to_numpy(dtype=np.int64)
        src, dst = (self.links[c].to_numpy(dtype=np.int64) for c in ("source", "target"))
        n, zero = self.n_segments, np.zeros(self.n_segments, np.int64)
        parts = [np.column_stack([np.full(n, _kind(f"column {k}")), ids, zero]) for k in KINDS]
        parts.append(np.column_stack([np.full(len(src), _kind("column edge")), src, dst]))
        parts.append(np.zeros((self.n_cols - len(KINDS) * n - len(src), 3), np.int64))  # counts' own
        for (name, a, _, _), about in zip(self.blocks, self.about, strict=True):
            m = a.shape[0]
            parts.append(
                np.zeros((m, 3), np.int64)
                if about is None
                else np.column_stack([np.full(m, _kind(f"row {name}")), about])
            )
        return np.concatenate(parts)

    def matrix(self) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """All rows stacked: ``A`` (CSR), row lower and upper bounds."""
        if not self.blocks:
            return sp.csr_matrix((0, self.n_cols)), np.zeros(0), np.zeros(0)
        a = sp.vstack([block[1] for block in self.blocks], format="csr")
        a.sum_duplicates()
        lo = np.concatenate([block[2] for block in self.blocks])
        hi = np.concatenate([block[3] for block in self.blocks])
        return a, lo, hi


def _kind(name: str) -> int:
    """The number naming a kind of column or a block of rows (``TrackingProblem.names``)."""
    return zlib.crc32(name.encode())
