"""The Store: the one object callers use to talk to Neo4j.

Its parts live in modules of their own, one per seam, each a layer on the one below it:
``_connection`` (driver, schema, users' Cypher, batched writes) → ``_catalogue`` (datasets, their
write lock, stages and pixel folders) → ``_candidates`` (segments, hierarchy, links) →
``_solution`` (selection, transitions, track ids, pins, shifts).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from neotrack.store._solution import Solutions


class Store(Solutions):
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


@contextlib.contextmanager
def opened(store: Store | None) -> Iterator[Store]:
    """``store`` itself, or a new default Store that is closed again afterwards."""
    if store is not None:
        yield store
        return
    with Store() as own:
        yield own
