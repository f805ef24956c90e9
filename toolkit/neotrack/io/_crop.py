"""A crop of a time-lapse: a range of frames and a region of interest, as a lazy view of a source.

A crop is written like Python slices (``START:STOP``, either side optional, negative counts from the
end): ``frames = "-50:"`` keeps the last 50 frames, ``roi = "100:300,50:250"`` a region of each
(Y, X) frame (``Z0:Z1,Y0:Y1,X0:X1`` in 3D; two ranges on 3D frames crop Y and X and keep every
slice). Unlike Python, a bound beyond the movie, or a crop that keeps nothing, is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from neotrack.errors import InputError
from neotrack.io._sources import FrameSource, _hasher

Span = tuple[int | None, int | None]
"""``(start, stop)`` of a slice; None: from the start / to the end."""


def parse_span(text: str) -> Span:
    """``"2:5"`` -> (2, 5), ``"-50:"`` -> (-50, None), ``":"`` -> (None, None); ValueError otherwise."""
    parts = text.strip().split(":")
    if len(parts) != 2:
        raise ValueError("expected START:STOP, e.g. 2:10, -50: or :100")
    try:
        start, stop = (int(p) if p.strip() else None for p in parts)
    except ValueError:
        raise ValueError("expected whole numbers in START:STOP, e.g. 2:10, -50: or :100") from None
    return start, stop


def parse_roi(text: str) -> tuple[Span, ...]:
    """``"10:60,20:80"`` -> ((10, 60), (20, 80)): one range per comma-separated part (how many
    a region needs is the config's check)."""
    return tuple(parse_span(part) for part in text.split(","))


def format_span(span: Span) -> str:
    return ":".join("" if v is None else str(v) for v in span)


def format_roi(spans: Sequence[Span]) -> str:
    return ",".join(format_span(s) for s in spans)


def check_span(span: Span) -> Span:
    """Refuse a range that is empty whatever the movie: both bounds of one sign, start >= stop."""
    start, stop = span
    if start is not None and stop is not None and (start < 0) == (stop < 0) and start >= stop:
        raise ValueError("empty range: START must be below STOP")
    return span


def crop(source: FrameSource, frames: Span | None = None, roi: Sequence[Span] | None = None) -> FrameSource:
    """``source`` limited to ``frames`` and to the region ``roi`` of each frame (as it is without either).

    Raises:
        InputError: a range reaches beyond the movie or keeps nothing; naming the setting
            (``data.frames`` / ``--frames``, ``data.roi`` / ``--roi``) and the movie's size.
    """
    if frames is None and roi is None:
        return source
    n_frames, frame_shape = len(source), source.frame_shape
    kept = (0, n_frames)
    if frames is not None:
        size = f"{source.name} has {n_frames} frames"
        kept = _resolve(frames, n_frames, f"data.frames {format_span(frames)} (--frames)", size, "frames")
    region = [(0, n) for n in frame_shape]
    if roi is not None:
        given = f"data.roi {format_roi(roi)} (--roi)"
        if len(roi) > len(frame_shape):
            raise InputError(
                f"{given} has {len(roi)} ranges but {source.name} has {len(frame_shape)}D frames of "
                f"shape {frame_shape}: give Y0:Y1,X0:X1"
            )
        axes = "zyx"[-len(frame_shape) :]
        first = len(frame_shape) - len(roi)  # two ranges on 3D frames: Y and X, every z
        for axis, span in enumerate(roi, start=first):
            size = f"{source.name} has frames of shape {frame_shape} ({frame_shape[axis]} along {axes[axis]})"
            region[axis] = _resolve(span, frame_shape[axis], given, size, f"pixels along {axes[axis]}")
    return CroppedSource(source, kept, tuple(region))


def _resolve(span: Span, n: int, given: str, size: str, unit: str) -> tuple[int, int]:
    """A range as (start, stop) within ``[0, n]``; one error naming the setting and the movie's size."""
    bounds = []
    for value, default in zip(span, (0, n), strict=True):
        if value is None:
            bounds.append(default)
        elif -n <= value <= n:
            bounds.append(value + n if value < 0 else value)
        else:
            raise InputError(f"{given} is out of range: {size}")
    start, stop = bounds
    if start >= stop:
        raise InputError(f"{given} keeps no {unit}: {size}")
    return start, stop


class CroppedSource(FrameSource):
    """A source's frames ``[start, stop)``, each cut to a region; frames count from 0 again.

    Errors still name the file and frame of the original movie (``t012.tif``), and :attr:`origin`
    says where the crop lies in it.
    """

    def __init__(
        self, source: FrameSource, frames: tuple[int, int], region: tuple[tuple[int, int], ...]
    ) -> None:
        self.source = source
        self.frames = frames
        self.region = region
        self.name = source.name
        self.dtype = source.dtype
        self.shape = (frames[1] - frames[0], *(b - a for a, b in region))

    @property
    def origin(self) -> tuple[int, ...]:
        inner = self.source.origin
        return (inner[0] + self.frames[0], *(o + a for o, (a, _) in zip(inner[1:], self.region, strict=True)))

    @property
    def source_shape(self) -> tuple[int, ...]:
        return self.source.source_shape

    @property
    def location(self) -> Any:
        return self.source.location

    def _read(self, t: int) -> np.ndarray:
        return self.source.frame(t + self.frames[0])[tuple(slice(a, b) for a, b in self.region)]

    def _where(self, t: int) -> str:
        return self.source._where(t + self.frames[0])

    def fingerprint(self) -> str:
        """The source's fingerprint and the crop."""
        return _hasher("crop", self.source.fingerprint(), self.frames, self.region).hexdigest()

    def __repr__(self) -> str:
        region = ",".join(f"{a}:{b}" for a, b in self.region)
        return f"CroppedSource({self.source!r}, frames={self.frames[0]}:{self.frames[1]}, roi={region})"
