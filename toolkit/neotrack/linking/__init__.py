"""Candidate transitions t -> t+1: neighbours by distance, weighted by mask overlap."""

from neotrack.linking._link import LinkResult, frame_links, frame_overlaps, link

__all__ = ["LinkResult", "frame_links", "frame_overlaps", "link"]
