"""The graph's vocabulary: labels, relationship types and the property columns, defined once.

``schema/graph-model.md`` documents the same names; ``tests/test_schema.py`` keeps the two in step.
The column specs below drive the Cypher of bulk writes and reads (``_cypher.py``), the checks of
tables before they are written (``_tables.py``) and the dtypes of what is read back: a new core
property of a Segment is one line here.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import Any, Literal


class Label(StrEnum):
    DATASET = "Dataset"
    SEGMENT = "Segment"
    STORE = "NeotrackStore"
    """One node per database: the store's id, which keys its pixel folder on client machines."""


class Rel(StrEnum):
    CONTAINS = "CONTAINS"
    """Hierarchy inside one frame: (parent)-[:CONTAINS]->(child); a chain's members exclude each other."""
    LINK = "LINK"
    """Candidate transition t -> t+1 with its weight."""
    NEXT = "NEXT"
    """Selected transition t -> t+1: the solution's lineage edges."""


_REQUIRED: Any = object()


@dataclasses.dataclass(frozen=True)
class Column:
    """A property stored for every row: its name, kind and the default of an absent value."""

    name: str
    kind: Literal["int", "float", "ints"]
    default: Any = _REQUIRED

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


SEGMENT_COLUMNS = (
    Column("id", "int"),
    Column("t", "int"),
    Column("z", "float", 0.0),
    Column("y", "float"),
    Column("x", "float"),
    Column("area", "int"),
    Column("bbox", "ints", ()),
    Column("frontier", "float", -1.0),
    Column("height", "float", -1.0),
)
SOLUTION_COLUMNS = (
    Column("track_id", "int", 0),
    Column("parent_track_id", "int", 0),
    Column("lineage_id", "int", 0),
)
"""Written by the solver on selected segments (plus ``selected = true``), read by lineage queries."""
LINK_COLUMNS = (Column("source", "int"), Column("target", "int"), Column("weight", "float"))
HIERARCHY_COLUMNS = (Column("parent", "int"), Column("child", "int"))

SEGMENT_CORE = tuple(c.name for c in SEGMENT_COLUMNS)
SEGMENT_SOLUTION = ("selected", *(c.name for c in SOLUTION_COLUMNS))
LINK_CORE = tuple(c.name for c in LINK_COLUMNS)
HIERARCHY_CORE = tuple(c.name for c in HIERARCHY_COLUMNS)

# Ids encode the frame: id = t * ID_STRIDE + k, k < ID_STRIDE (k = 1, 2, ... within a frame).
ID_STRIDE = 1_000_000_000
