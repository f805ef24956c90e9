"""The toolkit's own exceptions: each message says what went wrong and what to do about it."""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "DatabaseUnavailableError",
    "DatasetBusyError",
    "DatasetExistsError",
    "DatasetNotFoundError",
    "InputError",
    "NeotrackError",
    "QueryError",
    "ServerError",
    "SolveError",
    "StoreError",
]


class NeotrackError(Exception):
    """Base class of every error neotrack raises on purpose; its message is one line for users."""


class InputError(NeotrackError, ValueError):
    """A file, frame or parameter is not what was expected; nothing was written."""


class ServerError(NeotrackError):
    """The local Neo4j server could not be built, started or stopped."""


class StoreError(NeotrackError):
    """Talking to Neo4j failed."""


class DatabaseUnavailableError(StoreError):
    """No Neo4j server answers at the URI, or the URI is malformed."""


class AuthenticationError(StoreError):
    """The server refused the credentials."""


class QueryError(StoreError):
    """A Cypher statement was rejected (syntax, constraint, type or memory)."""


class DatasetNotFoundError(StoreError, KeyError):
    """No dataset of that name is stored."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DatasetExistsError(StoreError):
    """A dataset of that name is stored already (pass overwrite=True to replace it)."""


class DatasetBusyError(StoreError):
    """Another run is writing this dataset (its write lock is held); nothing was written."""


class SolveError(NeotrackError):
    """The tracking program could not be solved (infeasible, solver unavailable, no solution in time)."""
