"""Every Cypher statement the toolkit sends: constant text, values always passed as parameters.

Columnar parameters (one list per property, indexed by ``i``) pack and unpack several times faster
than a list of maps, and reads ``collect()`` each column into one list so that a window arrives as a
handful of large values instead of tens of thousands of records.

Every statement that changes a dataset starts with ``_FENCE``: it matches the dataset only when the
caller holds its write lock (``$token``), or holds none while nobody does (``$token`` null) — so a
client that lost its lock (it expired, another run took it over and maybe finished) writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from neotrack.store._vocab import (
    LINK_COLUMNS,
    SEGMENT_COLUMNS,
    SOLUTION_COLUMNS,
    Column,
    Label,
    Rel,
)

D, S = Label.DATASET, Label.SEGMENT
_FENCE = (
    f"MATCH (d:{D} {{name: $dataset}}) "
    "WHERE d.lock_owner = $token OR ($token IS NULL AND d.lock_owner IS NULL)\n"
)


def _props(columns: Sequence[Column]) -> str:
    return ", ".join(f"{c.name}: ${c.name}[i]" for c in columns)


def _collect(var: str, columns: Sequence[Column]) -> str:
    """``collect(s.x) AS x, ...``; a column with a default is read as that default where absent."""
    parts = []
    for c in columns:
        value = f"{var}.{c.name}"
        if not c.required and c.kind == "int":
            value = f"coalesce({value}, {c.default})"
        parts.append(f"collect({value}) AS {c.name}")
    return ", ".join(parts)


# --- the store's own node -------------------------------------------------------------------
STORE_ID = f"""
MERGE (m:{Label.STORE} {{key: 'store'}})
ON CREATE SET m.id = $id, m.created = datetime()
RETURN m.id AS id
"""

# --- datasets -------------------------------------------------------------------------------
CREATE_DATASET = f"""
CREATE (d:{D} {{name: $dataset}}) SET d += $props, d.created = datetime()
WITH d WHERE d.lock_owner IS NOT NULL
SET d.lock_since = datetime(), d.lock_seen = datetime()
"""
UPDATE_DATASET = _FENCE + "SET d += $props RETURN count(d) AS n"
MAY_WRITE = _FENCE + "RETURN count(d) AS n"
"""1 when the caller may write the dataset now (the fence lets it through), else 0."""
GET_DATASET = f"MATCH (d:{D} {{name: $dataset}}) RETURN properties(d) AS props"
LIST_DATASETS = f"""
MATCH (d:{D})
RETURN d.name AS name, toString(d.created) AS created,
       COUNT {{ MATCH (s:{S} {{dataset: d.name}}) WHERE s.t >= 0 AND s.merger IS NULL }} AS segments,
       d.ndim AS ndim, d.shape AS shape,
       CASE WHEN d.solve_status = 'done' THEN 'solved'
            WHEN d.lock_owner IS NOT NULL THEN d.lock_stage + ' running'
            WHEN d.solve_status IS NOT NULL THEN 'solve interrupted'
            WHEN d.link_status = 'done' THEN 'linked'
            WHEN d.link_status IS NOT NULL THEN 'link interrupted'
            WHEN d.segment_status = 'done' THEN 'segmented'
            WHEN d.segment_status IS NOT NULL THEN 'segment interrupted'
            ELSE 'empty' END AS stage,
       d.source AS source
ORDER BY name
"""
DELETE_SEGMENTS_BATCH = (
    _FENCE
    + f"""MATCH (s:{S} {{dataset: $dataset}}) WHERE s.t >= $t_start
WITH s LIMIT $batch
DETACH DELETE s
RETURN count(*) AS deleted
"""
)
DELETE_DATASET_NODE = _FENCE + "DELETE d RETURN count(*) AS n"

# --- the write lock: one writer per dataset, whatever machine it runs on ----------------------
# Setting a property first takes the node's write lock, so what follows reads the latest committed
# state and two clients cannot both see the lock free (Neo4j's documented guard against lost updates).
ACQUIRE_LOCK = f"""
MATCH (d:{D} {{name: $dataset}})
SET d.lock_probe = true
WITH d, d.lock_owner IS NULL OR d.lock_owner = $stale_owner
        OR d.lock_seen < datetime() - duration({{seconds: $timeout}}) AS free
FOREACH (_ IN CASE WHEN free THEN [1] ELSE [] END |
    SET d.lock_owner = $token, d.lock_stage = $stage, d.lock_host = $host, d.lock_pid = $pid,
        d.lock_since = datetime(), d.lock_seen = datetime())
REMOVE d.lock_probe
RETURN free
"""
HEARTBEAT = f"""
MATCH (d:{D} {{name: $dataset}}) WHERE d.lock_owner = $token
SET d.lock_seen = datetime()
RETURN count(d) AS n
"""
RELEASE_LOCK = f"""
MATCH (d:{D} {{name: $dataset}}) WHERE d.lock_owner = $token
REMOVE d.lock_owner, d.lock_stage, d.lock_host, d.lock_pid, d.lock_since, d.lock_seen
RETURN count(d) AS n
"""
LOCK_STATE = f"""
MATCH (d:{D} {{name: $dataset}})
RETURN d.lock_owner AS owner, d.lock_stage AS stage, d.lock_host AS host, d.lock_pid AS pid,
       toString(d.lock_since) AS since,
       d.lock_seen < datetime() - duration({{seconds: $timeout}}) AS stale
"""

# --- bulk writes (the dataset node must exist: no orphans if it was deleted meanwhile) -------
WRITE_SEGMENTS = (
    _FENCE
    + f"""UNWIND range(0, size($id) - 1) AS i
CREATE (s:{S} {{dataset: $dataset, {_props(SEGMENT_COLUMNS)}}})
"""
)
WRITE_PARTS = WRITE_SEGMENTS + "SET s.merger = $merger[i]\n"
"""Segments that merger resolution made: each a cell of the merger whose id it holds."""
# The same, plus per-row maps of further properties (features); only sent when there are some.
WRITE_SEGMENTS_WITH_EXTRA = WRITE_SEGMENTS + "SET s += $extra[i]\n"


def _each_pair(a: str, b: str) -> str:
    """Unwind columns ``$a``, ``$b`` of segment ids into matched segments ``a`` and ``b``."""
    return (
        _FENCE
        + f"""UNWIND range(0, size(${a}) - 1) AS i
MATCH (a:{S} {{dataset: $dataset, id: ${a}[i]}})
MATCH (b:{S} {{dataset: $dataset, id: ${b}[i]}})
"""
    )


WRITE_LINKS = _each_pair("source", "target") + (
    f"CREATE (a)-[r:{Rel.LINK} {{{_props(LINK_COLUMNS[2:])}}}]->(b)\n"
)
WRITE_LINKS_WITH_EXTRA = WRITE_LINKS + "SET r += $extra[i]\n"
WRITE_HIERARCHY = _each_pair("parent", "child") + f"CREATE (a)-[:{Rel.CONTAINS}]->(b)\n"

# --- bulk reads of a time window [t_start, t_stop) ----------------------------------------
# The hint keeps the plan an index seek however the statistics look (a nearly empty graph can
# make a relationship-type scan look cheaper, which it is not once the graph grows).
_BY_TIME = "USING INDEX {v}:" + S + "(dataset, t)"
READ_SEGMENTS = f"""
MATCH (s:{S} {{dataset: $dataset}}) {_BY_TIME.format(v="s")} WHERE s.t >= $t_start AND s.t < $t_stop
  AND ($parts OR s.merger IS NULL)
RETURN {_collect("s", SEGMENT_COLUMNS)},
       collect([k IN $extra | s[k]]) AS extra
"""
READ_LINKS = f"""
MATCH (a:{S} {{dataset: $dataset}}) {_BY_TIME.format(v="a")} WHERE a.t >= $t_start AND a.t < $t_stop - 1
MATCH (a)-[r:{Rel.LINK}]->(b)
RETURN collect(a.id) AS source, collect(b.id) AS target, {_collect("r", LINK_COLUMNS[2:])},
       collect([k IN $extra | r[k]]) AS extra
"""
READ_HIERARCHY = f"""
MATCH (p:{S} {{dataset: $dataset}}) {_BY_TIME.format(v="p")} WHERE p.t >= $t_start AND p.t < $t_stop
MATCH (p)-[:{Rel.CONTAINS}]->(c)
RETURN collect(p.id) AS parent, collect(c.id) AS child
"""
TIME_RANGE = f"""
MATCH (s:{S} {{dataset: $dataset}}) WHERE s.t >= 0 AND s.merger IS NULL
RETURN min(s.t) AS t_min, max(s.t) AS t_max, count(s) AS n
"""

FRAME_COUNTS = f"""
MATCH (s:{S} {{dataset: $dataset}}) WHERE s.t >= 0 AND s.merger IS NULL
RETURN s.t AS t, count(s) AS n ORDER BY t
"""

# --- per-step replacement ------------------------------------------------------------------
DELETE_LINKS_BATCH = (
    _FENCE
    + f"""MATCH (a:{S} {{dataset: $dataset}})-[r:{Rel.LINK}]->() WHERE a.t >= $t_start
WITH r LIMIT $batch
DELETE r
RETURN count(*) AS deleted
"""
)
COUNT_ALL_LINKS = f"MATCH (:{S} {{dataset: $dataset}})-[r:{Rel.LINK}]->() RETURN count(r) AS n"
SEGMENT_KEYS = f"""
MATCH (s:{S} {{dataset: $dataset}}) {_BY_TIME.format(v="s")} WHERE s.t >= 0 AND s.merger IS NULL
RETURN keys(s) AS keys LIMIT 1
"""

# --- solutions (selected segments, NEXT transitions, track ids) and pins --------------------
CLEAR_SELECTION_BATCH = (
    _FENCE
    + f"""MATCH (s:{S} {{dataset: $dataset}}) {_BY_TIME.format(v="s")}
WHERE s.t >= $t_start AND (s.selected IS NOT NULL OR s.cells IS NOT NULL)
WITH s LIMIT $batch
REMOVE s.selected, s.cells, {", ".join(f"s.{c.name}" for c in SOLUTION_COLUMNS)}
RETURN count(*) AS n
"""
)
DELETE_PARTS_BATCH = (
    _FENCE
    + f"""MATCH (s:{S} {{dataset: $dataset}}) {_BY_TIME.format(v="s")}
WHERE s.t >= $t_start AND s.merger IS NOT NULL
WITH s LIMIT $batch
DETACH DELETE s
RETURN count(*) AS n
"""
)
"""The cells that merger resolution split mergers into: written by a solve, dropped with it."""
CLEAR_NEXT_BATCH = (
    _FENCE
    + f"""MATCH (a:{S} {{dataset: $dataset}})-[r:{Rel.NEXT}]->() WHERE a.t >= $t_start
WITH r LIMIT $batch
DELETE r
RETURN count(*) AS n
"""
)
_EACH_SEGMENT = (
    _FENCE
    + f"""UNWIND range(0, size($id) - 1) AS i
MATCH (s:{S} {{dataset: $dataset, id: $id[i]}})
"""
)
WRITE_SELECTED = _EACH_SEGMENT + "SET s.selected = true\n"
WRITE_NEXT = _each_pair("source", "target") + f"CREATE (a)-[:{Rel.NEXT}]->(b)\n"
WRITE_CELLS = _EACH_SEGMENT + "SET s.cells = $cells[i]\n"
WRITE_COUNTED_NEXT = _each_pair("source", "target") + f"CREATE (a)-[:{Rel.NEXT} {{cells: $cells[i]}}]->(b)\n"
READ_COUNTS = f"""
MATCH (s:{S} {{dataset: $dataset}}) {_BY_TIME.format(v="s")} WHERE s.t >= 0 AND s.cells IS NOT NULL
OPTIONAL MATCH (s)-[r:{Rel.NEXT}]->(b) WHERE r.cells IS NOT NULL
WITH s, collect(b.id) AS target, collect(r.cells) AS carried
OPTIONAL MATCH (a)-[q:{Rel.NEXT}]->(s) WHERE q.cells IS NOT NULL AND a.cells IS NULL
RETURN s.id AS id, s.cells AS cells, target, carried, collect(a.id) AS source, collect(q.cells) AS born
"""
"""Segments holding several cells (mergers, before and after resolution), the transitions out of
them that carry several and those into them from a single cell dividing into one (``born``; both
only between a solve's windows and its merger resolution)."""
READ_PARTS = f"""
MATCH (s:{S} {{dataset: $dataset}}) {_BY_TIME.format(v="s")} WHERE s.t >= 0 AND s.merger IS NOT NULL
RETURN collect(s.id) AS id, collect(s.merger) AS merger
"""
WRITE_TRACKS = _EACH_SEGMENT + "SET " + ", ".join(f"s.{c.name} = ${c.name}[i]" for c in SOLUTION_COLUMNS)
# --- one range of frames solved again (``solve_window``): only what changed, one transaction -
UNSELECT = (
    _EACH_SEGMENT
    + f"""REMOVE s.selected, {", ".join(f"s.{c.name}" for c in SOLUTION_COLUMNS)}
RETURN count(s) AS n
"""
)
DELETE_NEXT = (
    _each_pair("source", "target")
    + f"""MATCH (a)-[r:{Rel.NEXT}]->(b)
DELETE r
RETURN count(r) AS n
"""
)
MAX_TRACK_ID = f"""
MATCH (s:{S}) USING INDEX s:{S}(dataset, track_id)
WHERE s.dataset = $dataset AND s.track_id >= -9223372036854775808
RETURN s.track_id AS n ORDER BY s.dataset DESC, s.track_id DESC LIMIT 1
"""
"""The largest track id: the last entry of the track index (ordered by both of its keys, so
Neo4j reads one entry, not every track id of the dataset)."""
READ_DESCENDANTS = f"""
UNWIND $id AS id
MATCH (:{S} {{dataset: $dataset, id: id}})-[:{Rel.NEXT}*]->(d)
WITH DISTINCT d
MATCH (q)-[:{Rel.NEXT}]->(d)
RETURN collect(d.id) AS id, collect(q.id) AS parent, collect(d.t) AS t,
       {", ".join(f"collect(coalesce(d.{c.name}, 0)) AS {c.name}" for c in SOLUTION_COLUMNS)}
"""
READ_SELECTED = f"""
MATCH (s:{S} {{dataset: $dataset}}) {_BY_TIME.format(v="s")}
WHERE s.t >= $t_start AND s.t < $t_stop AND s.selected
RETURN {_collect("s", SEGMENT_COLUMNS + SOLUTION_COLUMNS)}
"""
READ_NEXT = f"""
MATCH (a:{S} {{dataset: $dataset}}) {_BY_TIME.format(v="a")} WHERE a.t >= $t_start AND a.t < $t_stop - 1
MATCH (a)-[:{Rel.NEXT}]->(b)
RETURN collect(a.id) AS source, collect(b.id) AS target
"""
PIN_SEGMENTS = (
    _FENCE
    + f"""UNWIND $id AS id
MATCH (s:{S} {{dataset: $dataset, id: id}})
SET s.pin = $value
RETURN count(s) AS n
"""
)
PIN_LINKS = (
    _FENCE
    + f"""UNWIND range(0, size($source) - 1) AS i
MATCH (:{S} {{dataset: $dataset, id: $source[i]}})
      -[r:{Rel.LINK}]->(:{S} {{dataset: $dataset, id: $target[i]}})
SET r.pin = $value
RETURN count(r) AS n
"""
)
COUNT_SEGMENTS = f"""
UNWIND $id AS id
MATCH (s:{S} {{dataset: $dataset, id: id}}) WHERE s.merger IS NULL
RETURN count(s) AS n
"""
COUNT_LINKS = f"""
UNWIND range(0, size($source) - 1) AS i
MATCH (:{S} {{dataset: $dataset, id: $source[i]}})
      -[r:{Rel.LINK}]->(:{S} {{dataset: $dataset, id: $target[i]}})
RETURN count(r) AS n
"""
WRITE_SHIFTS = (
    _EACH_SEGMENT + "SET s.shift_z = $shift_z[i], s.shift_y = $shift_y[i], s.shift_x = $shift_x[i]\n"
)
