"""The schema: idempotent on the real server, and its file and document agree with the code."""

from __future__ import annotations

from pathlib import Path

from neotrack.store import SCHEMA_STATEMENTS, Label, Rel, Store, schema_cypher
from neotrack.store._vocab import HIERARCHY_CORE, LINK_CORE, SEGMENT_CORE, SEGMENT_SOLUTION

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schema"


def _schema_state(store: Store) -> tuple[list[tuple], list[tuple]]:
    constraints = store.query("SHOW CONSTRAINTS YIELD name, labelsOrTypes, properties, type")
    indexes = store.query("SHOW INDEXES YIELD name, labelsOrTypes, properties, type, state")
    return (
        sorted(map(tuple, constraints.astype(str).to_numpy())),
        sorted(map(tuple, indexes.astype(str).to_numpy())),
    )


def test_applying_the_schema_twice_changes_nothing(store: Store) -> None:
    before = _schema_state(store)
    assert store.apply_schema() == 0
    assert store.apply_schema() == 0
    assert _schema_state(store) == before
    names = {row[0] for row in before[0]} | {row[0] for row in before[1]}
    assert {"dataset_name", "segment_key", "segment_time", "segment_track", "store_key"} <= names


def test_schema_file_is_what_the_toolkit_applies() -> None:
    assert (SCHEMA_DIR / "constraints.cypher").read_text() == schema_cypher()
    assert len(SCHEMA_STATEMENTS) == 5


def test_graph_model_document_names_the_whole_vocabulary() -> None:
    doc = (SCHEMA_DIR / "graph-model.md").read_text()
    for name in [*Label, *Rel]:
        assert f"`{name}`" in doc, name
    for prop in (*SEGMENT_CORE, *SEGMENT_SOLUTION, "weight"):
        assert f"{prop}" in doc, prop
    assert set(LINK_CORE) - {"source", "target"} == {"weight"}
    assert HIERARCHY_CORE == ("parent", "child")


def test_lineage_queries_document_is_what_the_toolkit_runs() -> None:
    import re

    from neotrack.store._lineage import QUERIES

    doc = (SCHEMA_DIR / "lineage-queries.md").read_text()
    blocks = re.findall(r"```cypher\n(.*?)\n```", doc, flags=re.S)
    assert blocks == [q.strip() for q in QUERIES.values()]
