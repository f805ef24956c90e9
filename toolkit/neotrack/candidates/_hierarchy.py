"""Candidate segments of one frame: a watershed hierarchy (higra) of each foreground component.

A graph joins neighbouring foreground pixels (4-connected in 2D, 6-connected in 3D), weighted by the
mean boundary value of its two pixels. Each connected component's watershed hierarchy (by area,
dynamics or volume) is filtered of regions smaller than ``min_area``, then of regions whose contour
is weaker than ``min_frontier``. Every remaining region whose area lies in [min_area, max_area] is a
candidate. Candidates on one root-to-leaf chain overlap: the hierarchy among them (``parent contains
child``) is what makes them exclude each other in the solver. All components of a frame are built
as one tree, joined through a *sea* that leaves each component's own hierarchy as it would be alone
(``_frame_tree``): higra's calls are per frame, not per component.

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


_SEA_AREA = 1e15
"""The area of each of the sea's two vertices (``_frame_tree``): more than any frame holds."""


@dataclasses.dataclass
class _FrameTree:
    """The candidates of a frame's tree, in frame pixel coordinates."""

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
    labels, _ = ndi.label(fg)  # face-connected, like the pixel graph
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    mask = sizes[labels] >= max(params.min_area or 0, 1)  # components too small for a candidate are left out
    leaves = np.zeros(fg.shape, dtype=np.uint32)
    spacing = np.ones(ndim) if voxel_size is None else np.asarray(voxel_size, dtype=float)
    found = _frame_tree(mask, labels, bnd, intensity, params) if mask.any() else None
    if found is None or found.area.size == 0:
        return FrameCandidates(t, _frame_table(None, ndim, intensity is not None), _no_hierarchy(t), leaves)
    k = np.arange(1, found.area.size + 1)
    leaves[mask] = np.where(found.deepest >= 0, k[found.deepest], 0).astype(np.uint32)
    segments = _frame_table(_columns(found, k, t, spacing), ndim, intensity is not None)
    has_parent = found.parent >= 0
    hierarchy = pd.DataFrame(
        {"parent": segment_id(t, k[found.parent[has_parent]]), "child": segment_id(t, k[has_parent])}
    )
    return FrameCandidates(t, segments, hierarchy, leaves)


def _no_hierarchy(t: int) -> pd.DataFrame:
    empty = np.empty(0, dtype=np.int64)
    return pd.DataFrame({"parent": segment_id(t, empty), "child": segment_id(t, empty)})


def _frame_tree(
    mask: np.ndarray,
    labels: np.ndarray,
    bnd: np.ndarray,
    intensity: np.ndarray | None,
    params: SegmentationConfig,
) -> _FrameTree:
    """The hierarchies of all the frame's components, built as one tree.

    higra builds a hierarchy of a connected graph, and one per component costs its Python calls per
    component (most of the time, at 30-40 components a frame). So every component is joined to a
    *sea*: two extra vertices, a minimum of their own with an area larger than any frame, reached
    from each component by one edge above every other weight (and of no length, so no contour
    counts it). Every component is then merged whole before it meets the sea, and the tree within
    it is the one it would have alone: its minima, their extinction values, the merges among them
    all happen before the bridge. Nodes that hold the sea are not candidates.
    """
    sub, pixels, weights, along_z = _mask_graph(mask, bnd)
    if params.anisotropy_penalization:
        weights = weights + params.anisotropy_penalization * along_z
    n_pix = pixels.size
    comp = labels.ravel()[pixels]
    firsts = np.unique(comp, return_index=True)[1]  # one pixel of each component
    sea = n_pix  # the sea's two vertices: n_pix and n_pix + 1
    sub.add_vertices(2)
    sub.add_edges(np.append(firsts, sea), np.append(np.full(firsts.size, sea), sea + 1))
    finite = weights[np.isfinite(weights)]  # a NaN stays in its component
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    above = high + (high - low) + 1.0  # above every weight, and above every depth (dynamics)
    weights = np.concatenate([weights, np.full(firsts.size, above), [low - 1.0]])
    length = np.ones(weights.size)
    length[-firsts.size - 1 :] = 0.0  # bridges have no length: no contour crosses them
    vertex_area = np.ones(n_pix + 2)
    vertex_area[sea:] = _SEA_AREA
    hierarchy = _HIERARCHIES[params.ws_hierarchy]
    if params.ws_hierarchy == "dynamics":
        tree, altitudes = hierarchy(sub, weights)
    else:
        tree, altitudes = hierarchy(sub, weights, vertex_area=vertex_area)

    def areas(tree: hg.Tree) -> np.ndarray:  # pixels; a node holding the sea: _SEA_AREA or more
        return hg.accumulate_sequential(tree, vertex_area, hg.Accumulators.sum)

    def small(tree: hg.Tree, _: np.ndarray) -> np.ndarray:  # filter_small_nodes_from_tree, sea kept
        return hg.accumulate_parallel(tree, areas(tree), hg.Accumulators.min) < params.min_area

    tree, altitudes = hg.filter_non_relevant_node_from_tree(tree, altitudes, small, sub)
    perimeter = hg.accumulate_graph_edges(sub, length, hg.Accumulators.sum)
    with np.errstate(invalid="ignore", divide="ignore"):  # no contour: a whole component
        frontier = hg.attribute_contour_strength(tree, weights * length, perimeter, length, sub)
    area = areas(tree)  # a node keeps its pixels when simplify_tree removes others: area[node_map]
    with_sea = area >= _SEA_AREA
    whole = ~with_sea & (hg.attribute_contour_length(tree, perimeter, length, sub) == 0)
    frontier = np.where(whole, 0.0, frontier)  # a whole component has no contour (as a root)
    if params.min_frontier > 0:
        weak = (frontier < params.min_frontier) & ~whole & ~with_sea
        tree, node_map = hg.simplify_tree(tree, weak)
        frontier, altitudes, whole, area = (v[node_map] for v in (frontier, altitudes, whole, area))
    # height: the parent's altitude over the subtree's deepest; a whole component's, as a root, its own
    height = hg.attribute_height(tree, altitudes)
    height = np.where(whole, height - altitudes[tree.parents()] + altitudes, height)
    internal = ~tree.is_leaf(np.arange(tree.num_vertices()))
    is_candidate = internal & (area >= params.min_area) & (area <= params.max_area)  # no sea: too large
    # Keep leaves and candidates only: the parent of a candidate is then its nearest candidate
    # ancestor, and the parent of a leaf (pixel) the smallest candidate holding it.
    tree, node_map = hg.simplify_tree(tree, internal & ~is_candidate)
    is_candidate, frontier, height, area = (v[node_map] for v in (is_candidate, frontier, height, area))
    parents = tree.parents()

    coords = np.zeros((n_pix + 2, mask.ndim))
    coords[:n_pix] = np.stack(np.unravel_index(pixels, mask.shape), axis=1)
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
    area_c = np.rint(area[order]).astype(np.int64)
    mean = sums / area_c[:, None]
    cov = sq / area_c[:, None, None] - mean[:, :, None] * mean[:, None, :]
    int_sum = int_sq = None
    if intensity is not None:
        values = np.zeros(n_pix + 2)
        values[:n_pix] = intensity.ravel()[pixels]
        int_sum, int_sq = up(values, acc.sum), up(values * values, acc.sum)
    parent_of = parents[order]
    is_root = parent_of == order  # higra's root is its own parent
    deepest_node = parents[:n_pix]  # leaves are the first nodes, in `pixels` order
    return _FrameTree(
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
    """The graph of the mask's pixels (4/6-connected), its edge weights and z-edge flags.

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


def _columns(found: _FrameTree, k: np.ndarray, t: int, spacing: np.ndarray) -> dict[str, np.ndarray]:
    """The frame's candidates as columns."""
    centroid = found.sums / found.area[:, None]
    # elongation: ratio of the principal axes' lengths, in physical units
    scaled = found.cov * spacing[None, :, None] * spacing[None, None, :]
    eig = np.clip(np.linalg.eigvalsh(scaled), 1e-12, None)
    columns = {
        "id": segment_id(t, k),
        "t": np.full(k.size, t, dtype=np.int64),
        "centroid": centroid,
        "area": found.area,
        "bbox": np.hstack([found.lo, found.hi]),
        "frontier": found.frontier,
        "height": found.height,
        "elongation": np.sqrt(eig[:, -1] / eig[:, 0]),
    }
    if found.int_sum is not None and found.int_sq is not None:
        mean = found.int_sum / found.area
        columns["intensity_mean"] = mean
        columns["intensity_std"] = np.sqrt(np.clip(found.int_sq / found.area - mean**2, 0, None))
    return columns


def _frame_table(columns: dict[str, np.ndarray] | None, ndim: int, with_intensity: bool) -> pd.DataFrame:
    """The frame's candidate table from its columns (None: a frame without candidates)."""
    names = ["id", "t", "centroid", "area", "bbox", "frontier", "height", "elongation"]
    names += ["intensity_mean", "intensity_std"] if with_intensity else []
    empty = {"centroid": np.empty((0, ndim)), "bbox": np.empty((0, 2 * ndim), dtype=np.int64)}
    col = {n: columns[n] if columns is not None else empty.get(n, np.empty(0)) for n in names}
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
