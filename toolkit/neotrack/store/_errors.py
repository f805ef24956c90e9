"""Turn Neo4j driver exceptions into the toolkit's own, with messages that say what to do."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from neo4j import exceptions as nx

from neotrack.errors import (
    AuthenticationError,
    DatabaseUnavailableError,
    NeotrackError,
    QueryError,
    StoreError,
)


@contextlib.contextmanager
def translated(uri: str, user: str | None) -> Iterator[None]:
    """Re-raise driver errors raised inside the block as :class:`~neotrack.errors.StoreError`."""
    try:
        yield
    except NeotrackError:
        raise
    except nx.AuthError:
        who = f"user {user!r}" if user else "no credentials"
        raise AuthenticationError(
            f"Neo4j at {uri} refused {who}: set NEOTRACK_NEO4J_USER and NEOTRACK_NEO4J_PASSWORD"
        ) from None
    except (nx.ServiceUnavailable, nx.SessionExpired, OSError) as exc:
        raise DatabaseUnavailableError(
            f"cannot reach Neo4j at {uri} ({_short(exc)}): start the local one with "
            "`neotrack db start`, or point --uri / NEOTRACK_NEO4J_URI at a running server"
        ) from None
    except nx.ConstraintError as exc:
        raise QueryError(f"already stored: {_short(exc)}; nothing of this batch was written") from None
    except nx.CypherSyntaxError as exc:
        raise QueryError(f"Cypher syntax error: {_short(exc)}") from None
    except nx.Neo4jError as exc:
        if (exc.code or "").endswith("Statement.AccessMode"):
            raise QueryError(
                "this statement would change the graph, and the query runs read-only: "
                "allow writes explicitly (`neotrack query --write`, Store.query(..., write=True))"
            ) from None
        if "MemoryPoolOutOfMemoryError" in (exc.code or "") or "memory" in (exc.message or ""):
            raise QueryError(
                f"Neo4j ran out of transaction memory ({_short(exc)}): use smaller batches "
                "or give the server more heap (NEOTRACK_NEO4J_HEAP)"
            ) from None
        raise QueryError(f"Neo4j rejected the statement: {_short(exc)}") from None
    except nx.DriverError as exc:
        raise StoreError(f"Neo4j driver error talking to {uri}: {_short(exc)}") from None


def _short(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:300]
