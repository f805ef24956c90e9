"""``segment`` against the real Neo4j and real zarr files."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner

from conftest import SHARED_DATA
from neotrack.candidates import CandidateMasks, segment
from neotrack.cli import main
from neotrack.config import Config
from neotrack.datasets import simulate, write_ctc
from neotrack.errors import DatasetExistsError, InputError
from neotrack.io import ArraySource
from neotrack.store import ID_STRIDE, Store


def small_config(tmp_path: Path, **segmentation: object) -> Config:
    config = Config()
    config.data.working_dir = tmp_path
    config.segmentation.min_area = 30
    config.segmentation.max_area = 2000
    for key, value in segmentation.items():
        setattr(config.segmentation, key, value)
    return config


def test_masks_rebuilt_from_neo4j_and_zarr_match_every_candidate(
    store: Store, name: str, tmp_path: Path
) -> None:
    scene = simulate(n_frames=4, n_cells=8, seed=21)
    result = segment(scene.images, dataset=name, config=small_config(tmp_path, max_noise=0.1), store=store)
    assert result.n_frames == 4 and result.n_candidates == store.time_range(name)[2] > 4 * 8
    masks = CandidateMasks(store, name)
    segments = store.read_segments(name, extra=["intensity_mean"])
    hierarchy = store.read_hierarchy(name)
    assert len(hierarchy) > 0
    full: dict[int, np.ndarray] = {}
    for row in segments.itertuples():
        crop, box = masks.mask(int(row.id))
        coords = np.argwhere(crop) + [s.start for s in box]
        assert row.area == crop.sum()
        assert list(row.bbox) == [*coords.min(0), *(coords.max(0) + 1)]
        assert np.allclose([row.y, row.x], coords.mean(0))
        frame = np.zeros(scene.images.shape[1:], bool)
        frame[box] = crop
        full[int(row.id)] = frame
        assert np.isclose(row.intensity_mean, scene.images[row.t][frame].mean())
    for parent, child in hierarchy.to_numpy():  # a child lies inside its parent, in its frame
        assert parent // ID_STRIDE == child // ID_STRIDE
        assert not (full[int(child)] & ~full[int(parent)]).any()
    # candidates that do not contain one another are disjoint
    parent_of = {int(c): int(p) for p, c in hierarchy.to_numpy()}

    def ancestors(node: int) -> set[int]:
        found = set()
        while node in parent_of:
            node = parent_of[node]
            found.add(node)
        return found

    frame0 = [i for i in full if i // ID_STRIDE == 0]
    for a in frame0:
        for b in frame0:
            if a < b and b not in ancestors(a) and a not in ancestors(b):
                assert not (full[a] & full[b]).any()


def test_labels_in_give_the_same_labels_out(store: Store, name: str, tmp_path: Path) -> None:
    scene = simulate(n_frames=3, n_cells=10, seed=22)
    write_ctc(scene, tmp_path / "ctc")
    config = small_config(tmp_path, min_frontier=0.9, min_area=5, max_area=10**6)
    segment(labels=tmp_path / "ctc" / "01_GT" / "TRA", dataset=name, config=config, store=store)
    masks = CandidateMasks(store, name)
    for t in range(3):
        ids = store.read_segments(name, t, t + 1).id.tolist()
        painted = masks.paint(ids)
        truth = scene.labels[t]
        assert len(ids) == len(np.unique(truth)) - 1
        # one candidate per label, pixel for pixel (up to renumbering)
        pairs = {(int(a), int(b)) for a, b in zip(painted.ravel(), truth.ravel(), strict=True)}
        assert len(pairs) == len(ids) + 1 and (0, 0) in pairs


def test_overwrite_replaces_exactly_this_dataset(store: Store, name: str, tmp_path: Path) -> None:
    scene = simulate(n_frames=3, n_cells=6, seed=23)
    other = f"{name}-other"
    try:
        segment(scene.images, dataset=other, config=small_config(tmp_path), store=store)
        before_other = store.read_segments(other)
        first = segment(scene.images, dataset=name, config=small_config(tmp_path), store=store)
        with pytest.raises(DatasetExistsError, match="--overwrite"):
            segment(scene.images, dataset=name, config=small_config(tmp_path), store=store)
        second = segment(
            scene.images,
            dataset=name,
            config=small_config(tmp_path, max_area=300),
            store=store,
            overwrite=True,
        )
        assert second.n_candidates < first.n_candidates
        stored = store.read_segments(name)
        assert len(stored) == second.n_candidates and stored.id.is_unique
        assert stored.area.max() <= 300
        assert store.read_segments(other).equals(before_other)
    finally:
        if store.has_dataset(other):
            store.delete_dataset(other)


class Interrupting(ArraySource):
    """Frames of an array, until frame ``stop_at`` is read a second time (the first read is the
    pass that measures the movie): then the run is interrupted (Ctrl-C) while segmenting."""

    def __init__(self, array: np.ndarray, stop_at: int) -> None:
        super().__init__(array)
        self.stop_at = stop_at
        self.reads = 0

    def _read(self, t: int) -> np.ndarray:
        if t == self.stop_at:
            self.reads += 1
            if self.reads > 1:
                raise KeyboardInterrupt
        return super()._read(t)


def test_an_interrupted_run_resumes_without_duplicates(store: Store, name: str, tmp_path: Path) -> None:
    scene = simulate(n_frames=8, n_cells=6, seed=24)
    config = small_config(tmp_path)
    reference = f"{name}-ref"
    small = Store(uri=store.uri, batch_size=40)  # commits every couple of frames
    try:
        segment(scene.images, dataset=reference, config=config, store=store)
        with pytest.raises(KeyboardInterrupt):
            segment(Interrupting(scene.images, stop_at=6), dataset=name, config=config, store=small)
        state = store.info(name).segment
        partial = state.next_frame
        assert partial is not None and 0 < partial <= 6 and state.interrupted
        assert store.info(name).lock_stage is None  # the lock went with the run
        resumed = segment(scene.images, dataset=name, config=config, store=small)
        assert resumed.resumed_at == partial
        got, want = store.read_segments(name), store.read_segments(reference)
        assert got.id.is_unique
        assert got.drop(columns="bbox").equals(want.drop(columns="bbox"))
        assert store.read_hierarchy(name).equals(store.read_hierarchy(reference))
        store.update_dataset(name, segment_status="running")
        with pytest.raises(InputError, match="segmentation settings changed"):
            segment(scene.images, dataset=name, config=small_config(tmp_path, min_area=31), store=small)
    finally:
        small.close()
        if store.has_dataset(reference):
            store.delete_dataset(reference)


def test_bad_frame_mid_run_leaves_nothing(store: Store, name: str, tmp_path: Path) -> None:
    scene = simulate(n_frames=5, n_cells=5, seed=25)
    foreground = (scene.labels > 0).astype(np.float32)
    foreground[3, 10, 10] = np.nan
    boundaries = np.zeros_like(foreground)
    small = Store(uri=store.uri, batch_size=10)  # frames 0-2 would be committed before frame 3
    try:
        with pytest.raises(InputError, match="frame 3: frame contains NaN"):
            segment(
                foreground=foreground,
                boundaries=boundaries,
                dataset=name,
                config=small_config(tmp_path),
                store=small,
            )
    finally:
        small.close()
    assert not store.has_dataset(name)
    assert not [p for p in tmp_path.iterdir() if (p / "neotrack.json").exists()]  # no pixel folder left


def test_mismatched_inputs_are_refused_before_anything_is_written(
    store: Store, name: str, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match="same frames and frame shape"):
        segment(
            foreground=np.ones((3, 20, 20)),
            boundaries=np.ones((3, 20, 21)),
            dataset=name,
            config=small_config(tmp_path),
            store=store,
        )
    with pytest.raises(InputError, match="voxel_size"):
        config = small_config(tmp_path)
        config.data.voxel_size = (2.0, 1.0, 1.0)
        segment(np.ones((3, 20, 20)), dataset=name, config=config, store=store)
    assert not store.has_dataset(name)


def test_empty_frames_give_no_candidates_and_a_log_line(
    store: Store, name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scene = simulate(n_frames=3, n_cells=5, seed=26)
    foreground = (scene.labels > 0).astype(np.float32)
    foreground[1] = 0
    with caplog.at_level(logging.INFO, logger="neotrack"):
        segment(
            foreground=foreground,
            boundaries=np.zeros_like(foreground),
            dataset=name,
            config=small_config(tmp_path),
            store=store,
        )
    assert "frame 1: no candidates" in caplog.text
    frames = set(store.read_segments(name).t)
    assert frames == {0, 2}


def test_cli_segment_with_a_config_file(store: Store, name: str, tmp_path: Path) -> None:
    scene = simulate(n_frames=3, n_cells=5, seed=27)
    write_ctc(scene, tmp_path / "ctc")
    small_config(tmp_path, max_area=1500).save(tmp_path / "cfg.toml")
    args = [
        "segment",
        str(tmp_path / "ctc" / "01"),
        "--dataset",
        name,
        "--config",
        str(tmp_path / "cfg.toml"),
        "--uri",
        store.uri,
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert f"dataset {name!r}" in result.stdout
    assert store.read_segments(name).area.max() <= 1500
    again = CliRunner().invoke(main, [*args, "--overwrite"])
    assert again.exit_code == 0 and store.read_segments(name).id.is_unique
    bad = CliRunner().invoke(main, ["segment", str(tmp_path / "nope"), "--dataset", name, "--uri", store.uri])
    assert bad.exit_code == 1 and bad.stderr.strip() == f"Error: {tmp_path / 'nope'}: does not exist"


@pytest.mark.realdata
@pytest.mark.skipif(not (SHARED_DATA / "Fluo-N2DH-SIM+").exists(), reason="shared data absent")
def test_sim_candidates_cover_the_ground_truth_nuclei(store: Store, name: str, tmp_path: Path) -> None:
    raw = SHARED_DATA / "Fluo-N2DH-SIM+" / "01"
    images = np.stack([tifffile.imread(raw / f"t{t:03d}.tif") for t in range(3)])
    config = small_config(tmp_path, min_area=400, max_area=4000)
    result = segment(images, dataset=name, config=config, store=store)
    masks = CandidateMasks(store, name)
    truth = tifffile.imread(SHARED_DATA / "Fluo-N2DH-SIM+" / "01_GT" / "SEG" / "man_seg000.tif")
    segments = store.read_segments(name, 0, 1)
    best: dict[int, float] = {}
    for seg_id in segments.id:
        crop, box = masks.mask(int(seg_id))
        labels, counts = np.unique(truth[box][crop], return_counts=True)
        for lab, inter in zip(labels, counts, strict=True):
            if lab:
                iou = inter / (crop.sum() + (truth == lab).sum() - inter)
                best[int(lab)] = max(best.get(int(lab), 0.0), iou)
    n_truth = len(np.unique(truth)) - 1
    matched = sum(iou > 0.5 for iou in best.values())
    assert result.n_candidates > 0 and matched >= 0.9 * n_truth, (matched, n_truth)


def test_ilastik_prediction_map_via_the_cli(store: Store, name: str, tmp_path: Path) -> None:
    """ilastik users bring probability maps (HDF5, axistags, one channel per class)."""
    import json

    import h5py
    from scipy import ndimage as ndi

    scene = simulate(n_frames=3, n_cells=8, seed=28)
    fg = ndi.gaussian_filter((scene.labels > 0).astype(np.float32), (0, 2, 2))
    prob = np.stack([1 - fg, fg], axis=-1)  # channel 0 background, channel 1 nuclei
    with h5py.File(tmp_path / "pred.h5", "w") as f:
        ds = f.create_dataset("exported_data", data=prob)
        ds.attrs["axistags"] = json.dumps({"axes": [{"key": k} for k in "tyxc"]})
    config = small_config(tmp_path, min_area=20, max_area=5000)
    config.preprocessing.foreground = "threshold"
    config.preprocessing.boundaries = "probability"
    config.preprocessing.prob_threshold = 0.5
    config.preprocessing.min_size = 20
    config.save(tmp_path / "ilastik.toml")
    result = CliRunner().invoke(
        main,
        [
            "segment",
            f"{tmp_path / 'pred.h5'}/exported_data",
            "--channel",
            "1",
            "--dataset",
            name,
            "--config",
            str(tmp_path / "ilastik.toml"),
            "--uri",
            store.uri,
        ],
    )
    assert result.exit_code == 0, result.output
    frame0 = store.read_segments(name, 0, 1)
    n_cells = len(np.unique(scene.labels[0])) - 1
    assert len(frame0) >= n_cells  # every nucleus is a candidate (touching ones also as one)
    centroids = frame0[["y", "x"]].to_numpy()
    for label in np.unique(scene.labels[0])[1:]:
        centre = np.argwhere(scene.labels[0] == label).mean(0)
        assert np.min(np.linalg.norm(centroids - centre, axis=1)) < 3
