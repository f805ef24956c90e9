"""Candidates in the graph: segments, hierarchy and candidate links; written in batches, read by window."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

from neotrack.store import _cypher as cy
from neotrack.store._catalogue import Catalogue
from neotrack.store._connection import not_found
from neotrack.store._tables import (
    frame_from_columns,
    hierarchy_columns,
    link_columns,
    segment_columns,
)
from neotrack.store._vocab import HIERARCHY_COLUMNS, LINK_COLUMNS, SEGMENT_COLUMNS, Column

log = logging.getLogger(__name__)

T_MAX = 2**62
"""'Until the end' for half-open time ranges."""


@dataclasses.dataclass(frozen=True)
class Window:
    """Candidates of frames [t_start, t_stop) with the links and hierarchy edges among them."""

    t_start: int
    t_stop: int
    segments: pd.DataFrame
    links: pd.DataFrame
    hierarchy: pd.DataFrame


class Candidates(Catalogue):
    """Bulk writes and time-window reads of candidate segments, hierarchy and links."""

    # --- bulk writes ----------------------------------------------------------------------
    def write_segments(
        self, dataset: str, table: pd.DataFrame | Mapping[str, Any], progress: bool = False
    ) -> int:
        """Store candidate segments; columns ``id, t, y, x, area`` at least (see graph-model.md).

        Optional: ``z`` (0), ``bbox`` (list of ints), ``frontier``, ``height`` (-1); any other
        column is stored as a property of that name. Each batch is one transaction.
        """
        columns, extra = segment_columns(table)
        query = cy.WRITE_SEGMENTS if extra is None else cy.WRITE_SEGMENTS_WITH_EXTRA
        return self._write_batches(
            dataset, query, columns, extra, "segments", progress, lambda s: s.counters.nodes_created
        )

    def write_links(
        self, dataset: str, table: pd.DataFrame | Mapping[str, Any], progress: bool = False
    ) -> int:
        """Store candidate transitions: columns ``source, target, weight`` plus any features."""
        columns, extra = link_columns(table)
        query = cy.WRITE_LINKS if extra is None else cy.WRITE_LINKS_WITH_EXTRA
        return self._write_batches(
            dataset, query, columns, extra, "links", progress, lambda s: s.counters.relationships_created
        )

    def write_hierarchy(
        self, dataset: str, table: pd.DataFrame | Mapping[str, Any], progress: bool = False
    ) -> int:
        """Store hierarchy edges: columns ``parent, child`` (ids of the same frame)."""
        return self._write_batches(
            dataset,
            cy.WRITE_HIERARCHY,
            hierarchy_columns(table),
            None,
            "hierarchy edges",
            progress,
            lambda s: s.counters.relationships_created,
        )

    def delete_links(self, dataset: str, t_start: int = 0) -> int:
        """Delete the dataset's candidate transitions (LINK) out of frames >= ``t_start``, in batches."""
        return self._delete_batches(cy.DELETE_LINKS_BATCH, dataset, t_start)

    def count_links(self, dataset: str) -> int:
        """How many candidate transitions (LINK) the dataset holds."""
        return int(self._run(cy.COUNT_ALL_LINKS, dataset=dataset)[0]["n"])

    # --- bulk reads -----------------------------------------------------------------------
    def time_range(self, dataset: str) -> tuple[int, int, int]:
        """(first frame, last frame, number of segments); (0, -1, 0) for an empty dataset."""
        row = self._run(cy.TIME_RANGE, dataset=dataset)[0]
        if row["n"] == 0:
            return 0, -1, 0
        return int(row["t_min"]), int(row["t_max"]), int(row["n"])

    def frame_counts(self, dataset: str) -> pd.Series:
        """Candidates per frame (index: t; frames without any are left out)."""
        rows = self._run(cy.FRAME_COUNTS, dataset=dataset)
        return pd.Series([int(r["n"]) for r in rows], index=[int(r["t"]) for r in rows], dtype="int64")

    def segment_properties(self, dataset: str) -> set[str]:
        """The property keys the dataset's segments carry (those of one of them)."""
        rows = self._run(cy.SEGMENT_KEYS, dataset=dataset)
        return set(rows[0]["keys"]) if rows else set()

    def read_segments(
        self,
        dataset: str,
        t_start: int = 0,
        t_stop: int | None = None,
        extra: Sequence[str] = (),
        parts: bool = False,
    ) -> pd.DataFrame:
        """Candidate segments of frames [t_start, t_stop), sorted by id, with the ``extra``
        properties; with ``parts`` also the cells that merger resolution split mergers into."""
        df = self._read_columns(cy.READ_SEGMENTS, SEGMENT_COLUMNS, dataset, t_start, t_stop, extra, parts)
        return df.sort_values("id", ignore_index=True)

    def read_links(
        self, dataset: str, t_start: int = 0, t_stop: int | None = None, extra: Sequence[str] = ()
    ) -> pd.DataFrame:
        """Links whose source and target both lie in frames [t_start, t_stop)."""
        df = self._read_columns(cy.READ_LINKS, LINK_COLUMNS, dataset, t_start, t_stop, extra)
        return df.sort_values(["source", "target"], ignore_index=True)

    def read_hierarchy(self, dataset: str, t_start: int = 0, t_stop: int | None = None) -> pd.DataFrame:
        """Hierarchy edges (parent contains child) of frames [t_start, t_stop)."""
        df = self._read_columns(cy.READ_HIERARCHY, HIERARCHY_COLUMNS, dataset, t_start, t_stop)
        return df.sort_values(["parent", "child"], ignore_index=True)

    def read_window(
        self,
        dataset: str,
        t_start: int,
        t_stop: int,
        extra: Sequence[str] = (),
        segment_extra: Sequence[str] = (),
    ) -> Window:
        """Everything the solver needs about frames [t_start, t_stop); ``extra`` properties of
        segments and links alike (the solver reads ``pin``), ``segment_extra`` of segments only."""
        with ThreadPoolExecutor(2) as pool:  # the server answers the three reads side by side
            links = pool.submit(self.read_links, dataset, t_start, t_stop, extra)
            hierarchy = pool.submit(self.read_hierarchy, dataset, t_start, t_stop)
            segments = self.read_segments(dataset, t_start, t_stop, [*extra, *segment_extra])
            return Window(t_start, t_stop, segments, links.result(), hierarchy.result())

    def _read_columns(
        self,
        query: str,
        spec: Sequence[Column],
        dataset: str,
        t_start: int,
        t_stop: int | None,
        extra: Sequence[str] = (),
        parts: bool = False,
    ) -> pd.DataFrame:
        """One window read: the ``spec`` columns with their dtypes, then the ``extra`` properties."""
        self._require(dataset)
        stop = T_MAX if t_stop is None else t_stop
        row = self._run(query, dataset=dataset, t_start=t_start, t_stop=stop, extra=list(extra), parts=parts)[
            0
        ]
        df = frame_from_columns(row, spec)
        for j, name in enumerate(extra):
            df[name] = [r[j] for r in row["extra"]]
        return df

    def _require(self, dataset: str) -> None:
        if not self.has_dataset(dataset):
            raise not_found(dataset)
