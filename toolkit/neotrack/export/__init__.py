"""Lineages out of the graph: Cell Tracking Challenge results (more formats to come)."""

from neotrack.export._ctc import to_ctc, track_table

__all__ = ["to_ctc", "track_table"]
