"""Candidate segments: per-frame hypotheses (a watershed hierarchy) that become Segment nodes."""

from neotrack.candidates._hierarchy import FrameCandidates, frame_candidates
from neotrack.candidates._labels import segments_from_labels
from neotrack.candidates._masks import MASKS, CandidateFrame, CandidateMasks
from neotrack.candidates._segment import SegmentResult, segment

__all__ = [
    "MASKS",
    "CandidateFrame",
    "CandidateMasks",
    "FrameCandidates",
    "SegmentResult",
    "frame_candidates",
    "segment",
    "segments_from_labels",
]
