"""Synthetic time-lapses with known lineages, for the demo, tests and scaling benchmarks."""

from neotrack.datasets._ctc import lineage_links, write_ctc, write_track_file
from neotrack.datasets._synthetic import FlowFn, SyntheticScene, rotating_flow, shearing_flow, simulate

__all__ = [
    "FlowFn",
    "SyntheticScene",
    "lineage_links",
    "rotating_flow",
    "shearing_flow",
    "simulate",
    "write_ctc",
    "write_track_file",
]
