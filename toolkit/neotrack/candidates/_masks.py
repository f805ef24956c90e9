"""Candidate masks: rebuilt exactly from the per-frame leaves image and the hierarchy.

The leaves image (zarr, one chunk per frame) holds for every pixel the index k of the smallest
candidate containing it (0: none). A candidate's mask is the set of pixels whose smallest candidate
is itself or one of its descendants, cut to its bounding box. The cells that merger resolution
split a merger into (segments with a ``merger`` property) are painted, by their k, in a second
image of the same shape, ``parts``, written by the solve.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections import defaultdict, deque
from collections.abc import Generator, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import zarr

from neotrack.errors import InputError
from neotrack.store import ID_STRIDE, DatasetInfo, Stage, Store

MASKS = "masks.zarr"
"""The leaves image's zarr group, in the dataset's pixel folder (``Store.pixels``)."""
PARTS = "parts"
"""The array of resolved mergers' cells in that group."""


def check_masks_owner(path: Path, info: DatasetInfo) -> None:
    """Refuse masks whose zarr attributes name another dataset id than the graph's."""
    try:
        meta = dict(zarr.open_group(str(path), mode="r").attrs.get("neotrack", {}))  # type: ignore[arg-type]
    except (FileNotFoundError, ValueError, KeyError) as exc:
        raise InputError(f"{path}: not readable candidate masks ({exc})") from None
    if meta.get("dataset_uid") != info.uid:
        raise InputError(
            f"{path} holds the masks of dataset id {meta.get('dataset_uid')}, but dataset "
            f"{info.name!r} has id {info.uid}: the graph and its pixels disagree; segment it again "
            "with --overwrite"
        )


@dataclasses.dataclass(frozen=True)
class CandidateFrame:
    """The candidates of one frame: table (indexed by id), hierarchy and leaves image."""

    t: int
    segments: pd.DataFrame
    parent: dict[int, int]  # k -> parent k (hierarchy), only for candidates that have one
    leaves: np.ndarray
    parts: np.ndarray | None = None  # the resolved mergers' cells, by k (None: the frame has none)

    def chains(self) -> np.ndarray:
        """Row k: k and its ancestors' indices, padded with 0 (row 0 is all 0)."""
        n = int(self.segments.index.max() % ID_STRIDE) + 1 if len(self.segments) else 1
        up = np.zeros(n, dtype=np.int64)
        for child, par in self.parent.items():
            up[child] = par
        columns = [np.arange(n)]
        while columns[-1].any():
            columns.append(up[columns[-1]])
        return np.stack(columns[:-1] if len(columns) > 1 else columns, axis=1)

    @functools.cached_property
    def children(self) -> dict[int, list[int]]:
        """k -> the indices of the candidates it directly contains (built once per frame)."""
        children: dict[int, list[int]] = defaultdict(list)
        for child, par in self.parent.items():
            children[par].append(child)
        return children

    def mask(self, segment: int) -> tuple[np.ndarray, tuple[slice, ...]]:
        """The boolean mask of one candidate within its bounding box, and that box."""
        if segment not in self.segments.index:
            raise InputError(f"segment {segment} is not a candidate of frame {self.t}")
        bbox = self.segments.at[segment, "bbox"]
        ndim = len(bbox) // 2
        box = tuple(slice(bbox[i], bbox[i + ndim]) for i in range(ndim))
        if self.parts is not None and pd.notna(self.segments.at[segment, "merger"]):  # a merger's cell
            return self.parts[box] == int(segment) % ID_STRIDE, box
        members, todo = [], [int(segment) % ID_STRIDE]
        while todo:
            node = todo.pop()
            members.append(node)
            todo.extend(self.children.get(node, ()))
        return np.isin(self.leaves[box], members), box

    def paint(
        self, segments: list[int], values: list[int] | None = None, shape: tuple[int, ...] | None = None
    ) -> np.ndarray:
        """This frame's label image with the given (non-overlapping) candidates painted, each
        with its value from ``values`` (default: its index k)."""
        out = np.zeros(shape or self.leaves.shape, dtype=np.uint32)
        for i, s in enumerate(segments):
            mask, box = self.mask(s)
            out[box][mask] = int(s) % ID_STRIDE if values is None else values[i]
        return out


class CandidateMasks:
    """Masks of a segmented dataset's candidates.

    >>> masks = CandidateMasks(store, "demo")
    >>> mask, box = masks.mask(segment_id)   # boolean crop and its slices in the frame
    """

    def __init__(self, store: Store, dataset: str) -> None:
        info = store.info(dataset)
        info.require(Stage.SEGMENT)
        path = store.pixels(info) / MASKS
        check_masks_owner(path, info)
        self.store, self.dataset = store, dataset
        self.leaves = zarr.open_array(str(path / "leaves"), mode="r")
        self.parts = zarr.open_array(str(path / PARTS), mode="r") if (path / PARTS).exists() else None
        self.frame = lru_cache(maxsize=4)(self._load_frame)
        keys = store.segment_properties(dataset)
        self.features = [f for f in _FEATURES if f in keys]  # intensities need raw images

    def _load_frame(self, t: int) -> CandidateFrame:
        segments = self.store.read_segments(
            self.dataset, t, t + 1, extra=[*self.features, "merger"], parts=True
        ).set_index("id")
        parent = {
            int(c) % ID_STRIDE: int(p) % ID_STRIDE
            for p, c in self.store.read_hierarchy(self.dataset, t, t + 1).to_numpy()
        }
        parts = None
        if self.parts is not None and segments.merger.notna().any():
            parts = np.asarray(self.parts[t])
        return CandidateFrame(t, segments, parent, np.asarray(self.leaves[t]), parts)

    def mask(self, segment: int) -> tuple[np.ndarray, tuple[slice, ...]]:
        """The boolean mask of one candidate within its bounding box, and that box."""
        frame = self.frame(int(segment) // ID_STRIDE)
        if segment not in frame.segments.index:
            raise InputError(f"segment {segment} is not a candidate of dataset {self.dataset!r}")
        return frame.mask(segment)

    def frames(self, ts: Iterable[int], ahead: int = 2) -> Generator[CandidateFrame, None, None]:
        """The frames ``ts`` in order, the next ``ahead`` read meanwhile in threads (a frame's
        reads wait on Neo4j and zarr, which leave Python free to work on the one before)."""
        pool = ThreadPoolExecutor(max(ahead, 1), thread_name_prefix="neotrack-frames")
        try:
            wanted = iter(ts)
            loading = deque(pool.submit(self._load_frame, t) for t in itertools.islice(wanted, ahead + 1))
            while loading:
                frame = loading.popleft().result()
                loading.extend(pool.submit(self._load_frame, t) for t in itertools.islice(wanted, 1))
                yield frame
        finally:  # closed early (an error downstream): the reads not started are dropped
            pool.shutdown(cancel_futures=True)

    def paint(
        self, segments: list[int], values: list[int] | None = None, shape: tuple[int, ...] | None = None
    ) -> np.ndarray:
        """One frame's label image with the given (non-overlapping) candidates painted.

        Each candidate gets its value from ``values`` (default: its index k).
        """
        frames = {int(s) // ID_STRIDE for s in segments}
        if len(frames) > 1:
            raise InputError(f"paint takes candidates of one frame, got frames {sorted(frames)}")
        if not frames:
            return np.zeros(shape or self.leaves.shape[1:], dtype=np.uint32)
        return self.frame(frames.pop()).paint(segments, values, shape)


_FEATURES = ("intensity_mean", "intensity_std", "shift_z", "shift_y", "shift_x")


def write_parts(store: Store, dataset: str, pixels: dict[int, np.ndarray], keep: Iterable[int] = ()) -> None:
    """The resolved mergers' cells (segment id -> its pixels' coordinates) into the dataset's
    ``parts`` array, created on first use: each frame that has some painted whole (their k, 0
    elsewhere but for the parts ``keep``, stored before), one frame in memory at a time, while
    this client still holds the write lock."""
    if not pixels:
        return
    info = store.info(dataset)
    path = store.pixels(info) / MASKS
    check_masks_owner(path, info)
    leaves = zarr.open_array(str(path / "leaves"), mode="r")
    group = zarr.open_group(str(path), mode="r+")
    parts = group.require_array(
        PARTS, shape=leaves.shape, dtype="uint32", chunks=(1, *leaves.shape[1:]), fill_value=0
    )
    by_frame: dict[int, list[int]] = defaultdict(list)
    for part in pixels:
        by_frame[int(part) // ID_STRIDE].append(part)
    kept: dict[int, list[int]] = defaultdict(list)
    for part in keep:
        kept[int(part) // ID_STRIDE].append(int(part) % ID_STRIDE)
    for t, ids in sorted(by_frame.items()):
        image = np.zeros(leaves.shape[1:], dtype=np.uint32)
        if kept[t]:
            before = np.asarray(parts[t])
            hold = np.isin(before, kept[t])
            image[hold] = before[hold]
        for part in ids:
            image[tuple(pixels[part].T)] = int(part) % ID_STRIDE
        store.require_lock(dataset)
        parts[t] = image
