"""Candidate transitions t -> t+1: neighbours by distance, weighted by mask overlap."""

from neotrack.linking._link import LinkResult, frame_links, frame_overlaps, link, shifted_overlaps
from neotrack.linking._motion import estimate_shifts

__all__ = ["LinkResult", "estimate_shifts", "frame_links", "frame_overlaps", "link", "shifted_overlaps"]
