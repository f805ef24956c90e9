"""Candidate segments of one frame: a watershed hierarchy (higra) over each foreground component.

For each connected foreground component a graph joins neighbouring pixels (4-connected in 2D,
6-connected in 3D), weighted by the mean boundary value of its two pixels. Its watershed hierarchy
(by area, dynamics or volume) is filtered of regions smaller than ``min_area``, then of regions whose
contour is weaker than ``min_frontier``. Every remaining region whose area lies in
[min_area, max_area] is a candidate. Candidates on one root-to-leaf chain overlap: the hierarchy
among them (``parent contains child``) is what makes them exclude each other in the solver.

Features come from accumulating per-pixel values up the tree (higra ``accumulate_sequential``):
area, centroid, bounding box, second moments (elongation), and intensity mean and standard deviation.
The ``leaves`` image stores, per pixel, the index of the smallest candidate holding it; with the
hierarchy it rebuilds any candidate's mask exactly (see ``_masks.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import higra as hg
import numpy as np
import pandas as pd
from scipy import ndimage as ndi

from neotrack.config import SegmentationConfig
from neotrack.store import segment_id

_HIERARCHIES = {
    "area": hg.watershed_hierarchy_by_area,
    "dynamics": hg.watershed_hierarchy_by_dynamics,
    "volume": hg.watershed_hierarchy_by_volume,
}


@dataclasses.dataclass(frozen=True)
class FrameCandidates:
    """The candidates of frame ``t``: their table, their hierarchy, and the leaves image."""

    t: int
    segments: pd.DataFrame
    hierarchy: pd.DataFrame
    leaves: np.ndarray


@dataclasses.dataclass
class _Component:
    """Candidates of one component, in the component's local pixel coordinates."""

    area: np.ndarray
    sums: np.ndarray  # (n, ndim) coordinate sums
    lo: np.ndarray  # (n, ndim) bbox start
    hi: np.ndarray  # (n, ndim) bbox stop (exclusive)
    cov: np.ndarray  # (n, ndim, ndim) coordinate covariance
    frontier: np.ndarray
    height: np.ndarray
    int_sum: np.ndarray | None
    int_sq: np.ndarray | None
    parent: np.ndarray  # index of the parent candidate, -1 for none
    deepest: np.ndarray  # per mask pixel (in np.flatnonzero(mask) order): candidate index or -1


def frame_candidates(
    foreground: np.ndarray,
    boundaries: np.ndarray,
    t: int,
    params: SegmentationConfig,
    intensity: np.ndarray | None = None,
    voxel_size: Sequence[float] | None = None,
) -> FrameCandidates:
    """All candidates of one frame, with ids ``segment_id(t, k)``, k = 1, 2, ..."""
    ndim = foreground.ndim
    fg = foreground > params.threshold
    bnd = boundaries.astype(np.float64, copy=True)
    if params.max_noise > 0:
        bnd += np.random.default_rng(t).uniform(0, params.max_noise, bnd.shape)
    labels, _ = ndi.label(fg)
    sizes = np.bincount(labels.ravel())
    leaves = np.zeros(fg.shape, dtype=np.uint32)
    parts: list[dict[str, np.ndarray]] = []
    edges: list[tuple[np.ndarray, np.ndarray]] = []
    spacing = np.ones(ndim) if voxel_size is None else np.asarray(voxel_size, dtype=float)
    n_done = 0
    for comp, box in enumerate(ndi.find_objects(labels), start=1):
        if box is None or sizes[comp] < params.min_area:
            continue
        mask = labels[box] == comp
        found = _component(mask, bnd[box], None if intensity is None else intensity[box], params)
        n = found.area.size
        if n == 0:
            continue
        k = np.arange(n_done + 1, n_done + n + 1)
        offset = np.array([s.start for s in box])
        region = leaves[box]
        region[mask] = np.where(found.deepest >= 0, k[found.deepest], 0).astype(np.uint32)
        parts.append(_columns(found, k, t, offset, spacing))
        has_parent = found.parent >= 0
        edges.append((k[found.parent[has_parent]], k[has_parent]))
        n_done += n
    segments = _frame_table(parts, ndim, intensity is not None)
    parent = np.concatenate([e[0] for e in edges]) if edges else np.empty(0, dtype=np.int64)
    child = np.concatenate([e[1] for e in edges]) if edges else np.empty(0, dtype=np.int64)
    hierarchy = pd.DataFrame({"parent": segment_id(t, parent), "child": segment_id(t, child)})
    return FrameCandidates(t, segments, hierarchy, leaves)


def _component(
    mask: np.ndarray, bnd: np.ndarray, intensity: np.ndarray | None, params: SegmentationConfig
) -> _Component:
    sub, pixels, weights, along_z = _mask_graph(mask, bnd)
    if params.anisotropy_penalization:
        weights = weights + params.anisotropy_penalization * along_z
    tree, altitudes = _HIERARCHIES[params.ws_hierarchy](sub, weights)
    tree, altitudes = hg.filter_small_nodes_from_tree(tree, altitudes, params.min_area)
    frontier = hg.attribute_contour_strength(tree, weights)
    if params.min_frontier > 0:
        weak = frontier < params.min_frontier
        tree, node_map = hg.simplify_tree(tree, weak)
        frontier, altitudes = frontier[node_map], altitudes[node_map]
    height = hg.attribute_height(tree, altitudes)
    area = hg.attribute_area(tree)
    internal = ~tree.is_leaf(np.arange(tree.num_vertices()))
    is_candidate = internal & (area >= params.min_area) & (area <= params.max_area)
    # Keep leaves and candidates only: the parent of a candidate is then its nearest candidate
    # ancestor, and the parent of a leaf (pixel) the smallest candidate holding it.
    tree, node_map = hg.simplify_tree(tree, internal & ~is_candidate)
    is_candidate, frontier, height = is_candidate[node_map], frontier[node_map], height[node_map]
    parents = tree.parents()
    n_leaves = tree.num_leaves()

    coords = np.stack(np.unravel_index(pixels, mask.shape), axis=1).astype(np.float64)
    order = np.flatnonzero(is_candidate)  # candidate nodes, small to large (tree order)
    index = np.full(tree.num_vertices(), -1)
    index[order] = np.arange(order.size)
    acc = hg.Accumulators

    def up(values: np.ndarray, how: object) -> np.ndarray:
        return hg.accumulate_sequential(tree, values, how)[order]

    ndim = mask.ndim
    second = np.stack([coords[:, i] * coords[:, j] for i in range(ndim) for j in range(ndim)], axis=1)
    n_cand = order.size
    sums, sq = up(coords, acc.sum), up(second, acc.sum).reshape(n_cand, ndim, ndim)
    area_c = hg.attribute_area(tree)[order].astype(np.int64)
    mean = sums / area_c[:, None]
    cov = sq / area_c[:, None, None] - mean[:, :, None] * mean[:, None, :]
    int_sum = int_sq = None
    if intensity is not None:
        values = intensity.ravel()[pixels].astype(np.float64)
        int_sum, int_sq = up(values, acc.sum), up(values * values, acc.sum)
    parent_of = parents[order]
    is_root = parent_of == order  # higra's root is its own parent
    deepest_node = parents[:n_leaves]  # leaves are the first nodes, in `pixels` order
    # pixels come from the subgraph in raster order, like np.flatnonzero(mask)
    return _Component(
        area=area_c,
        sums=sums,
        lo=up(coords, acc.min).astype(np.int64),
        hi=up(coords, acc.max).astype(np.int64) + 1,
        cov=cov,
        frontier=frontier[order],
        height=height[order],
        int_sum=int_sum,
        int_sq=int_sq,
        parent=np.where(is_candidate[parent_of] & ~is_root, index[parent_of], -1),
        deepest=np.where(is_candidate[deepest_node], index[deepest_node], -1),
    )


def _mask_graph(
    mask: np.ndarray, bnd: np.ndarray
) -> tuple[hg.UndirectedGraph, np.ndarray, np.ndarray, np.ndarray]:
    """The graph of a component's pixels (4/6-connected), its edge weights and z-edge flags.

    Vertices are the mask's pixels in raster order (``pixels`` holds their flat indices); an edge
    joins two face-neighbours, weighted by the mean of their boundary values.
    """
    flat_bnd = bnd.ravel()
    pixels = np.flatnonzero(mask)
    index = np.full(mask.size, -1, dtype=np.int64)
    index[pixels] = np.arange(pixels.size)
    strides = np.array(mask.strides) // mask.itemsize
    sources, targets, axes = [], [], []
    for axis in range(mask.ndim):
        head = [slice(None)] * mask.ndim
        tail = [slice(None)] * mask.ndim
        head[axis], tail[axis] = slice(None, -1), slice(1, None)
        both = mask[tuple(head)] & mask[tuple(tail)]
        first = np.ravel_multi_index(np.nonzero(both), mask.shape)
        sources.append(first)
        targets.append(first + strides[axis])
        axes.append(np.full(first.size, axis))
    src, dst = np.concatenate(sources), np.concatenate(targets)
    graph = hg.UndirectedGraph(pixels.size)
    graph.add_edges(index[src], index[dst])
    weights = (flat_bnd[src] + flat_bnd[dst]) / 2
    along_z = (np.concatenate(axes) == 0) & (mask.ndim == 3)
    return graph, pixels, weights, along_z


def _columns(
    found: _Component, k: np.ndarray, t: int, offset: np.ndarray, spacing: np.ndarray
) -> dict[str, np.ndarray]:
    """One component's candidates as columns, in frame coordinates."""
    centroid = found.sums / found.area[:, None] + offset
    # elongation: ratio of the principal axes' lengths, in physical units
    scaled = found.cov * spacing[None, :, None] * spacing[None, None, :]
    eig = np.clip(np.linalg.eigvalsh(scaled), 1e-12, None)
    columns = {
        "id": segment_id(t, k),
        "t": np.full(k.size, t, dtype=np.int64),
        "centroid": centroid,
        "area": found.area,
        "bbox": np.hstack([found.lo + offset, found.hi + offset]),
        "frontier": found.frontier,
        "height": found.height,
        "elongation": np.sqrt(eig[:, -1] / eig[:, 0]),
    }
    if found.int_sum is not None and found.int_sq is not None:
        mean = found.int_sum / found.area
        columns["intensity_mean"] = mean
        columns["intensity_std"] = np.sqrt(np.clip(found.int_sq / found.area - mean**2, 0, None))
    return columns


def _frame_table(parts: list[dict[str, np.ndarray]], ndim: int, with_intensity: bool) -> pd.DataFrame:
    """The frame's candidate table, built once from all components' columns."""
    names = ["id", "t", "centroid", "area", "bbox", "frontier", "height", "elongation"]
    names += ["intensity_mean", "intensity_std"] if with_intensity else []
    empty = {"centroid": np.empty((0, ndim)), "bbox": np.empty((0, 2 * ndim), dtype=np.int64)}
    col = {n: np.concatenate([p[n] for p in parts]) if parts else empty.get(n, np.empty(0)) for n in names}
    centroid = col.pop("centroid")
    table = {
        "id": col.pop("id").astype(np.int64),
        "t": col.pop("t").astype(np.int64),
        "z": centroid[:, 0] if ndim == 3 else np.zeros(len(centroid)),
        "y": centroid[:, -2],
        "x": centroid[:, -1],
        "area": col.pop("area").astype(np.int64),
        "bbox": list(col.pop("bbox")),
    }
    return pd.DataFrame({**table, **col})
