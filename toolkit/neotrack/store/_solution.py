"""Solutions in the graph: selected segments, NEXT transitions, track ids; pins and shifts."""

from __future__ import annotations

from collections.abc import Sequence

import neo4j
import numpy as np
import pandas as pd

from neotrack.errors import DatasetBusyError, InputError
from neotrack.store import _cypher as cy
from neotrack.store._candidates import T_MAX, Candidates
from neotrack.store._errors import translated
from neotrack.store._tables import frame_from_columns, segment_columns
from neotrack.store._vocab import SEGMENT_COLUMNS, SOLUTION_COLUMNS


class Solutions(Candidates):
    """What the solver writes and lineage readers read; what users pin."""

    def clear_solution(self, dataset: str) -> None:
        """Forget the dataset's solution (flags, track ids, NEXT transitions) and its solve stage."""
        from neotrack.store._info import Stage

        with self.writing(dataset, "clear solution"):
            self.begin_stage(dataset, Stage.SOLVE)
            self.update_dataset(dataset, solve_status=None)

    def write_selection(self, dataset: str, ids: Sequence[int], cells: Sequence[int] | None = None) -> int:
        """Mark segments as selected (in the solution); ``cells``: how many cells each holds, stored
        (as ``cells``) on those that hold more than one: the mergers."""
        columns = {"id": [int(i) for i in ids]}
        n = self._write_batches(
            dataset,
            cy.WRITE_SELECTED,
            columns,
            None,
            "selections",
            False,
            lambda s: s.counters.properties_set,
        )
        if cells is not None:
            held = np.asarray(cells, dtype=np.int64)
            mergers = np.asarray(columns["id"], np.int64)[held > 1]
            several = {"id": mergers.tolist(), "cells": held[held > 1].tolist()}
            self._write_batches(
                dataset,
                cy.WRITE_CELLS,
                several,
                None,
                "cell counts",
                False,
                lambda s: s.counters.properties_set,
            )
        return n

    def write_transitions(self, dataset: str, table: pd.DataFrame) -> int:
        """Selected transitions (``source, target``) as NEXT relationships; with a ``cells`` column,
        those carrying more than one cell (out of a merger) store it as ``cells``."""
        several = (table.cells > 1).to_numpy() if "cells" in table else np.zeros(len(table), bool)
        writes: list[tuple[pd.DataFrame, str, tuple[str, ...]]] = [
            (table[~several], cy.WRITE_NEXT, ("source", "target"))
        ]
        if several.any():
            writes.append((table[several], cy.WRITE_COUNTED_NEXT, ("source", "target", "cells")))
        n = 0
        for rows, query, keys in writes:
            columns = {k: rows[k].astype("int64").tolist() for k in keys}
            n += self._write_batches(
                dataset,
                query,
                columns,
                None,
                "transitions",
                False,
                lambda s: s.counters.relationships_created,
            )
        return n

    def read_counts(self, dataset: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The segments holding several cells (``id, cells``: the mergers) and the transitions that
        carry several (``source, target, cells``: out of a merger, or into one from a cell dividing
        into it; none once mergers are resolved)."""
        rows = self._run(cy.READ_COUNTS, dataset=dataset)
        mergers = pd.DataFrame(
            {"id": [int(r["id"]) for r in rows], "cells": [int(r["cells"]) for r in rows]}, dtype="int64"
        )
        carried = [
            (int(r["id"]), int(b), int(c))
            for r in rows
            for b, c in zip(r["target"], r["carried"], strict=True)
        ] + [
            (int(a), int(r["id"]), int(c)) for r in rows for a, c in zip(r["source"], r["born"], strict=True)
        ]
        counted = pd.DataFrame(carried, columns=["source", "target", "cells"], dtype="int64")
        return mergers.sort_values("id", ignore_index=True), counted

    def write_parts(self, dataset: str, table: pd.DataFrame) -> int:
        """Store the cells merger resolution split mergers into: segment columns (``id, t, y, x,
        area, bbox``, ``z``) and ``merger``, the id of the merger each is a cell of; not selected."""
        columns, _ = segment_columns(table.drop(columns=["merger"]))
        columns["merger"] = table.merger.astype("int64").tolist()
        return self._write_batches(
            dataset, cy.WRITE_PARTS, columns, None, "merger cells", False, lambda s: s.counters.nodes_created
        )

    def read_parts(self, dataset: str) -> pd.DataFrame:
        """The cells merger resolution split mergers into: ``id`` and ``merger`` (the merger's id)."""
        row = self._run(cy.READ_PARTS, dataset=dataset)[0]
        parts = pd.DataFrame({k: np.asarray(row[k], dtype=np.int64) for k in ("id", "merger")})
        return parts.sort_values("id", ignore_index=True)

    def write_tracks(self, dataset: str, table: pd.DataFrame) -> int:
        """Track ids of selected segments: ``id`` and the ``SOLUTION_COLUMNS``."""
        keys = ("id", *(c.name for c in SOLUTION_COLUMNS))
        columns = {k: table[k].astype("int64").tolist() for k in keys}
        n = len(SOLUTION_COLUMNS)
        return self._write_batches(
            dataset,
            cy.WRITE_TRACKS,
            columns,
            None,
            "track ids",
            False,
            lambda s: s.counters.properties_set // n,
        )

    def update_solution(
        self,
        dataset: str,
        *,
        unselect: Sequence[int],
        select: Sequence[int],
        remove: pd.DataFrame,
        add: pd.DataFrame,
        tracks: pd.DataFrame,
    ) -> None:
        """Change the stored solution in one transaction: segments ``unselect`` leave it (with
        their track ids), ``select`` join it; NEXT transitions ``remove`` (``source, target``) are
        deleted and ``add`` created; ``tracks`` (``id`` and the ``SOLUTION_COLUMNS``) are set.
        Written as a difference, so a correction costs what it changes. Nothing is written when any
        part fails (a segment or transition that is not stored, a lock taken meanwhile)."""
        track_keys = ("id", *(c.name for c in SOLUTION_COLUMNS))

        def pairs(table: pd.DataFrame) -> dict[str, list[int]]:
            return {k: table[k].astype("int64").tolist() for k in ("source", "target")}

        n_cols = len(SOLUTION_COLUMNS)
        steps = (  # query, its parameters, how its effect is counted, the count it must reach
            (cy.UNSELECT, {"id": [int(i) for i in unselect]}, "n", len(unselect)),
            (cy.DELETE_NEXT, pairs(remove), "n", len(remove)),
            (cy.WRITE_SELECTED, {"id": [int(i) for i in select]}, "properties_set", len(select)),
            (cy.WRITE_NEXT, pairs(add), "relationships_created", len(add)),
            (
                cy.WRITE_TRACKS,
                {k: tracks[k].astype("int64").tolist() for k in track_keys},
                "properties_set",
                len(tracks) * n_cols,
            ),
        )
        token = self._tokens.get(dataset)

        def work(tx: neo4j.ManagedTransaction) -> None:
            if not tx.run(cy.MAY_WRITE, dataset=dataset, token=token).single(strict=True)["n"]:
                raise DatasetBusyError(f"dataset {dataset!r} is being written by another run")
            for query, values, counter, expected in steps:
                if not expected:
                    continue
                result = tx.run(query, dataset=dataset, token=token, **values)
                rows = result.data()
                done = rows[0]["n"] if counter == "n" else getattr(result.consume().counters, counter)
                if done != expected:
                    raise InputError(
                        f"dataset {dataset!r}: {expected - done} of {expected} changes of the solution "
                        "refer to segments or transitions that are not stored; nothing was written"
                    )

        with translated(self.uri, self.user), self._driver.session(database=self.database) as ses:
            ses.execute_write(work)

    def max_track_id(self, dataset: str) -> int:
        """The largest track id of the dataset's solution (0 without one); read from the track
        index, not by scanning the dataset."""
        rows = self._run(cy.MAX_TRACK_ID, dataset=dataset)
        return int(rows[0]["n"]) if rows else 0

    def read_descendants(self, dataset: str, ids: Sequence[int]) -> pd.DataFrame:
        """Every selected segment that follows ``ids`` through NEXT transitions, with its ``parent``
        (the segment it follows), ``t`` and the ``SOLUTION_COLUMNS``."""
        row = self._run(cy.READ_DESCENDANTS, dataset=dataset, id=[int(i) for i in ids])[0]
        keys = ("id", "parent", "t", *(c.name for c in SOLUTION_COLUMNS))
        return pd.DataFrame({k: np.asarray(row[k], dtype=np.int64) for k in keys})

    def write_shifts(self, dataset: str, table: pd.DataFrame) -> int:
        """Expected displacement t -> t+1 of segments (pixels): ``id, shift_z, shift_y, shift_x``."""
        columns = {"id": table.id.astype("int64").tolist()}
        for k in ("shift_z", "shift_y", "shift_x"):
            columns[k] = table[k].astype(float).tolist()
        return self._write_batches(
            dataset, cy.WRITE_SHIFTS, columns, None, "shifts", False, lambda s: s.counters.properties_set // 3
        )

    def read_solution(
        self, dataset: str, t_start: int = 0, t_stop: int | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Selected segments (with track ids) and NEXT transitions of frames [t_start, t_stop)."""
        self._require(dataset)
        stop = T_MAX if t_stop is None else t_stop
        row = self._run(cy.READ_SELECTED, dataset=dataset, t_start=t_start, t_stop=stop)[0]
        segments = frame_from_columns(row, SEGMENT_COLUMNS + SOLUTION_COLUMNS)
        segments = segments.drop(columns=["frontier", "height"])
        nxt = self._run(cy.READ_NEXT, dataset=dataset, t_start=t_start, t_stop=stop)[0]
        edges = pd.DataFrame({k: np.asarray(nxt[k], dtype=np.int64) for k in ("source", "target")})
        return (
            segments.sort_values("id", ignore_index=True),
            edges.sort_values(["source", "target"], ignore_index=True),
        )

    def pin_segments(self, dataset: str, ids: Sequence[int], value: bool | None) -> int:
        """Force segments into (True) or out of (False) the next solution; None removes the pin."""
        params = {"id": [int(i) for i in ids]}
        if self._run(cy.COUNT_SEGMENTS, dataset=dataset, **params)[0]["n"] != len(params["id"]):
            raise InputError(
                f"not every segment of {params['id']} is a candidate of dataset {dataset!r} (a cell "
                "that merger resolution made is not: pin the merger it came from)"
            )
        return int(self._pin(cy.PIN_SEGMENTS, dataset, value=value, **params))

    def pin_links(self, dataset: str, table: pd.DataFrame, value: bool | None) -> int:
        """Force candidate transitions (``source, target``) in (True) or out (False); None unpins."""
        params = {
            "source": table.source.astype("int64").tolist(),
            "target": table.target.astype("int64").tolist(),
        }
        if self._run(cy.COUNT_LINKS, dataset=dataset, **params)[0]["n"] != len(table):
            raise InputError(f"not every transition given is a candidate link of dataset {dataset!r}")
        return int(self._pin(cy.PIN_LINKS, dataset, value=value, **params))

    def _pin(self, query: str, dataset: str, **params: object) -> int:
        self._check_fence(dataset)
        rows = self._write(query, dataset, **params)
        if not rows or (not rows[0]["n"] and params.get("id", params.get("source"))):
            self._check_fence(dataset)  # nothing matched: the lock was taken meanwhile?
        return int(rows[0]["n"]) if rows else 0
