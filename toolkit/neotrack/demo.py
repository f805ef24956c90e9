"""The example run behind ``neotrack demo``: generate a time-lapse, store it, show it is there."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pandas as pd

from neotrack.candidates import segments_from_labels
from neotrack.datasets import lineage_links, simulate, write_ctc
from neotrack.store import Store

log = logging.getLogger(__name__)

DIVISIONS_QUERY = """
MATCH (p:Segment {dataset: $dataset})-[:LINK]->(c:Segment)
WITH p, count(c) AS children WHERE children = 2
RETURN p.t AS t, p.label AS parent_label ORDER BY t
"""


@dataclasses.dataclass(frozen=True)
class DemoResult:
    dataset: str
    raw_dir: Path
    n_frames: int
    segments: int
    links: int
    divisions: pd.DataFrame


def demo(
    store: Store,
    out_dir: str | Path = "neotrack-demo",
    dataset: str = "demo",
    n_frames: int = 30,
    seed: int = 0,
    overwrite: bool = True,
) -> DemoResult:
    """Simulate a 2D+t scene, write it as CTC TIFFs, store its ground-truth graph in Neo4j.

    The divisions are then read back from the graph with Cypher (:data:`DIVISIONS_QUERY`).
    """
    scene = simulate(n_frames=n_frames, shape=(256, 256), n_cells=12, division_rate=0.04, seed=seed)
    raw = write_ctc(scene, out_dir)
    store.create_dataset(
        dataset,
        overwrite=overwrite,
        ndim=2,
        shape=list(scene.images.shape),
        voxel_size=list(scene.voxel_size),
        source=str(raw.resolve()),
    )
    segments = pd.concat(
        [segments_from_labels(scene.labels[t], t) for t in range(n_frames)], ignore_index=True
    )
    n_seg = store.write_segments(dataset, segments, progress=True)
    links = lineage_links(scene.tracks).assign(weight=1.0)
    n_links = store.write_links(dataset, links, progress=True)
    divisions = store.query(DIVISIONS_QUERY, dataset=dataset)
    log.info("demo dataset %r: %d segments, %d links, %d divisions", dataset, n_seg, n_links, len(divisions))
    return DemoResult(dataset, raw, n_frames, n_seg, n_links, divisions)
