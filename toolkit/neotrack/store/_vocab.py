"""The graph's vocabulary: labels, relationship types and property keys, defined once.

``schema/graph-model.md`` documents the same names; ``tests/test_schema.py`` keeps the two in step.
"""

from __future__ import annotations

from enum import StrEnum


class Label(StrEnum):
    DATASET = "Dataset"
    SEGMENT = "Segment"


class Rel(StrEnum):
    CONTAINS = "CONTAINS"
    """Hierarchy inside one frame: (parent)-[:CONTAINS]->(child); a chain's members exclude each other."""
    LINK = "LINK"
    """Candidate transition t -> t+1 with its weight."""
    NEXT = "NEXT"
    """Selected transition t -> t+1: the solution's lineage edges."""


# Segment properties every candidate has, in the order of the columnar write/read queries.
SEGMENT_CORE = ("id", "t", "z", "y", "x", "area", "bbox", "frontier", "height")
SEGMENT_INTS = ("id", "t", "area")
# Properties written by the solver (issue: solve) and read by lineage queries.
SEGMENT_SOLUTION = ("selected", "track_id", "parent_track_id", "lineage_id")
LINK_CORE = ("source", "target", "weight")
HIERARCHY_CORE = ("parent", "child")

# Ids encode the frame: id = t * ID_STRIDE + k, k < ID_STRIDE (k = 1, 2, ... within a frame).
ID_STRIDE = 1_000_000_000
