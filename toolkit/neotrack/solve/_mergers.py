"""Merger resolution: each segment chosen to hold k >= 2 cells split into k cells of its own.

After a solve with ``max_objects_per_merger`` above 1, a merger is one segment through which several
tracks pass. Resolution (as ilastik's, which fits a Gaussian mixture initialised from the
neighbouring frames) splits its pixels into k parts by k-means on their coordinates, each part
started from where one of the cells that arrive in it was a frame before (cells appearing inside it
start from the pixels farthest from those; of two daughters whose mother divided into it, one starts
where she was and the other from the pixel farthest from her). Frame by frame, in time order, so
that a merger lasting several frames hands its parts on as the next one's starting points. Each part
becomes a segment of its own (``merger``: the merger's id), takes the transition of the cell it
started from, and hands its cell on to the segment (or the next merger's part) that the solution's
transitions out of the merger lead to, the nearest first (an assignment over distances). The
solution then holds one cell per selected segment again: tracks, lineage queries and every export
work on it as on any other; the merger itself stays in the graph with ``cells``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.cluster.vq import kmeans2
from scipy.optimize import linear_sum_assignment

from neotrack.store import ID_STRIDE

log = logging.getLogger(__name__)

MaskOf = Callable[[int], tuple[np.ndarray, tuple[slice, ...]]]
"""A segment's boolean mask within its bounding box, and that box (``CandidateMasks.mask``)."""


@dataclasses.dataclass(frozen=True)
class Resolution:
    """What resolving a solution's mergers changes: the ``parts`` to store (segment columns and
    ``merger``), each part's pixels (id -> coordinates, one row each), the mergers that leave the
    selection, the transitions touching them that go (``remove``) and those of their parts that
    come (``add``)."""

    parts: pd.DataFrame
    pixels: dict[int, np.ndarray]
    mergers: list[int]
    remove: pd.DataFrame
    add: pd.DataFrame


def part_row(part: int, merger: int, pixels: np.ndarray, axes: list[str]) -> dict[str, object]:
    """The segment columns of a merger's cell (``id, t``, centre, ``area``, ``bbox``, ``merger``)
    from its pixels' coordinates (one row each, in ``axes`` order)."""
    centre = dict(zip(axes, pixels.mean(axis=0).tolist(), strict=True))
    box = [*pixels.min(axis=0).tolist(), *(pixels.max(axis=0) + 1).tolist()]
    return {"id": part, "t": part // ID_STRIDE, **centre, "area": len(pixels), "bbox": box, "merger": merger}


def split_pixels(coords: np.ndarray, k: int, seeds: np.ndarray) -> np.ndarray:
    """Labels 0..k-1 of ``coords`` (pixels, one row each): k-means started from ``seeds`` (one
    row per cell whose position is known, at most k), the missing starts being, one at a time, the
    pixel farthest from the starts so far (the pixels' centroid when there is none). Start j's
    cluster is label j. Each label keeps at least one pixel when there are k of them."""
    coords = np.asarray(coords, dtype=float)
    starts = [np.asarray(s, dtype=float) for s in seeds[:k]]
    while len(starts) < k:
        if not starts:
            starts.append(coords.mean(axis=0))
            continue
        gap = np.min([np.linalg.norm(coords - s, axis=1) for s in starts], axis=0)
        starts.append(coords[int(np.argmax(gap))])
    if len(coords) <= k:  # a pixel each (ilastik's GMM fails here: ilastik#1344)
        return np.arange(len(coords)) % k
    _, labels = kmeans2(coords, np.stack(starts), iter=20, minit="matrix", missing="warn", seed=0)
    for j in range(k):  # a start that lost every pixel takes the farthest pixel of the largest
        if not (labels == j).any():
            big = np.bincount(labels, minlength=k).argmax()
            members = np.flatnonzero(labels == big)
            centre = coords[members].mean(axis=0)
            labels[members[np.argmax(np.linalg.norm(coords[members] - centre, axis=1))]] = j
    return labels


def resolve_mergers(
    selected: pd.DataFrame,
    transitions: pd.DataFrame,
    mergers: pd.DataFrame,
    carried: pd.DataFrame,
    mask_of: MaskOf,
    frame_shape: tuple[int, ...],
    first_free: dict[int, int],
    voxel: tuple[float, ...] | None = None,
) -> Resolution:
    """Split each merger of a solution into its cells (module docstring).

    ``selected``: the solution's segments (``id, t, z, y, x``); ``transitions``: its NEXT
    transitions (``source, target``); ``mergers``: ``id, cells`` of those holding several cells;
    ``carried``: ``source, target, cells`` of transitions carrying several; ``mask_of``: masks;
    ``frame_shape``: (Z,) Y, X; ``first_free``: per frame with mergers, the first free k (part ids
    are ``t * ID_STRIDE + k``, after the frame's candidates); ``voxel``: the physical size of a
    pixel per axis, in which k-means and the nearest segments measure distances (a z step is often
    several in-plane pixels). A merger of fewer pixels than cells (possible only with a tiny
    ``merger_area``) gives as many parts as it has pixels.
    """
    axes = ["z", "y", "x"][-len(frame_shape) :]
    scale = np.ones(len(axes)) if voxel is None else np.asarray(voxel, dtype=float)[-len(axes) :]
    cells = dict(zip(mergers.id.tolist(), mergers.cells.tolist(), strict=True))
    counts = {(int(s), int(d)): int(c) for s, d, c in carried[["source", "target", "cells"]].to_numpy()}
    merged = transitions.source.isin(cells.keys()) | transitions.target.isin(cells.keys())
    around = selected[selected.id.isin(transitions.loc[merged, ["source", "target"]].to_numpy().ravel())]
    position = {  # of the segments next to a merger, which its cells come from and go to (physical)
        int(i): np.asarray(p, dtype=float) * scale
        for i, p in zip(around.id, around[axes].to_numpy(dtype=float), strict=True)
    }
    outgoing: dict[int, list[int]] = defaultdict(list)
    arrivals: dict[int, list[tuple[int, np.ndarray | None]]] = defaultdict(list)  # merger -> (cell, where)
    for s, d in transitions.loc[merged, ["source", "target"]].to_numpy():
        if s in cells:
            outgoing[int(s)].append(int(d))
        else:  # a single cell going into a merger; two when she divides into it (sisters still one blob)
            arrivals[int(d)].append((int(s), position[int(s)]))
            arrivals[int(d)] += [(int(s), None)] * (counts.get((int(s), int(d)), 1) - 1)
    parts: list[dict[str, object]] = []
    pixels: dict[int, np.ndarray] = {}
    added: list[tuple[int, int]] = []
    next_k = dict(first_free)
    for m in sorted(cells, key=lambda i: (i // ID_STRIDE, i)):
        t, k = m // ID_STRIDE, cells[m]
        mask, box = mask_of(m)
        coords = np.argwhere(mask) + np.array([b.start for b in box])
        came = sorted(arrivals.pop(m, []), key=lambda c: c[1] is None)  # known positions first
        seeds = np.array([where for _, where in came if where is not None]).reshape(-1, len(axes))
        labels = split_pixels(coords * scale, k, seeds)
        ids, centres = [], []
        for j in range(k):
            own = coords[labels == j]
            if not len(own):
                continue
            part = t * ID_STRIDE + next_k[t]
            next_k[t] += 1
            pixels[part] = own
            parts.append(part_row(part, m, own, axes))
            ids.append(part)
            centres.append(own.mean(axis=0) * scale)
            if j < len(came):
                added.append((came[j][0], part))
        _hand_on(m, ids, centres, outgoing.get(m, []), counts, cells, position, arrivals, added)
    table = pd.DataFrame(parts, columns=["id", "t", *axes, "area", "bbox", "merger"])
    pairs = pd.DataFrame(added, columns=["source", "target"], dtype="int64")
    log.info("%d mergers resolved into %d cells", len(cells), len(table))
    return Resolution(
        table,
        pixels,
        sorted(cells),
        transitions.loc[merged, ["source", "target"]].reset_index(drop=True),
        pairs,
    )


def _hand_on(
    merger: int,
    ids: list[int],
    centres: list[np.ndarray],
    targets: list[int],
    counts: dict[tuple[int, int], int],
    cells: dict[int, int],
    position: dict[int, np.ndarray],
    arrivals: dict[int, list[tuple[int, np.ndarray | None]]],
    added: list[tuple[int, int]],
) -> None:
    """The merger's parts to the segments its transitions lead to, as many to each as the
    transition carries, the nearest first; a part left over ends its track there. A part going
    into another merger is one of that merger's arrivals."""
    slots = [d for d in targets for _ in range(counts.get((merger, d), 1))]
    if not slots:
        return
    cost = np.array([[np.linalg.norm(c - position[d]) for d in slots] for c in centres])
    for i, j in zip(*linear_sum_assignment(cost), strict=True):
        d = slots[j]
        if d in cells:
            arrivals[d].append((ids[i], centres[i]))
        else:
            added.append((ids[i], d))
