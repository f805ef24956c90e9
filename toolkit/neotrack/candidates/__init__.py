"""Candidate segments: per-frame hypotheses that become Segment nodes."""

from neotrack.candidates._labels import segments_from_labels

__all__ = ["segments_from_labels"]
