"""Window planning: which frames each solve covers, commits, and is anchored on (pure)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

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


@dataclasses.dataclass(frozen=True)
class BlockPlan:
    """A window of the two-pass solve: frames [start, stop) solved, [commit_start, commit_stop)
    kept. ``left``/``right``: its first/last frame is an anchor, held to what the first pass chose."""

    start: int
    stop: int
    commit_start: int
    commit_stop: int
    left: bool
    right: bool


def two_passes(plans: tuple[WindowPlan, ...], overlap_size: int) -> tuple[list[BlockPlan], list[BlockPlan]]:
    """The windows of ``plans`` solved in two passes, each pass's windows independent of one another
    (ultrack solves in two batches alike). Their committed frames are the blocks: the first pass
    solves every other block on its own, looking ``overlap_size`` frames behind and ahead (so the
    frames it commits are chosen in context, and pinned links into them are seen); the second
    solves each block between, anchored on the frame before it and the frame after it, which the
    first pass committed. Transitions leaving a block's last frame are the second pass's."""
    begin, end = plans[0].start, plans[-1].stop
    first, second = [], []
    for j, plan in enumerate(plans):
        a, b = plan.commit_start, plan.commit_stop
        if j % 2 == 0:
            first.append(
                BlockPlan(max(a - overlap_size, begin), min(b + overlap_size, end), a, b, False, False)
            )
        else:
            right = j + 1 < len(plans)
            second.append(BlockPlan(a - 1, b + 1 if right else b, a, b, True, right))
    return first, second


def plan_windows(
    t_min: int, t_max: int, window_size: int | Callable[[int], int] | None, overlap_size: int = 1
) -> tuple[WindowPlan, ...]:
    """Windows over frames [t_min, t_max] (inclusive), each ``window_size`` frames (or as many as
    ``window_size(start)`` says for the window that starts at frame ``start``).

    Each window looks ``overlap_size`` frames ahead of what it commits, and the next starts on
    (is anchored to) its last committed frame, so every segment has at most one committed parent
    and nothing is committed that a later window contradicts.
    """
    end = t_max + 1
    if window_size is None:
        return (WindowPlan(t_min, end, end, False),)
    fixed = window_size
    size_at: Callable[[int], int] = fixed if callable(fixed) else lambda _: int(fixed)
    if size_at(t_min) >= end - t_min:
        return (WindowPlan(t_min, end, end, False),)
    plans, start, anchored = [], t_min, False
    while True:
        size = size_at(start)
        if size < overlap_size + 3:
            raise InputError(f"window_size {size} must be at least overlap_size + 3")
        stop = min(start + size, end)
        commit_stop = end if stop == end else stop - overlap_size
        plans.append(WindowPlan(start, stop, commit_stop, anchored))
        if commit_stop == end:
            return tuple(plans)
        start, anchored = commit_stop - 1, True


def budget_sizes(counts: np.ndarray, t_min: int, budget: int, minimum: int) -> Callable[[int], int]:
    """Window sizes by a budget: the window starting at frame ``start`` takes as many frames as
    hold at most ``budget`` candidates together (``counts``: candidates of frames t_min, t_min + 1,
    ...), and at least ``minimum``."""
    total = np.concatenate([[0], np.cumsum(counts)])

    def size(start: int) -> int:
        i = start - t_min
        fits = int(np.searchsorted(total, total[i] + budget, side="right")) - 1 - i
        return max(minimum, fits)

    return size
