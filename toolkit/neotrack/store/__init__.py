"""Neo4j as the store of record: datasets, candidate segments, links, hierarchy, Cypher queries."""

from neotrack.store._candidates import Window
from neotrack.store._connection import DEFAULT_BATCH_SIZE, check_uri, default_uri
from neotrack.store._info import DatasetInfo, Stage, StageState
from neotrack.store._lineage import Lineage
from neotrack.store._schema import SCHEMA_STATEMENTS, schema_cypher
from neotrack.store._store import Store, opened
from neotrack.store._tables import frames_spanned, segment_id
from neotrack.store._vocab import ID_STRIDE, Label, Rel

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "ID_STRIDE",
    "SCHEMA_STATEMENTS",
    "DatasetInfo",
    "Label",
    "Lineage",
    "Rel",
    "Stage",
    "StageState",
    "Store",
    "Window",
    "check_uri",
    "default_uri",
    "frames_spanned",
    "opened",
    "schema_cypher",
    "segment_id",
]
