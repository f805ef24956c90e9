"""Constraints and indexes, applied idempotently on connect; ``schema/constraints.cypher`` mirrors them."""

from __future__ import annotations

from neotrack.store._vocab import Label

# Each statement names its constraint or index so that IF NOT EXISTS makes re-applying a no-op.
SCHEMA_STATEMENTS: tuple[str, ...] = (
    f"CREATE CONSTRAINT dataset_name IF NOT EXISTS FOR (d:{Label.DATASET}) REQUIRE d.name IS UNIQUE",
    f"CREATE CONSTRAINT segment_key IF NOT EXISTS FOR (s:{Label.SEGMENT}) "
    "REQUIRE (s.dataset, s.id) IS UNIQUE",
    f"CREATE INDEX segment_time IF NOT EXISTS FOR (s:{Label.SEGMENT}) ON (s.dataset, s.t)",
    f"CREATE CONSTRAINT store_key IF NOT EXISTS FOR (m:{Label.STORE}) REQUIRE m.key IS UNIQUE",
    f"CREATE INDEX segment_track IF NOT EXISTS FOR (s:{Label.SEGMENT}) ON (s.dataset, s.track_id)",
)


def schema_cypher() -> str:
    """The schema as a Cypher script (what ``schema/constraints.cypher`` holds)."""
    header = (
        "// neotrack graph schema: applied by the toolkit on every connect (idempotent).\n"
        "// Generated from toolkit/neotrack/store/_schema.py; tests/test_schema.py checks they agree.\n"
    )
    return header + "".join(f"{stmt};\n" for stmt in SCHEMA_STATEMENTS)
