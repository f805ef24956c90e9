"""The Store: the one place that talks to Neo4j."""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Self

import neo4j
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from neotrack.errors import DatasetExistsError, DatasetNotFoundError, InputError, QueryError
from neotrack.store import _cypher as cy
from neotrack.store._errors import translated
from neotrack.store._schema import SCHEMA_STATEMENTS
from neotrack.store._tables import (
    hierarchy_columns,
    link_columns,
    segment_columns,
    to_python,
    validate_dataset_name,
)

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 20_000
_T_MAX = 2**62  # "until the end" for half-open time ranges
_SCHEMES = {"bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"}


@dataclass(frozen=True)
class Window:
    """Candidates of frames [t_start, t_stop) with the links and hierarchy edges among them."""

    t_start: int
    t_stop: int
    segments: pd.DataFrame
    links: pd.DataFrame
    hierarchy: pd.DataFrame


@contextlib.contextmanager
def opened(store: Store | None) -> Iterator[Store]:
    """``store`` itself, or a new default Store that is closed again afterwards."""
    if store is not None:
        yield store
        return
    with Store() as own:
        yield own


def default_uri() -> str:
    """``NEOTRACK_NEO4J_URI``, else the local server's URI."""
    from neotrack.server import ServerSettings  # the server package is optional for remote use

    return os.environ.get("NEOTRACK_NEO4J_URI") or ServerSettings.from_env().uri


class Store:
    """A connection to Neo4j holding neotrack datasets.

    Args:
        uri: ``bolt://`` or ``neo4j://`` (``neo4j+s://`` for Aura). Default: ``NEOTRACK_NEO4J_URI``,
            else the local server.
        user, password: Default ``NEOTRACK_NEO4J_USER`` (``neo4j``) and ``NEOTRACK_NEO4J_PASSWORD``;
            no password means no authentication (the local server on 127.0.0.1).
        database: Default ``NEOTRACK_NEO4J_DATABASE`` (``neo4j``, Community's only database).
        batch_size: Rows per write transaction.
        writers: Batches in flight at once. Two keep the server busy while the next batch is
            packed and the previous one commits (~1.4x the throughput of one on 2 cores).

    The schema (constraints, indexes) is applied on connect; doing so again changes nothing.
    """

    def __init__(
        self,
        uri: str | None = None,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        writers: int = 2,
    ) -> None:
        self.uri = uri or default_uri()
        password = password if password is not None else os.environ.get("NEOTRACK_NEO4J_PASSWORD")
        self.user = (user or os.environ.get("NEOTRACK_NEO4J_USER") or "neo4j") if password else None
        self.database = database or os.environ.get("NEOTRACK_NEO4J_DATABASE") or "neo4j"
        if batch_size < 1:
            raise InputError(f"batch_size must be at least 1, got {batch_size}")
        if writers < 1:
            raise InputError(f"writers must be at least 1, got {writers}")
        self.batch_size = batch_size
        self.writers = writers
        auth = (self.user or "neo4j", password) if password else None
        with translated(self.uri, self.user):
            try:
                if self.uri.split("://", 1)[0] not in _SCHEMES:
                    raise ValueError("unsupported scheme")
                self._driver = neo4j.GraphDatabase.driver(
                    self.uri, auth=auth, notifications_min_severity="OFF"
                )
            except (ValueError, neo4j.exceptions.ConfigurationError) as exc:
                raise InputError(
                    f"bad Neo4j URI {self.uri!r} ({exc}): expected bolt://host:port, "
                    "neo4j://host:port or neo4j+s://host for Aura"
                ) from None
            try:
                self._driver.verify_connectivity()
            except BaseException:
                self._driver.close()
                raise
        self.apply_schema()

    # --- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        self._driver.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.uri!r}, database={self.database!r})"

    def apply_schema(self) -> int:
        """Create missing constraints and indexes; returns how many were created (0 when present)."""
        created = 0
        with translated(self.uri, self.user):
            for stmt in SCHEMA_STATEMENTS:
                summary = self._driver.execute_query(stmt, database_=self.database).summary
                created += summary.counters.constraints_added + summary.counters.indexes_added
            if created:
                self._driver.execute_query("CALL db.awaitIndexes(300)", database_=self.database)
        return created

    # --- datasets -------------------------------------------------------------------------
    def create_dataset(self, name: str, overwrite: bool = False, **attrs: Any) -> None:
        """Create dataset ``name`` with scalar or list attributes (shape, voxel_size, source...).

        Raises:
            DatasetExistsError: it exists and ``overwrite`` is False.
        """
        validate_dataset_name(name)
        props = {k: to_python(v) for k, v in attrs.items() if v is not None}
        if self.has_dataset(name):
            if not overwrite:
                raise DatasetExistsError(
                    f"dataset {name!r} exists already: choose another name, or overwrite it "
                    "(--overwrite / overwrite=True)"
                )
            self.delete_dataset(name)
        self._run(cy.CREATE_DATASET, name=name, props=props)
        log.info("created dataset %r", name)

    def update_dataset(self, name: str, **attrs: Any) -> None:
        """Set attributes of an existing dataset (e.g. a step's provenance)."""
        props = {k: to_python(v) for k, v in attrs.items()}
        if not self._run(cy.UPDATE_DATASET, name=name, props=props)[0]["n"]:
            raise _not_found(name)

    def has_dataset(self, name: str) -> bool:
        return bool(self._run(cy.GET_DATASET, name=name))

    def dataset(self, name: str) -> dict[str, Any]:
        """The attributes of dataset ``name``."""
        rows = self._run(cy.GET_DATASET, name=name)
        if not rows:
            raise _not_found(name)
        return {k: _native(v) for k, v in rows[0]["props"].items()}

    def list_datasets(self) -> pd.DataFrame:
        """One row per dataset: name, created, segments, ndim, shape, source."""
        rows = self._run(cy.LIST_DATASETS)
        cols = ["name", "created", "segments", "ndim", "shape", "source"]
        return pd.DataFrame([dict(r) for r in rows], columns=cols)

    def delete_dataset(self, name: str) -> int:
        """Delete a dataset and everything in it, in batches; returns the segments deleted.

        Nothing of any other dataset is touched: every element carries its dataset's name.
        """
        deleted = self.delete_segments(name)
        self._run(cy.DELETE_DATASET_NODE, name=name)
        log.info("deleted dataset %r (%d segments)", name, deleted)
        return deleted

    def delete_segments(self, dataset: str, t_start: int = 0) -> int:
        """Delete the segments of frames >= ``t_start`` with their relationships, in batches."""
        self._require(dataset)
        deleted = 0
        while True:
            n = self._run(cy.DELETE_SEGMENTS_BATCH, name=dataset, t_start=t_start, batch=self.batch_size)[0][
                "deleted"
            ]
            deleted += n
            if n == 0:
                return deleted

    def delete_links(self, dataset: str) -> int:
        """Delete the dataset's candidate transitions (LINK), in batches."""
        self._require(dataset)
        deleted = 0
        while True:
            n = self._run(cy.DELETE_LINKS_BATCH, dataset=dataset, batch=self.batch_size)[0]["deleted"]
            deleted += n
            if n == 0:
                return deleted

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
        columns = hierarchy_columns(table)
        return self._write_batches(
            dataset,
            cy.WRITE_HIERARCHY,
            columns,
            None,
            "hierarchy edges",
            progress,
            lambda s: s.counters.relationships_created,
        )

    def _write_batches(
        self,
        dataset: str,
        query: str,
        columns: dict[str, list[Any]],
        extra: list[dict[str, Any]] | None,
        what: str,
        progress: bool,
        created: Callable[[neo4j.ResultSummary], int],
    ) -> int:
        """Send ``columns`` in batches, each its own transaction, ``self.writers`` at a time.

        After the first failing batch no further batch is started; the error is raised once the
        batches in flight have finished. A failed batch leaves nothing of itself.
        """
        self._require(dataset)
        n = len(next(iter(columns.values())))
        bounds = [(lo, min(lo + self.batch_size, n)) for lo in range(0, n, self.batch_size)]

        def send(lo: int, hi: int) -> int:
            params: dict[str, Any] = {k: v[lo:hi] for k, v in columns.items()}
            if extra is not None:
                params["extra"] = extra[lo:hi]
            with translated(self.uri, self.user), self._driver.session(database=self.database) as ses:
                return int(ses.execute_write(_write_tx, query, dataset, params, hi - lo, what, created))

        written = 0
        bar = tqdm(total=n, desc=f"writing {what}", unit="row", disable=None if progress else True)
        with bar, ThreadPoolExecutor(self.writers, thread_name_prefix="neotrack-write") as pool:
            pending = iter(bounds)
            in_flight = {pool.submit(send, *b) for b in itertools.islice(pending, self.writers)}
            error: BaseException | None = None
            while in_flight:
                done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    if future.exception() is not None:
                        error = error or future.exception()
                        continue
                    written += future.result()
                    bar.update(future.result())
                    if error is None:
                        in_flight |= {pool.submit(send, *b) for b in itertools.islice(pending, 1)}
            if error is not None:
                raise error
        log.debug("wrote %d %s to %r", written, what, dataset)
        return written

    # --- solutions -----------------------------------------------------------------------
    def clear_solution(self, dataset: str, t_start: int = 0) -> int:
        """Forget the solution of frames >= ``t_start``: flags, track ids, NEXT transitions."""
        self._require(dataset)
        cleared = 0
        for query in (cy.CLEAR_NEXT_BATCH, cy.CLEAR_SELECTION_BATCH):
            while n := self._run(query, dataset=dataset, t_start=t_start, batch=self.batch_size)[0]["n"]:
                cleared += n if query is cy.CLEAR_SELECTION_BATCH else 0
        return cleared

    def write_selection(self, dataset: str, ids: Sequence[int]) -> int:
        """Mark segments as selected (in the solution)."""
        columns = {"id": [int(i) for i in ids]}
        if not columns["id"]:
            return 0
        return self._write_batches(
            dataset,
            cy.WRITE_SELECTED,
            columns,
            None,
            "selections",
            False,
            lambda s: s.counters.properties_set,
        )

    def write_transitions(self, dataset: str, table: pd.DataFrame) -> int:
        """Selected transitions (``source, target``) as NEXT relationships."""
        if table.empty:
            return 0
        columns = {k: table[k].astype("int64").tolist() for k in ("source", "target")}
        return self._write_batches(
            dataset,
            cy.WRITE_NEXT,
            columns,
            None,
            "transitions",
            False,
            lambda s: s.counters.relationships_created,
        )

    def write_tracks(self, dataset: str, table: pd.DataFrame) -> int:
        """Track ids of selected segments: ``id, track_id, parent_track_id, lineage_id``."""
        if table.empty:
            return 0
        keys = ("id", "track_id", "parent_track_id", "lineage_id")
        columns = {k: table[k].astype("int64").tolist() for k in keys}
        return self._write_batches(
            dataset,
            cy.WRITE_TRACKS,
            columns,
            None,
            "track ids",
            False,
            lambda s: s.counters.properties_set // 3,
        )

    def write_shifts(self, dataset: str, table: pd.DataFrame) -> int:
        """Expected displacement t -> t+1 of segments (pixels): ``id, shift_z, shift_y, shift_x``."""
        if table.empty:
            return 0
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
        stop = _T_MAX if t_stop is None else t_stop
        row = self._run(cy.READ_SELECTED, dataset=dataset, t_start=t_start, t_stop=stop)[0]
        ints = ("id", "t", "area", "track_id", "parent_track_id", "lineage_id")
        segments = pd.DataFrame(
            {
                k: np.asarray(row[k], dtype=np.int64 if k in ints else np.float64)
                for k in ("id", "t", "z", "y", "x", "area")
            }
        )
        segments["bbox"] = row["bbox"]
        for k in ("track_id", "parent_track_id", "lineage_id"):
            segments[k] = np.asarray(row[k], dtype=np.int64)
        nxt = self._run(cy.READ_NEXT, dataset=dataset, t_start=t_start, t_stop=stop)[0]
        edges = pd.DataFrame(
            {
                "source": np.asarray(nxt["source"], dtype=np.int64),
                "target": np.asarray(nxt["target"], dtype=np.int64),
            }
        )
        return (
            segments.sort_values("id", ignore_index=True),
            edges.sort_values(["source", "target"], ignore_index=True),
        )

    def pin_segments(self, dataset: str, ids: Sequence[int], value: bool | None) -> int:
        """Force segments into (True) or out of (False) the next solution; None removes the pin."""
        params = {"dataset": dataset, "id": [int(i) for i in ids]}
        if self._run(cy.COUNT_SEGMENTS, **params)[0]["n"] != len(params["id"]):
            raise InputError(f"not every segment of {params['id']} is in dataset {dataset!r}")
        return int(self._run(cy.PIN_SEGMENTS, value=value, **params)[0]["n"])

    def pin_links(self, dataset: str, table: pd.DataFrame, value: bool | None) -> int:
        """Force candidate transitions (``source, target``) in (True) or out (False); None unpins."""
        params = {
            "dataset": dataset,
            "source": table.source.astype("int64").tolist(),
            "target": table.target.astype("int64").tolist(),
        }
        if self._run(cy.COUNT_LINKS, **params)[0]["n"] != len(table):
            raise InputError(f"not every transition given is a candidate link of dataset {dataset!r}")
        return int(self._run(cy.PIN_LINKS, value=value, **params)[0]["n"])

    # --- bulk reads -----------------------------------------------------------------------
    def time_range(self, dataset: str) -> tuple[int, int, int]:
        """(first frame, last frame, number of segments); (0, -1, 0) for an empty dataset."""
        row = self._run(cy.TIME_RANGE, dataset=dataset)[0]
        if row["n"] == 0:
            return 0, -1, 0
        return int(row["t_min"]), int(row["t_max"]), int(row["n"])

    def segment_properties(self, dataset: str) -> set[str]:
        """The property keys the dataset's segments carry (those of one of them)."""
        rows = self._run(cy.SEGMENT_KEYS, dataset=dataset)
        return set(rows[0]["keys"]) if rows else set()

    def read_segments(
        self, dataset: str, t_start: int = 0, t_stop: int | None = None, extra: Sequence[str] = ()
    ) -> pd.DataFrame:
        """Segments of frames [t_start, t_stop), sorted by id, with the ``extra`` properties."""
        self._require(dataset)
        row = self._run(
            cy.READ_SEGMENTS,
            dataset=dataset,
            t_start=t_start,
            t_stop=_T_MAX if t_stop is None else t_stop,
            extra=list(extra),
        )[0]
        df = pd.DataFrame(
            {
                "id": np.asarray(row["id"], dtype=np.int64),
                "t": np.asarray(row["t"], dtype=np.int64),
                "z": np.asarray(row["z"], dtype=np.float64),
                "y": np.asarray(row["y"], dtype=np.float64),
                "x": np.asarray(row["x"], dtype=np.float64),
                "area": np.asarray(row["area"], dtype=np.int64),
                "bbox": row["bbox"],
                "frontier": np.asarray(row["frontier"], dtype=np.float64),
                "height": np.asarray(row["height"], dtype=np.float64),
            }
        )
        _add_extra(df, extra, row["extra"])
        return df.sort_values("id", ignore_index=True)

    def read_links(
        self, dataset: str, t_start: int = 0, t_stop: int | None = None, extra: Sequence[str] = ()
    ) -> pd.DataFrame:
        """Links whose source and target both lie in frames [t_start, t_stop)."""
        self._require(dataset)
        row = self._run(
            cy.READ_LINKS,
            dataset=dataset,
            t_start=t_start,
            t_stop=_T_MAX if t_stop is None else t_stop,
            extra=list(extra),
        )[0]
        df = pd.DataFrame(
            {
                "source": np.asarray(row["source"], dtype=np.int64),
                "target": np.asarray(row["target"], dtype=np.int64),
                "weight": np.asarray(row["weight"], dtype=np.float64),
            }
        )
        _add_extra(df, extra, row["extra"])
        return df.sort_values(["source", "target"], ignore_index=True)

    def read_hierarchy(self, dataset: str, t_start: int = 0, t_stop: int | None = None) -> pd.DataFrame:
        """Hierarchy edges (parent contains child) of frames [t_start, t_stop)."""
        self._require(dataset)
        row = self._run(
            cy.READ_HIERARCHY, dataset=dataset, t_start=t_start, t_stop=_T_MAX if t_stop is None else t_stop
        )[0]
        return pd.DataFrame(
            {
                "parent": np.asarray(row["parent"], dtype=np.int64),
                "child": np.asarray(row["child"], dtype=np.int64),
            }
        ).sort_values(["parent", "child"], ignore_index=True)

    def read_window(self, dataset: str, t_start: int, t_stop: int) -> Window:
        """Everything the solver needs about frames [t_start, t_stop)."""
        return Window(
            t_start,
            t_stop,
            self.read_segments(dataset, t_start, t_stop),
            self.read_links(dataset, t_start, t_stop),
            self.read_hierarchy(dataset, t_start, t_stop),
        )

    # --- users' Cypher --------------------------------------------------------------------
    def query(self, cypher: str, **params: Any) -> pd.DataFrame:
        """Run a user's Cypher with parameters (``$name`` in the text) and return a DataFrame.

        Nodes and relationships in the result become dicts of their properties.
        """
        with translated(self.uri, self.user), self._driver.session(database=self.database) as ses:
            result = ses.run(cypher, {k: to_python(v) for k, v in params.items()})
            keys = list(result.keys())
            rows = [[_native(v) for v in rec.values()] for rec in result]
        return pd.DataFrame(rows, columns=keys)

    # --- internals ------------------------------------------------------------------------
    def _run(self, cypher: str, **params: Any) -> list[neo4j.Record]:
        with translated(self.uri, self.user):
            return self._driver.execute_query(cypher, params, database_=self.database).records

    def _require(self, dataset: str) -> None:
        if not self.has_dataset(dataset):
            raise _not_found(dataset)


def _write_tx(
    tx: neo4j.ManagedTransaction,
    query: str,
    dataset: str,
    params: dict[str, Any],
    expected: int,
    what: str,
    created: Callable[[neo4j.ResultSummary], int],
) -> int:
    """One batch in one transaction; raising here rolls the whole batch back."""
    summary = tx.run(query, dataset=dataset, **params).consume()
    n = int(created(summary))
    if n != expected:
        raise QueryError(
            f"{expected - n} of {expected} {what} in this batch refer to segments that are not "
            f"stored in dataset {dataset!r}; nothing of this batch was written"
        )
    return n


def _add_extra(df: pd.DataFrame, names: Sequence[str], rows: list[list[Any]]) -> None:
    for j, name in enumerate(names):
        df[name] = [r[j] for r in rows]


def _native(value: Any) -> Any:
    """Graph values as plain Python: nodes/relationships → property dicts, temporals → ISO text."""
    if isinstance(value, neo4j.graph.Node | neo4j.graph.Relationship):
        return {k: _native(v) for k, v in value.items()}
    if isinstance(value, neo4j.graph.Path):
        return [_native(n) for n in value.nodes]
    if isinstance(value, list):
        return [_native(v) for v in value]
    if isinstance(value, dict):
        return {k: _native(v) for k, v in value.items()}
    if hasattr(value, "iso_format"):
        return value.iso_format()
    return value


def _not_found(name: str) -> DatasetNotFoundError:
    return DatasetNotFoundError(
        f"no dataset {name!r} in this database: `neotrack datasets list` shows the stored ones"
    )
