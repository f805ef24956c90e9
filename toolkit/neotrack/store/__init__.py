"""Neo4j as the store of record: datasets, candidate segments, links, hierarchy, Cypher queries."""

from neotrack.store._lineage import Lineage
from neotrack.store._schema import SCHEMA_STATEMENTS, schema_cypher
from neotrack.store._store import DEFAULT_BATCH_SIZE, Store, Window, default_uri, opened
from neotrack.store._tables import segment_id
from neotrack.store._vocab import ID_STRIDE, Label, Rel

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "ID_STRIDE",
    "SCHEMA_STATEMENTS",
    "Label",
    "Lineage",
    "Rel",
    "Store",
    "Window",
    "default_uri",
    "opened",
    "schema_cypher",
    "segment_id",
]
