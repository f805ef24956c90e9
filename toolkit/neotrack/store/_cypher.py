"""Every Cypher statement the toolkit sends: constant text, values always passed as parameters.

Columnar parameters (one list per property, indexed by ``i``) pack and unpack several times faster
than a list of maps, and reads ``collect()`` each column into one list so that a window arrives as a
handful of large values instead of tens of thousands of records.
"""

from __future__ import annotations

from neotrack.store._vocab import Label, Rel

D, S = Label.DATASET, Label.SEGMENT

# --- datasets -------------------------------------------------------------------------------
CREATE_DATASET = f"CREATE (d:{D} {{name: $name}}) SET d += $props, d.created = datetime()"
UPDATE_DATASET = f"MATCH (d:{D} {{name: $name}}) SET d += $props RETURN count(d) AS n"
GET_DATASET = f"MATCH (d:{D} {{name: $name}}) RETURN properties(d) AS props"
LIST_DATASETS = f"""
MATCH (d:{D})
RETURN d.name AS name, toString(d.created) AS created,
       COUNT {{ MATCH (s:{S} {{dataset: d.name}}) WHERE s.t >= 0 }} AS segments,
       d.ndim AS ndim, d.shape AS shape, d.source AS source
ORDER BY name
"""
DELETE_SEGMENTS_BATCH = f"""
MATCH (s:{S} {{dataset: $name}}) WHERE s.t >= $t_start
WITH s LIMIT $batch
DETACH DELETE s
RETURN count(*) AS deleted
"""
DELETE_DATASET_NODE = f"MATCH (d:{D} {{name: $name}}) DELETE d"

# --- bulk writes (the dataset node must exist: no orphans if it was deleted meanwhile) -------
_SEGMENT_PROPS = ", ".join(
    f"{k}: ${k}[i]" for k in ("id", "t", "z", "y", "x", "area", "bbox", "frontier", "height")
)
WRITE_SEGMENTS = f"""
MATCH (d:{D} {{name: $dataset}})
UNWIND range(0, size($id) - 1) AS i
CREATE (s:{S} {{dataset: $dataset, {_SEGMENT_PROPS}}})
"""
# The same, plus per-row maps of further properties (features); only sent when there are some.
WRITE_SEGMENTS_WITH_EXTRA = WRITE_SEGMENTS + "SET s += $extra[i]\n"
WRITE_LINKS = f"""
UNWIND range(0, size($source) - 1) AS i
MATCH (a:{S} {{dataset: $dataset, id: $source[i]}})
MATCH (b:{S} {{dataset: $dataset, id: $target[i]}})
CREATE (a)-[r:{Rel.LINK} {{weight: $weight[i]}}]->(b)
"""
WRITE_LINKS_WITH_EXTRA = WRITE_LINKS + "SET r += $extra[i]\n"
WRITE_HIERARCHY = f"""
UNWIND range(0, size($parent) - 1) AS i
MATCH (p:{S} {{dataset: $dataset, id: $parent[i]}})
MATCH (c:{S} {{dataset: $dataset, id: $child[i]}})
CREATE (p)-[:{Rel.CONTAINS}]->(c)
"""

# --- bulk reads of a time window [t_start, t_stop) ----------------------------------------
# The hint keeps the plan an index seek however the statistics look (a nearly empty graph can
# make a relationship-type scan look cheaper, which it is not once the graph grows).
_BY_TIME = "USING INDEX {v}:" + S + "(dataset, t)"
READ_SEGMENTS = f"""
MATCH (s:{S} {{dataset: $dataset}}) {_BY_TIME.format(v="s")} WHERE s.t >= $t_start AND s.t < $t_stop
RETURN collect(s.id) AS id, collect(s.t) AS t, collect(s.z) AS z, collect(s.y) AS y,
       collect(s.x) AS x, collect(s.area) AS area, collect(s.bbox) AS bbox,
       collect(s.frontier) AS frontier, collect(s.height) AS height,
       collect([k IN $extra | s[k]]) AS extra
"""
READ_LINKS = f"""
MATCH (a:{S} {{dataset: $dataset}}) {_BY_TIME.format(v="a")} WHERE a.t >= $t_start AND a.t < $t_stop - 1
MATCH (a)-[r:{Rel.LINK}]->(b)
RETURN collect(a.id) AS source, collect(b.id) AS target, collect(r.weight) AS weight,
       collect([k IN $extra | r[k]]) AS extra
"""
READ_HIERARCHY = f"""
MATCH (p:{S} {{dataset: $dataset}}) {_BY_TIME.format(v="p")} WHERE p.t >= $t_start AND p.t < $t_stop
MATCH (p)-[:{Rel.CONTAINS}]->(c)
RETURN collect(p.id) AS parent, collect(c.id) AS child
"""
TIME_RANGE = f"""
MATCH (s:{S} {{dataset: $dataset}}) WHERE s.t >= 0
RETURN min(s.t) AS t_min, max(s.t) AS t_max, count(s) AS n
"""

# --- per-step replacement ------------------------------------------------------------------
DELETE_LINKS_BATCH = f"""
MATCH (a:{S} {{dataset: $dataset}})-[r:{Rel.LINK}]->() WHERE a.t >= 0
WITH r LIMIT $batch
DELETE r
RETURN count(*) AS deleted
"""
SEGMENT_KEYS = f"""
MATCH (s:{S} {{dataset: $dataset}}) {_BY_TIME.format(v="s")} WHERE s.t >= 0
RETURN keys(s) AS keys LIMIT 1
"""

# --- solutions (selected segments, NEXT transitions, track ids) and pins --------------------
CLEAR_SELECTION_BATCH = f"""
MATCH (s:{S} {{dataset: $dataset}}) {_BY_TIME.format(v="s")}
WHERE s.t >= $t_start AND s.selected IS NOT NULL
WITH s LIMIT $batch
REMOVE s.selected, s.track_id, s.parent_track_id, s.lineage_id
RETURN count(*) AS n
"""
CLEAR_NEXT_BATCH = f"""
MATCH (a:{S} {{dataset: $dataset}})-[r:{Rel.NEXT}]->() WHERE a.t >= $t_start
WITH r LIMIT $batch
DELETE r
RETURN count(*) AS n
"""
WRITE_SELECTED = f"""
UNWIND range(0, size($id) - 1) AS i
MATCH (s:{S} {{dataset: $dataset, id: $id[i]}})
SET s.selected = true
"""
WRITE_NEXT = f"""
UNWIND range(0, size($source) - 1) AS i
MATCH (a:{S} {{dataset: $dataset, id: $source[i]}})
MATCH (b:{S} {{dataset: $dataset, id: $target[i]}})
CREATE (a)-[:{Rel.NEXT}]->(b)
"""
WRITE_TRACKS = f"""
UNWIND range(0, size($id) - 1) AS i
MATCH (s:{S} {{dataset: $dataset, id: $id[i]}})
SET s.track_id = $track_id[i], s.parent_track_id = $parent_track_id[i], s.lineage_id = $lineage_id[i]
"""
READ_SELECTED = f"""
MATCH (s:{S} {{dataset: $dataset}}) {_BY_TIME.format(v="s")}
WHERE s.t >= $t_start AND s.t < $t_stop AND s.selected
RETURN collect(s.id) AS id, collect(s.t) AS t, collect(s.z) AS z, collect(s.y) AS y,
       collect(s.x) AS x, collect(s.area) AS area, collect(s.bbox) AS bbox,
       collect(coalesce(s.track_id, 0)) AS track_id,
       collect(coalesce(s.parent_track_id, 0)) AS parent_track_id,
       collect(coalesce(s.lineage_id, 0)) AS lineage_id
"""
READ_NEXT = f"""
MATCH (a:{S} {{dataset: $dataset}}) {_BY_TIME.format(v="a")} WHERE a.t >= $t_start AND a.t < $t_stop - 1
MATCH (a)-[:{Rel.NEXT}]->(b)
RETURN collect(a.id) AS source, collect(b.id) AS target
"""
PIN_SEGMENTS = f"""
UNWIND $id AS id
MATCH (s:{S} {{dataset: $dataset, id: id}})
SET s.pin = $value
RETURN count(s) AS n
"""
PIN_LINKS = f"""
UNWIND range(0, size($source) - 1) AS i
MATCH (:{S} {{dataset: $dataset, id: $source[i]}})
      -[r:{Rel.LINK}]->(:{S} {{dataset: $dataset, id: $target[i]}})
SET r.pin = $value
RETURN count(r) AS n
"""
COUNT_SEGMENTS = f"""
UNWIND $id AS id
MATCH (s:{S} {{dataset: $dataset, id: id}})
RETURN count(s) AS n
"""
COUNT_LINKS = f"""
UNWIND range(0, size($source) - 1) AS i
MATCH (:{S} {{dataset: $dataset, id: $source[i]}})
      -[r:{Rel.LINK}]->(:{S} {{dataset: $dataset, id: $target[i]}})
RETURN count(r) AS n
"""
WRITE_SHIFTS = f"""
UNWIND range(0, size($id) - 1) AS i
MATCH (s:{S} {{dataset: $dataset, id: $id[i]}})
SET s.shift_z = $shift_z[i], s.shift_y = $shift_y[i], s.shift_x = $shift_x[i]
"""
