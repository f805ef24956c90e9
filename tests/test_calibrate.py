"""Defaults that hold on untuned movies: the background model, parameters from the data, windows."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi

from neotrack.candidates import segment
from neotrack.config import Config
from neotrack.datasets import simulate, write_ctc
from neotrack.errors import InputError
from neotrack.imgproc import Inputs, calibrate, detect_foreground, estimate_background
from neotrack.imgproc._background import excess, sequence_thresholds
from neotrack.linking import link
from neotrack.solve import solve
from neotrack.store import Store
from neotrack.track import track
from test_track import ctc_scores


def false_foreground(found: np.ndarray, truth: np.ndarray) -> float:
    """Fraction of the foreground in objects that touch no true cell."""
    objects, n = ndi.label(found)
    touching = np.zeros(n + 1, bool)
    touching[np.unique(objects[found & (truth > 0)])] = True
    touching[0] = True
    return float(np.count_nonzero(~touching[objects]) / max(np.count_nonzero(found), 1))


def test_a_frame_with_one_cell_is_thresholded_like_a_full_one() -> None:
    few = simulate(n_frames=1, shape=(200, 200), n_cells=1, appear_rate=0, noise=8.0, seed=1)
    many = simulate(n_frames=1, shape=(200, 200), n_cells=40, appear_rate=0, noise=8.0, seed=1)
    bg_few = estimate_background(few.images[0].astype(np.float32))
    bg_many = estimate_background(many.images[0].astype(np.float32))
    assert abs(bg_few.noise - bg_many.noise) < 0.1 * bg_few.noise
    assert abs(float(np.median(bg_few.level)) - float(np.median(bg_many.level))) < bg_few.noise
    found = detect_foreground(few.images[0])
    assert ndi.mean(found, few.labels[0], [few.labels[0].max()])[0] > 0.9  # the one cell is found
    assert false_foreground(found, few.labels[0]) < 0.02
    # what this replaced: Otsu's threshold moves with the number of cells, by many noise deviations
    otsu_few = excess(few.images[0].astype(np.float32), "otsu")[1]
    otsu_many = excess(many.images[0].astype(np.float32), "otsu")[1]
    assert abs(otsu_few - otsu_many) > 5 * bg_few.noise


def test_uneven_illumination_is_not_foreground() -> None:
    scene = simulate(n_frames=1, shape=(256, 256), n_cells=6, appear_rate=0, noise=6.0, seed=2)
    ramp = np.linspace(0, 60, 256)[None, :] * np.ones((256, 1))  # the right side 60 grey levels brighter
    image = scene.images[0].astype(np.float32) + ramp
    found = detect_foreground(image)
    assert false_foreground(found, scene.labels[0]) < 0.05
    cells = np.unique(scene.labels[0][scene.labels[0] > 0])
    assert np.mean(np.asarray(ndi.mean(found, scene.labels[0], cells)) > 0.5) > 0.9


def test_a_frame_that_jumps_gets_its_neighbours_threshold(caplog: pytest.LogCaptureFixture) -> None:
    thresholds = [10.0] * 5 + [2.0] + [10.0] * 5
    fractions = [0.05] * 5 + [0.45] + [0.05] * 5
    with caplog.at_level(logging.WARNING):
        fixed = sequence_thresholds(thresholds, fractions)
    assert fixed[5] == 10.0 and list(fixed[:5]) == thresholds[:5]
    assert "frame 5: 45.0 % of the frame is foreground" in caplog.text
    # growth is not a jump: cells doubling over ten frames keep their own thresholds
    growing = sequence_thresholds([10.0 + t for t in range(11)], [0.02 * 1.07**t for t in range(11)])
    assert list(growing) == [10.0 + t for t in range(11)]


def test_parameters_come_from_the_data_and_are_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    radius, speed = 9.0, 2.0
    scene = simulate(n_frames=12, n_cells=10, radius=radius, speed=speed, division_rate=0, seed=4)
    inputs = Inputs.open(Config(), images=scene.images)
    measured = calibrate(inputs)
    true_area = np.pi * radius**2
    # the foreground holds the cells' blurred rims too, never less than the cells
    assert measured.cell_area is not None and true_area < measured.cell_area < 2 * true_area
    assert measured.motion is not None and measured.motion < 4 * speed
    estimates = measured.estimates()
    assert (
        estimates["segmentation.min_area"]
        < 0.5 * true_area
        < 2 * true_area
        < estimates["segmentation.max_area"]
    )
    assert estimates["linking.max_distance"] >= radius  # a daughter is about a radius away
    config = Config()
    config.data.working_dir = tmp_path
    config.segmentation.max_area = 5000  # set by the user: kept, not logged
    with caplog.at_level(logging.INFO, logger="neotrack"):
        from neotrack.imgproc import calibrated

        resolved, _ = calibrated(Inputs.open(config, images=scene.images))
    assert resolved.config.segmentation.max_area == 5000
    assert resolved.config.segmentation.min_area == estimates["segmentation.min_area"]
    assert f"segmentation.min_area = {estimates['segmentation.min_area']} (from a typical cell" in caplog.text
    assert "segmentation.max_area =" not in caplog.text


def test_link_radius_from_the_segmented_cells(
    store: Store, name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scene = simulate(n_frames=6, n_cells=8, radius=8.0, division_rate=0, seed=5)
    config = Config()
    segment(scene.images, dataset=name, config=config, store=store)
    info = store.info(name)
    assert info.props["cell_area"] > 100 and info.props["cell_motion"] is not None
    with caplog.at_level(logging.INFO, logger="neotrack"):
        link(name, config, store)
    assert "linking.max_distance = " in caplog.text
    chosen = json.loads(store.info(name).link.config)["max_distance"]
    assert chosen >= 8.0  # at least a cell radius, never the old fixed 15 regardless of size
    radius = (info.props["cell_area"] / math.pi) ** 0.5  # from the measured cells, not a constant
    assert chosen == round(max(1.25 * radius, 2.0 * info.props["cell_motion"]), 1) != 15.0
    config.linking.max_distance = 3.0  # the user's value wins
    link(name, config, store, overwrite=True)
    assert json.loads(store.info(name).link.config)["max_distance"] == 3.0


def test_windows_are_chosen_from_the_number_of_candidates(
    store: Store, name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scene = simulate(n_frames=12, n_cells=6, division_rate=0, seed=6)
    config = Config()
    segment(scene.images, dataset=name, config=config, store=store)
    link(name, config, store)
    per_frame = store.time_range(name)[2] / 12
    config.tracking.window_candidates = int(4 * per_frame)
    with caplog.at_level(logging.INFO, logger="neotrack"):
        result = solve(name, config, store)
    assert result.n_windows >= 3
    assert "each of at most about" in caplog.text and "(tracking.window_candidates)" in caplog.text
    config.tracking.window_size = 12  # the user's value wins
    assert solve(name, config, store).n_windows == 1


def test_no_config_tracks_a_movie_whose_cells_grow_from_one_to_many(
    store: Store, name: str, tmp_path: Path
) -> None:
    scene = simulate(n_frames=30, shape=(192, 192), n_cells=1, division_rate=0.1, appear_rate=0.15, seed=7)
    assert len(np.unique(scene.labels[0])) - 1 <= 2 and len(np.unique(scene.labels[-1])) - 1 >= 7
    raw = write_ctc(scene, tmp_path / "movie")
    result = track(raw, tmp_path / "01_RES", dataset=name, store=store)
    scores = ctc_scores(result.out_dir, tmp_path / "movie" / "01_GT")
    assert scores["TRA"] > 0.95, scores


def test_dic_like_images_are_refused_with_what_to_do(
    store: Store, name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Relief images (DIC): cells as bright on one side as dark on the other; no threshold works."""
    scene = simulate(n_frames=4, n_cells=8, appear_rate=0, noise=2.0, seed=8)
    relief = 128 + 3 * np.diff(scene.images.astype(np.float32), axis=-1, prepend=0)  # shading along x
    images = np.clip(relief, 0, 255).astype(np.uint8)
    with pytest.raises(InputError, match=r"not separable by intensity.*probability map"):
        segment(images, dataset=name, store=store)
    assert not store.has_dataset(name)  # nothing left behind
    config = Config()
    config.preprocessing.threshold_method = "otsu"  # the user's explicit choice: a warning, not a stop
    with caplog.at_level(logging.WARNING, logger="neotrack"):
        segment(images, dataset=name, config=config, store=store)
    assert "not separable by intensity" in caplog.text and store.info(name).segment.done
