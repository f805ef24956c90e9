"""The connection to Neo4j: driver, schema, the store's id, users' Cypher, and batched writes."""

from __future__ import annotations

import itertools
import logging
import os
import re
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any, Self
from urllib.parse import urlsplit

import neo4j
import pandas as pd
from tqdm.auto import tqdm

from neotrack._system import check_port
from neotrack.errors import DatasetBusyError, DatasetNotFoundError, InputError, QueryError
from neotrack.store import _cypher as cy
from neotrack.store._errors import translated
from neotrack.store._schema import SCHEMA_STATEMENTS
from neotrack.store._tables import to_python

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 20_000
LOCK_TIMEOUT = 90
"""Seconds without a heartbeat after which a write lock is stale (its holder is gone)."""
HEARTBEAT_INTERVAL = 10
_SCHEMES = {"bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"}


def default_uri() -> str:
    """``NEOTRACK_NEO4J_URI``, else the local server's URI."""
    from neotrack.server import ServerSettings  # the server package is optional for remote use

    return os.environ.get("NEOTRACK_NEO4J_URI") or ServerSettings.from_env().uri


_HOST_PORT = re.compile(r"(\[[^\]]*\]|[^:\[\]]*)(?::([^:]*))?")


def check_uri(uri: str) -> str:
    """``uri`` unchanged when it names a Bolt server (a port, if given, from 1 to 65535).

    The driver would not say so: it wraps a port beyond 65535 (70000 becomes 4464), takes port 0
    for the default 7687, and fails with a traceback on a port that is not a number.
    """
    expected = "expected bolt://host:port, neo4j://host:port or neo4j+s://host for Aura"
    try:
        parts = urlsplit(uri)
    except ValueError as exc:
        raise InputError(f"bad Neo4j URI {uri!r} ({exc}): {expected}") from None
    match = _HOST_PORT.fullmatch(parts.netloc.rpartition("@")[2])
    if parts.scheme not in _SCHEMES or match is None or not match.group(1):
        raise InputError(f"bad Neo4j URI {uri!r}: {expected}")
    if match.group(2) is not None:
        try:
            check_port(match.group(2))
        except InputError as exc:
            raise InputError(f"bad Neo4j URI {uri!r}: {exc}") from None
    return uri


class Connection:
    """A driver for one Neo4j database, with the schema applied and the store's id read."""

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
        self._tokens: dict[str, str] = {}  # dataset -> this client's write lock on it
        check_uri(self.uri)
        auth = (self.user or "neo4j", password) if password else None
        with translated(self.uri, self.user):
            try:
                self._driver = neo4j.GraphDatabase.driver(
                    self.uri, auth=auth, notifications_min_severity="OFF"
                )
            except (ValueError, neo4j.exceptions.ConfigurationError) as exc:
                raise InputError(f"bad Neo4j URI {self.uri!r} ({exc})") from None
            try:
                self._driver.verify_connectivity()
            except BaseException:
                self._driver.close()
                raise
        self.apply_schema()
        self.store_id: str = self._run(cy.STORE_ID, id=uuid.uuid4().hex)[0]["id"]
        """This database's id, written once: it keys the folder of the store's pixels."""

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

    # --- users' Cypher --------------------------------------------------------------------
    def query(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, write: bool = False, **kwargs: Any
    ) -> pd.DataFrame:
        """Run a user's Cypher with parameters (``$name`` in the text) and return a DataFrame.

        Parameters come from ``params`` and/or keyword arguments. The query runs read-only unless
        ``write=True``: a statement that would change the graph is then refused by the server.
        Nodes and relationships in the result become dicts of their properties.
        """
        values = {k: to_python(v) for k, v in {**(params or {}), **kwargs}.items()}
        mode = neo4j.WRITE_ACCESS if write else neo4j.READ_ACCESS
        with (
            translated(self.uri, self.user),
            self._driver.session(database=self.database, default_access_mode=mode) as ses,
        ):
            result = ses.run(cypher, values)
            keys = list(result.keys())
            rows = [[native(v) for v in rec.values()] for rec in result]
        return pd.DataFrame(rows, columns=keys)

    # --- internals ------------------------------------------------------------------------
    def _run(self, cypher: str, **params: Any) -> list[neo4j.Record]:
        with translated(self.uri, self.user):
            return self._driver.execute_query(cypher, params, database_=self.database).records

    def _write(self, cypher: str, dataset: str, **params: Any) -> list[neo4j.Record]:
        """A fenced statement on ``dataset`` (see ``_cypher``), with this client's lock token."""
        return self._run(cypher, dataset=dataset, token=self._tokens.get(dataset), **params)

    def _busy(self, dataset: str) -> DatasetBusyError | None:
        """The error to raise when another client holds ``dataset``'s write lock, else None.

        Raises:
            DatasetNotFoundError: there is no such dataset.
        """
        rows = self._run(cy.LOCK_STATE, dataset=dataset, timeout=LOCK_TIMEOUT)
        if not rows:
            raise not_found(dataset)
        owner, mine = rows[0]["owner"], self._tokens.get(dataset)
        if mine is not None and owner != mine:
            return DatasetBusyError(
                f"lost the write lock of dataset {dataset!r} (it expired, or another run took it "
                "over): nothing more was written; run the step again"
            )
        if owner is None or owner == mine:
            return None
        return busy_error(dataset, rows[0])

    def _check_fence(self, dataset: str) -> None:
        """Raise unless this client may write ``dataset`` now (it holds the lock, or none is held)."""
        if (busy := self._busy(dataset)) is not None:
            raise busy

    def require_lock(self, dataset: str) -> None:
        """Raise ``DatasetBusyError`` unless this client may write ``dataset`` now: for writes the
        graph's fence cannot guard (pixels), made just before each."""
        self._check_fence(dataset)

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
        n = len(next(iter(columns.values())))
        if n == 0:
            return 0
        bounds = [(lo, min(lo + self.batch_size, n)) for lo in range(0, n, self.batch_size)]
        token = self._tokens.get(dataset)

        def send(lo: int, hi: int) -> int:
            params: dict[str, Any] = {k: v[lo:hi] for k, v in columns.items()}
            if extra is not None:
                params["extra"] = extra[lo:hi]
            with translated(self.uri, self.user), self._driver.session(database=self.database) as ses:
                return int(
                    ses.execute_write(_write_tx, query, dataset, token, params, hi - lo, what, created)
                )

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
                if isinstance(error, _Fenced):  # say why: busy, lost lock, or no such dataset
                    self._check_fence(dataset)
                raise error
        log.debug("wrote %d %s to %r", written, what, dataset)
        return written


class _Fenced(QueryError):
    """A batch matched no dataset: it was deleted, or another client holds its lock."""


def _write_tx(
    tx: neo4j.ManagedTransaction,
    query: str,
    dataset: str,
    token: str | None,
    params: dict[str, Any],
    expected: int,
    what: str,
    created: Callable[[neo4j.ResultSummary], int],
) -> int:
    """One batch in one transaction; raising here rolls the whole batch back."""
    summary = tx.run(query, dataset=dataset, token=token, **params).consume()
    n = int(created(summary))
    if n == 0 and expected and not _may_write(tx, dataset, token):  # the fence stopped the batch
        raise _Fenced(f"no {what} written: dataset {dataset!r} was deleted, or another run writes it")
    if n != expected:
        raise QueryError(
            f"{expected - n} of {expected} {what} in this batch refer to segments that are not "
            f"stored in dataset {dataset!r}; nothing of this batch was written"
        )
    return n


def _may_write(tx: neo4j.ManagedTransaction, dataset: str, token: str | None) -> bool:
    return bool(tx.run(cy.MAY_WRITE, dataset=dataset, token=token).single(strict=True)["n"])


def native(value: Any) -> Any:
    """Graph values as plain Python: nodes/relationships → property dicts, temporals → ISO text."""
    if isinstance(value, neo4j.graph.Node | neo4j.graph.Relationship):
        return {k: native(v) for k, v in value.items()}
    if isinstance(value, neo4j.graph.Path):
        return [native(n) for n in value.nodes]
    if isinstance(value, list):
        return [native(v) for v in value]
    if isinstance(value, dict):
        return {k: native(v) for k, v in value.items()}
    if hasattr(value, "iso_format"):
        return value.iso_format()
    return value


def not_found(name: str) -> DatasetNotFoundError:
    return DatasetNotFoundError(
        f"no dataset {name!r} in this database: `neotrack datasets list` shows the stored ones"
    )


def busy_error(dataset: str, lock: Mapping[str, Any]) -> DatasetBusyError:
    """What to tell a client that finds ``dataset`` locked by another (``LOCK_STATE``'s row)."""
    since = str(lock.get("since") or "?")[:19].replace("T", " ")
    return DatasetBusyError(
        f"dataset {dataset!r} is being written by `{lock.get('stage')}` on {lock.get('host')} "
        f"(pid {lock.get('pid')}, since {since} UTC): wait for it to finish; a lock whose process "
        f"is gone expires {LOCK_TIMEOUT} s after its last sign of life (at once on the same machine)"
    )
