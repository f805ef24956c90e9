"""Candidate masks: rebuilt exactly from the per-frame leaves image and the hierarchy.

The leaves image (zarr, one chunk per frame) holds for every pixel the index k of the smallest
candidate containing it (0: none). A candidate's mask is the set of pixels whose smallest candidate
is itself or one of its descendants, cut to its bounding box.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import zarr

from neotrack.errors import InputError
from neotrack.store import ID_STRIDE, Store


def leaves_path(working_dir: Path, dataset: str) -> Path:
    """``<working_dir>/<dataset>.zarr``, with characters unsafe in file names replaced."""
    return Path(working_dir) / (re.sub(r"[^A-Za-z0-9._-]", "_", dataset) + ".zarr")


class CandidateMasks:
    """Masks of a segmented dataset's candidates.

    >>> masks = CandidateMasks(store, "demo")
    >>> mask, box = masks.mask(segment_id)   # boolean crop and its slices in the frame
    """

    def __init__(self, store: Store, dataset: str) -> None:
        info = store.dataset(dataset)
        if "leaves_path" not in info:
            raise InputError(f"dataset {dataset!r} has no candidate masks: run `neotrack segment` first")
        self.store, self.dataset = store, dataset
        self.leaves = zarr.open_array(str(Path(info["leaves_path"]) / "leaves"), mode="r")
        self._frame = lru_cache(maxsize=4)(self._load_frame)

    def _load_frame(self, t: int) -> tuple[pd.DataFrame, dict[int, list[int]], np.ndarray]:
        segments = self.store.read_segments(self.dataset, t, t + 1).set_index("id")
        children: dict[int, list[int]] = defaultdict(list)
        for parent, child in self.store.read_hierarchy(self.dataset, t, t + 1).to_numpy():
            children[int(parent)].append(int(child))
        return segments, children, np.asarray(self.leaves[t])

    def mask(self, segment: int) -> tuple[np.ndarray, tuple[slice, ...]]:
        """The boolean mask of one candidate within its bounding box, and that box."""
        t = int(segment) // ID_STRIDE
        segments, children, leaves = self._frame(t)
        if segment not in segments.index:
            raise InputError(f"segment {segment} is not a candidate of dataset {self.dataset!r}")
        members, todo = [], [int(segment)]
        while todo:
            node = todo.pop()
            members.append(node % ID_STRIDE)
            todo.extend(children.get(node, ()))
        bbox = segments.at[segment, "bbox"]
        ndim = len(bbox) // 2
        box = tuple(slice(bbox[i], bbox[i + ndim]) for i in range(ndim))
        return np.isin(leaves[box], members), box

    def paint(self, segments: list[int], shape: tuple[int, ...] | None = None) -> np.ndarray:
        """A label image of one frame with the given (non-overlapping) candidates painted by k."""
        frames = {int(s) // ID_STRIDE for s in segments}
        if len(frames) > 1:
            raise InputError(f"paint takes candidates of one frame, got frames {sorted(frames)}")
        out = np.zeros(shape or self.leaves.shape[1:], dtype=np.uint32)
        for s in segments:
            mask, box = self.mask(s)
            out[box][mask] = int(s) % ID_STRIDE
        return out
