"""Candidate hierarchies of single frames, where the right answer is known (no database)."""

from __future__ import annotations

import higra as hg
import numpy as np
import pytest
from scipy import ndimage as ndi

from neotrack.candidates import frame_candidates
from neotrack.config import SegmentationConfig
from neotrack.datasets import simulate
from neotrack.imgproc import labels_to_boundaries


def two_touching_discs() -> np.ndarray:
    yy, xx = np.mgrid[:40, :60]
    labels = np.zeros((40, 60), np.uint16)
    labels[(yy - 20) ** 2 + (xx - 20) ** 2 <= 100] = 1
    labels[((yy - 20) ** 2 + (xx - 39) ** 2 <= 100) & (labels == 0)] = 2
    labels[18:23, 28:31] = 1  # a bridge: one foreground component
    return labels


def masks_of(found, k: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """A candidate's mask from the leaves image and the hierarchy (what CandidateMasks does)."""
    members, todo = [], [k]
    ids = dict(zip(found.hierarchy.child % 10**9, found.hierarchy.parent % 10**9, strict=True))
    children = {}
    for child, parent in ids.items():
        children.setdefault(parent, []).append(child)
    while todo:
        node = todo.pop()
        members.append(node)
        todo.extend(children.get(node, []))
    return np.isin(found.leaves, members)


def test_touching_discs_give_each_disc_and_their_union() -> None:
    labels = two_touching_discs()
    fg, bnd = labels_to_boundaries([labels])
    found = frame_candidates(fg, bnd, 7, SegmentationConfig(min_area=50, max_area=5000))
    assert len(found.segments) == 3
    areas = dict(zip(found.segments.id % 10**9, found.segments.area, strict=True))
    union = max(areas, key=areas.__getitem__)
    discs = sorted(k for k in areas if k != union)
    # the union contains both discs; the discs do not contain each other: they may both be chosen
    assert sorted(map(tuple, (found.hierarchy % 10**9).to_numpy())) == [(union, k) for k in discs]
    assert np.all(found.segments.id // 10**9 == 7)
    got = sorted(masks_of(found, k).sum() for k in discs)
    assert got == sorted([(labels == 1).sum(), (labels == 2).sum()])
    assert np.array_equal(masks_of(found, union), labels > 0)


def test_max_area_drops_the_union_and_min_area_the_small() -> None:
    fg, bnd = labels_to_boundaries([two_touching_discs()])
    only_discs = frame_candidates(fg, bnd, 0, SegmentationConfig(min_area=50, max_area=400))
    assert len(only_discs.segments) == 2 and only_discs.hierarchy.empty
    none = frame_candidates(fg, bnd, 0, SegmentationConfig(min_area=700, max_area=5000))
    assert none.segments.empty and not none.leaves.any()


def test_label_image_comes_back_exactly_with_min_frontier() -> None:
    scene = simulate(n_frames=1, n_cells=12, seed=11)
    labels = scene.labels[0]
    fg, bnd = labels_to_boundaries([labels])
    found = frame_candidates(fg, bnd, 0, SegmentationConfig(min_area=10, max_area=10**6, min_frontier=0.9))
    assert len(found.segments) == len(np.unique(labels)) - 1
    for k in found.segments.id % 10**9:
        mask = masks_of(found, int(k))
        assert len(np.unique(labels[mask])) == 1 and mask.sum() == (labels == labels[mask][0]).sum()


def test_features_agree_with_the_masks() -> None:
    scene = simulate(n_frames=1, n_cells=8, seed=2)
    image = scene.images[0].astype(float)
    fg = scene.labels[0] > 0
    bnd = 1 - ndi.gaussian_filter(image, 2) / image.max()
    params = SegmentationConfig(min_area=20, max_area=3000, max_noise=0.3)  # noise: nested hypotheses
    found = frame_candidates(fg, bnd, 3, params, image)
    assert len(found.segments) > 2 * 8 and len(found.hierarchy) > 8
    for row in found.segments.itertuples():
        mask = masks_of(found, int(row.id) % 10**9)
        coords = np.argwhere(mask)
        assert row.area == mask.sum()
        assert list(row.bbox) == [*coords.min(0), *(coords.max(0) + 1)]
        assert np.allclose([row.y, row.x], coords.mean(0))
        assert np.isclose(row.intensity_mean, image[mask].mean())
        assert np.isclose(row.intensity_std, image[mask].std())


@pytest.mark.parametrize("penalty", [0.0, 5.0])
def test_3d_frames_and_anisotropy(penalty: float) -> None:
    scene = simulate(n_frames=1, shape=(10, 48, 48), n_cells=3, radius=7, seed=6)
    fg, bnd = labels_to_boundaries([scene.labels[0]])
    params = SegmentationConfig(min_area=20, max_area=10**5, anisotropy_penalization=penalty)
    found = frame_candidates(fg, bnd, 0, params, voxel_size=(2.0, 1.0, 1.0))
    assert len(found.segments) >= 3
    assert found.segments.z.between(0, 9).all() and len(found.segments.bbox[0]) == 6


def test_one_component_gives_higra_s_own_hierarchy() -> None:
    # the reference: higra's pipeline on the component's pixel graph alone, nothing joined to it
    scene = simulate(n_frames=1, shape=(64, 64), n_cells=1, radius=14, seed=3)
    image = scene.images[0].astype(float)
    labels, _ = ndi.label(ndi.gaussian_filter(image, 1) > np.percentile(image, 75))
    fg = labels == np.argmax(np.bincount(labels.ravel())[1:]) + 1
    bnd = 1 - ndi.gaussian_filter(image, 1.5) / image.max()
    bnd += np.random.default_rng(0).uniform(0, 0.3, bnd.shape)  # nested hypotheses
    params = SegmentationConfig(min_area=15, max_area=2000)
    pixels = np.flatnonzero(fg)
    index = np.full(fg.size, -1)
    index[pixels] = np.arange(pixels.size)
    both_x = np.flatnonzero((fg[:, :-1] & fg[:, 1:]).ravel())
    src_x = both_x + both_x // (fg.shape[1] - 1)  # flat index of the left pixel of each pair
    both_y = np.flatnonzero((fg[:-1] & fg[1:]).ravel())
    src = np.concatenate([src_x, both_y])
    dst = np.concatenate([src_x + 1, both_y + fg.shape[1]])
    graph = hg.UndirectedGraph(pixels.size)
    graph.add_edges(index[src], index[dst])
    tree, altitudes = hg.watershed_hierarchy_by_area(graph, (bnd.ravel()[src] + bnd.ravel()[dst]) / 2)
    tree, altitudes = hg.filter_small_nodes_from_tree(tree, altitudes, params.min_area)
    area, height = hg.attribute_area(tree), hg.attribute_height(tree, altitudes)
    keep = ~tree.is_leaf(np.arange(tree.num_vertices())) & (area >= 15) & (area <= 2000)
    expected = sorted(zip(area[keep].tolist(), np.round(height[keep], 9).tolist(), strict=True))
    found = frame_candidates(fg, bnd, 0, params)
    assert len(expected) > 3
    assert sorted(zip(found.segments.area, np.round(found.segments.height, 9), strict=True)) == expected
    assert all(np.asarray(b).dtype == np.int64 for b in found.segments.bbox)  # ints, to slice with


def test_an_empty_frame_has_no_candidates() -> None:
    empty = np.zeros((30, 30))
    found = frame_candidates(empty, empty, 4, SegmentationConfig())
    assert found.segments.empty and found.hierarchy.empty and found.leaves.shape == (30, 30)


def candidate_sets(found) -> list[tuple]:  # type: ignore[no-untyped-def]
    """Each candidate as (area, bbox, rounded centroid, frontier, height): comparable across ids."""
    return sorted(
        (
            int(r.area),
            tuple(r.bbox),
            round(r.z, 6),
            round(r.y, 6),
            round(r.x, 6),
            round(r.frontier, 9),
            r.height,
        )
        for r in found.segments.itertuples()
    )


@pytest.mark.parametrize(
    ("shape", "params"),
    [
        ((96, 96), SegmentationConfig(min_area=15, max_area=900, max_noise=0.3)),
        ((96, 96), SegmentationConfig(min_area=15, max_area=900, max_noise=0.3, ws_hierarchy="dynamics")),
        ((96, 96), SegmentationConfig(min_area=15, max_area=900, max_noise=0.3, ws_hierarchy="volume")),
        ((96, 96), SegmentationConfig(min_area=15, max_area=900, max_noise=0.3, min_frontier=0.1)),
        (
            (8, 48, 48),
            SegmentationConfig(min_area=15, max_area=5000, max_noise=0.3, anisotropy_penalization=2),
        ),
    ],
)
def test_a_frame_holds_each_component_s_hierarchy_as_if_it_were_alone(
    shape: tuple[int, ...], params: SegmentationConfig
) -> None:
    # the frame's components are built as one tree (joined through a "sea"): each must come out as
    # the hierarchy of that component segmented on its own
    flat = len(shape) == 2
    scene = simulate(n_frames=1, shape=shape, n_cells=9 if flat else 5, radius=6 if flat else 5, seed=4)
    image = scene.images[0].astype(float)
    fg = ndi.gaussian_filter(image, 1) > np.percentile(image, 70 if flat else 92)
    bnd = 1 - ndi.gaussian_filter(image, 1.5) / image.max()
    whole = frame_candidates(fg, bnd, 0, params, image)
    labels, n = ndi.label(fg)
    assert n >= 3  # several components, so the joining is tested
    alone = []
    for k in range(1, n + 1):
        only = frame_candidates(labels == k, bnd, 0, params, image)
        alone += candidate_sets(only)
    assert candidate_sets(whole) == sorted(alone)
    assert len(whole.segments) > n  # nested hypotheses, not just the components
    # every candidate lies in one component, and its parent (if any) in the same one
    comp = {}
    for k in whole.segments.id:
        inside = np.unique(labels[masks_of(whole, int(k) % 10**9)])
        assert len(inside) == 1 and inside[0] > 0
        comp[k] = inside[0]
    assert all(comp[p] == comp[c] for p, c in whole.hierarchy.itertuples(index=False))
