"""The synthetic generator: ground truth that the official CTC validator accepts, in 2D and 3D."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile
from scipy import ndimage as ndi

from neotrack.candidates import segments_from_labels
from neotrack.datasets import lineage_links, simulate, write_ctc
from neotrack.datasets._synthetic import MARKER
from neotrack.errors import InputError
from neotrack.store import ID_STRIDE


def _labels_follow_tracks(scene) -> None:  # type: ignore[no-untyped-def]
    for label, begin, end, _ in scene.tracks.to_numpy():
        present = [t for t in range(scene.n_frames) if (scene.labels[t] == label).any()]
        assert present == list(range(begin, end + 1)), label


def test_2d_scene_has_divisions_entries_and_consistent_labels() -> None:
    scene = simulate(n_frames=30, n_cells=12, division_rate=0.06, appear_rate=0.3, seed=3)
    _labels_follow_tracks(scene)
    tracks = scene.tracks
    assert scene.n_divisions >= 3
    children = tracks[tracks.P > 0]
    ends = dict(zip(tracks.L, tracks.E, strict=True))
    assert all(ends[p] == b - 1 for b, p in zip(children.B, children.P, strict=True))
    assert ((tracks.P == 0) & (tracks.B > 0)).any()  # cells entered after frame 0
    assert scene.images.dtype == np.uint16 and scene.images.shape == (30, 256, 256)
    # nuclei are brighter than the background
    assert scene.images[scene.labels > 0].mean() > scene.images[scene.labels == 0].mean() + 50


def test_3d_scene_is_anisotropic_and_consistent() -> None:
    scene = simulate(n_frames=8, shape=(12, 64, 64), n_cells=4, radius=6, seed=1)
    _labels_follow_tracks(scene)
    assert scene.voxel_size == (2.0, 1.0, 1.0)
    seg = segments_from_labels(scene.labels[0], 0)
    extent = np.stack(seg.bbox.to_numpy())
    assert np.all(extent[:, 3] - extent[:, 0] < extent[:, 4] - extent[:, 1])  # z is squashed


def test_same_seed_same_scene() -> None:
    a, b = simulate(n_frames=5, seed=7), simulate(n_frames=5, seed=7)
    assert np.array_equal(a.images, b.images) and a.tracks.equals(b.tracks)
    assert not np.array_equal(a.images, simulate(n_frames=5, seed=8).images)


def test_ctc_layout_passes_the_official_validator(tmp_path: Path) -> None:
    from ctc_metrics import validate_sequence

    scene = simulate(n_frames=12, n_cells=8, division_rate=0.1, seed=5)
    raw = write_ctc(scene, tmp_path)
    assert sorted(p.name for p in raw.iterdir())[:2] == ["t000.tif", "t001.tif"]
    tra = tmp_path / "01_GT" / "TRA"
    assert np.array_equal(tifffile.imread(tra / "man_track011.tif"), scene.labels[11])
    res = tmp_path / "as_res"  # the validator reads result folders (mask*.tif, res_track.txt)
    res.mkdir()
    for path in tra.glob("man_track*.tif"):
        shutil.copy(path, res / path.name.replace("man_track", "mask"))
    shutil.copy(tra / "man_track.txt", res / "res_track.txt")
    assert validate_sequence(str(res), threads=1)["Valid"] == 1


@pytest.mark.parametrize("shape", [(160, 160), (10, 96, 96)])
def test_merged_nuclei_are_one_blob_with_a_marker_for_each_cell(shape: tuple[int, ...]) -> None:
    scene = simulate(
        n_frames=30, shape=shape, n_cells=12, division_rate=0.02, mergers=0.5, markers=True, seed=3
    )
    _labels_follow_tracks(scene)
    merged = scene.mergers
    assert merged.merger.nunique() >= 2
    per_merger = merged.groupby("merger").agg(frames=("t", "nunique"), cells=("L", "nunique"))
    assert (per_merger.cells == 2).all() and (per_merger.frames <= 3).all()
    assert (per_merger.frames == 3).any()
    radius = 8.0  # simulate's default
    largest, smallest = radius * 1.15, radius * 0.85  # what a nucleus grows to, what one starts at
    marker_area = np.pi * (MARKER * largest + 1) ** 2 * (2 if len(shape) == 3 else 1)
    for (t, _), cells in merged.groupby(["t", "merger"]):
        image = scene.images[t].astype(float)
        centres = [np.argwhere(scene.labels[t] == label).mean(axis=0) for label in cells.L]
        first, second = (scene.labels[t] == label for label in cells.L)
        for marker in (first, second):  # each small, and not touching the other: none lost a pixel
            assert 0 < marker.sum() <= marker_area
        assert not (ndi.binary_dilation(first) & second).any()
        # one blob: from one centre to the other the image stays as bright as at the centres
        line = np.linspace(centres[0], centres[1], 9).round().astype(int)
        profile = image[tuple(line.T)]
        assert profile.min() > 0.8 * min(profile[0], profile[-1]), (t, profile)
        assert np.linalg.norm(centres[0] - centres[1]) < largest
    # before and after a merger its cells are apart, as the generator keeps nuclei
    for _, cells in merged.groupby("merger"):
        for t in (cells.t.min() - 1, cells.t.max() + 1):
            present = [
                label
                for label in cells.L.unique()
                if 0 <= t < scene.n_frames and (scene.labels[t] == label).any()
            ]
            if len(present) == 2:
                a, b = (np.argwhere(scene.labels[t] == label).mean(axis=0) for label in present)
                assert np.linalg.norm((a - b) * [2, 1, 1][-len(shape) :]) > 1.5 * smallest


def test_lineage_links_cover_moves_and_divisions() -> None:
    scene = simulate(n_frames=20, division_rate=0.08, seed=2)
    links = lineage_links(scene.tracks)
    tracks = scene.tracks
    assert len(links) == int((tracks.E - tracks.B).sum()) + int((tracks.P > 0).sum())
    assert np.all(links.target // ID_STRIDE == links.source // ID_STRIDE + 1)
    out_degree = links.groupby("source").size()
    assert (out_degree == 2).sum() == scene.n_divisions


@pytest.mark.parametrize(
    "kwargs",
    [
        {"shape": (5,)},
        {"shape": (4, 4)},
        {"n_frames": 0},
        {"shape": (8, 32, 32), "voxel_size": (1, 1)},
        {"mergers": -1.0},
        {"mergers": 0.5, "merge_frames": 0},
    ],
)
def test_bad_parameters_are_refused(kwargs: dict) -> None:
    with pytest.raises(InputError):
        simulate(**kwargs)
