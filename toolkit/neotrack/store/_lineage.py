"""Lineage questions about a solved dataset, answered with Cypher (``schema/lineage-queries.md``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from neotrack.store._info import Stage
from neotrack.store._vocab import Label, Rel

if TYPE_CHECKING:
    from neotrack.store._store import Store

S, NEXT = Label.SEGMENT, Rel.NEXT

TRACKS = f"""
MATCH (s:{S} {{dataset: $dataset}}) WHERE s.t >= 0 AND s.selected
RETURN s.track_id AS track_id, min(s.t) AS start, max(s.t) AS end, count(s) AS length,
       s.parent_track_id AS parent_track_id, s.lineage_id AS lineage_id
ORDER BY track_id
"""
DIVISIONS = f"""
MATCH (p:{S} {{dataset: $dataset}})-[:{NEXT}]->(c:{S}) WHERE p.t >= 0
WITH p, c ORDER BY c.track_id
WITH p, collect(c.track_id) AS children WHERE size(children) = 2
RETURN p.t AS t, p.track_id AS parent_track_id, children[0] AS child_track_1,
       children[1] AS child_track_2, p.id AS parent_segment
ORDER BY t, parent_track_id
"""
DESCENDANTS = f"""
MATCH (s:{S} {{dataset: $dataset, track_id: $track_id}})
WITH s ORDER BY s.t DESC LIMIT 1
MATCH (s)-[:{NEXT}*1..]->(d:{S})
WITH DISTINCT d.track_id AS track_id
MATCH (x:{S} {{dataset: $dataset, track_id: track_id}})
RETURN track_id, min(x.t) AS start, max(x.t) AS end, x.parent_track_id AS parent_track_id
ORDER BY start, track_id
"""
ANCESTORS = f"""
MATCH (s:{S} {{dataset: $dataset, track_id: $track_id}})
WITH s ORDER BY s.t ASC LIMIT 1
MATCH (a:{S})-[:{NEXT}*1..]->(s)
WITH DISTINCT a.track_id AS track_id
MATCH (x:{S} {{dataset: $dataset, track_id: track_id}})
RETURN track_id, min(x.t) AS start, max(x.t) AS end, x.parent_track_id AS parent_track_id
ORDER BY start DESC, track_id
"""
LINEAGE = f"""
MATCH (s:{S} {{dataset: $dataset, track_id: $track_id}})
WITH s.lineage_id AS lineage LIMIT 1
MATCH (x:{S} {{dataset: $dataset}}) WHERE x.t >= 0 AND x.lineage_id = lineage
RETURN x.track_id AS track_id, min(x.t) AS start, max(x.t) AS end,
       x.parent_track_id AS parent_track_id, lineage AS lineage_id
ORDER BY start, track_id
"""
ALIVE_AT = f"""
MATCH (s:{S} {{dataset: $dataset}}) WHERE s.t = $t AND s.selected
RETURN s.track_id AS track_id, s.id AS segment, s.z AS z, s.y AS y, s.x AS x, s.area AS area
ORDER BY track_id
"""

MERGERS = f"""
MATCH (m:{S} {{dataset: $dataset}}) WHERE m.t >= 0 AND m.cells > 1
MATCH (c:{S} {{dataset: $dataset}}) WHERE c.t = m.t AND c.merger = m.id
WITH m, c ORDER BY c.track_id
RETURN m.t AS t, m.id AS merger, m.cells AS cells, m.z AS z, m.y AS y, m.x AS x,
       collect(c.track_id) AS track_ids
ORDER BY t, merger
"""

QUERIES = {
    "tracks": TRACKS,
    "divisions": DIVISIONS,
    "descendants": DESCENDANTS,
    "ancestors": ANCESTORS,
    "lineage": LINEAGE,
    "alive_at": ALIVE_AT,
    "mergers": MERGERS,
}


class Lineage:
    """Lineage queries on one solved dataset; every answer is a DataFrame.

    >>> lineage = Lineage(store, "demo")
    >>> lineage.divisions()          # t, parent_track_id, child_track_1, child_track_2, ...
    >>> lineage.descendants(3)       # every track that descends from track 3
    """

    def __init__(self, store: Store, dataset: str) -> None:
        store.info(dataset).require(Stage.SOLVE)
        self.store, self.dataset = store, dataset

    def _ask(self, query: str, **params: object) -> pd.DataFrame:
        return self.store.query(query, {"dataset": self.dataset, **params})

    def tracks(self) -> pd.DataFrame:
        """Every track: track_id, start, end, length (frames), parent_track_id, lineage_id."""
        return self._ask(TRACKS)

    def divisions(self) -> pd.DataFrame:
        """Every division: frame of the mother's last segment, mother and daughter tracks."""
        return self._ask(DIVISIONS)

    def descendants(self, track_id: int) -> pd.DataFrame:
        """The tracks descending from ``track_id`` (daughters, granddaughters, ...)."""
        return self._ask(DESCENDANTS, track_id=int(track_id))

    def ancestors(self, track_id: int) -> pd.DataFrame:
        """The tracks ``track_id`` descends from, nearest first."""
        return self._ask(ANCESTORS, track_id=int(track_id))

    def lineage(self, track_id: int) -> pd.DataFrame:
        """Every track of the lineage (tree) that ``track_id`` belongs to."""
        return self._ask(LINEAGE, track_id=int(track_id))

    def alive_at(self, t: int) -> pd.DataFrame:
        """The cells present in frame ``t``: track, segment, position, area."""
        return self._ask(ALIVE_AT, t=int(t))

    def mergers(self) -> pd.DataFrame:
        """When and where cells merged: frame, merger segment, its cells, position, the tracks of
        the cells it held (``tracking.max_objects_per_merger`` above 1)."""
        return self._ask(MERGERS)
