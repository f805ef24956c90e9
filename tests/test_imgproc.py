"""Preprocessing: foreground and boundary maps, on scenes where the answer is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import zarr

from neotrack.config import Config
from neotrack.datasets import simulate
from neotrack.imgproc import (
    Inputs,
    detect_foreground,
    labels_to_boundaries,
    preprocess,
    robust_invert,
    threshold_probability,
)


def test_detect_foreground_finds_the_nuclei() -> None:
    scene = simulate(n_frames=2, n_cells=10, seed=3)
    truth = scene.labels[1] > 0
    found = detect_foreground(scene.images[1])
    assert (found & truth).sum() / truth.sum() > 0.9  # nuclei covered
    assert (found & ~truth).sum() / found.sum() < 0.35  # the blur halo, not the background


def test_robust_invert_is_low_inside_nuclei_and_high_between() -> None:
    scene = simulate(n_frames=1, n_cells=10, seed=4)
    inverted = robust_invert(scene.images[0])
    assert inverted.min() >= 0 and inverted.max() <= 1
    assert inverted[scene.labels[0] > 0].mean() + 0.3 < inverted[scene.labels[0] == 0].mean()


def test_threshold_single_hysteresis_and_size_range() -> None:
    prob = np.zeros((40, 40), np.float32)
    prob[2:8, 2:8] = 0.9  # strong, 36 px
    prob[20:30, 20:30] = 0.6  # weak but touching a strong core ...
    prob[24:26, 24:26] = 0.95  # ... so hysteresis keeps it whole
    prob[12:14, 30:32] = 0.7  # 4 px: below min_size
    single = threshold_probability(prob, sigma=0, threshold=0.65)
    assert single[3, 3] and not single[21, 21] and single[12, 30]
    hyst = threshold_probability(prob, sigma=0, threshold=0.8, low_threshold=0.5, min_size=10)
    assert hyst[21, 21] and hyst[3, 3] and not hyst[12, 30]
    sized = threshold_probability(prob, sigma=0, threshold=0.5, min_size=10, max_size=50)
    assert sized[3, 3] and not sized[21, 21] and not sized[12, 30]


def test_labels_to_boundaries_one_stack_and_an_ensemble() -> None:
    a = np.zeros((20, 20), np.uint16)
    a[2:10, 2:10], a[2:10, 10:18] = 1, 2
    fg, bnd = labels_to_boundaries([a])
    assert np.array_equal(fg > 0.5, a > 0)
    assert bnd[5, 9] == 1 and bnd[5, 10] == 1 and bnd[5, 5] == 0  # the shared edge is a boundary
    b = np.where(a > 0, 1, 0).astype(np.uint16)  # a second opinion: one object, no split
    fg2, bnd2 = labels_to_boundaries([a, b])
    assert np.array_equal(fg2, fg) and bnd2[5, 9] == 0.5 and bnd2[5, 5] == 0


def test_preprocess_writes_the_same_maps_in_parallel(tmp_path: Path) -> None:
    scene = simulate(n_frames=4, n_cells=6, seed=5)
    serial = preprocess(scene.images, tmp_path / "one.zarr", Config())
    config = Config()
    config.data.n_workers = 2
    parallel = preprocess(scene.images, tmp_path / "two.zarr", config)
    for name in ("foreground", "boundaries"):
        assert np.array_equal(serial[name][:], parallel[name][:])
    maps = Inputs.open(Config(), images=scene.images).maps(3)
    assert np.array_equal(zarr.open_group(str(tmp_path / "one.zarr"))["boundaries"][3], maps.boundaries)
