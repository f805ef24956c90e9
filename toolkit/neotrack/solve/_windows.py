"""Window planning: which frames each solve covers, commits, and is anchored on (pure)."""

from __future__ import annotations

import dataclasses

from neotrack.errors import InputError


@dataclasses.dataclass(frozen=True)
class WindowPlan:
    """Frames [start, stop) are solved; segments of [commit_start, commit_stop) and transitions
    leaving [start, commit_stop - 1) are kept. An anchored window's first frame is the previous
    window's last kept frame, fixed to what that window chose."""

    start: int
    stop: int
    commit_stop: int
    anchored: bool

    @property
    def commit_start(self) -> int:
        return self.start + 1 if self.anchored else self.start


def plan_windows(
    t_min: int, t_max: int, window_size: int | None, overlap_size: int = 1
) -> tuple[WindowPlan, ...]:
    """Windows over frames [t_min, t_max] (inclusive), each ``window_size`` frames.

    Each window looks ``overlap_size`` frames ahead of what it commits, and the next starts on
    (is anchored to) its last committed frame, so every segment has at most one committed parent
    and nothing is committed that a later window contradicts.
    """
    end = t_max + 1
    if window_size is None or window_size >= end - t_min:
        return (WindowPlan(t_min, end, end, False),)
    if window_size < overlap_size + 3:
        raise InputError(f"window_size {window_size} must be at least overlap_size + 3")
    plans, start, anchored = [], t_min, False
    while True:
        stop = min(start + window_size, end)
        commit_stop = end if stop == end else stop - overlap_size
        plans.append(WindowPlan(start, stop, commit_stop, anchored))
        if commit_stop == end:
            return tuple(plans)
        start, anchored = commit_stop - 1, True
