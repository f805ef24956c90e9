"""End to end on generated scenes: segment -> link -> solve -> CTC, scored with py-ctcmetrics."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from graphs import assert_valid
from neotrack.candidates import segment
from neotrack.cli import main
from neotrack.config import Config
from neotrack.datasets import simulate, write_ctc
from neotrack.errors import DatasetExistsError
from neotrack.linking import link
from neotrack.solve import solve
from neotrack.store import Store
from neotrack.track import dataset_name, track


def scene_config(tmp_path: Path) -> Config:
    config = Config()
    config.data.working_dir = tmp_path
    config.segmentation.min_area, config.segmentation.max_area = 60, 600
    return config


def ctc_scores(res: Path, gt: Path) -> dict[str, float]:
    from ctc_metrics import evaluate_sequence, validate_sequence

    with contextlib.redirect_stdout(io.StringIO()):
        assert validate_sequence(str(res), threads=1)["Valid"] == 1
        return evaluate_sequence(str(res), str(gt), metrics=["DET", "TRA", "LNK"], threads=1)


@pytest.mark.parametrize("workers", [1, 2], ids=["one after the other", "two passes in two processes"])
def test_windows_stitch_into_a_valid_tracking_close_to_one_window(
    store: Store, name: str, tmp_path: Path, workers: int
) -> None:
    scene = simulate(n_frames=16, n_cells=10, division_rate=0.05, seed=31)
    config = scene_config(tmp_path)
    segment(scene.images, dataset=name, config=config, store=store)
    link(name, config, store)
    whole = solve(name, config, store)
    one = store.read_solution(name)
    config.tracking.window_size, config.tracking.overlap_size = 5, 2
    config.data.n_workers = workers  # two: every other window at once, then those between, anchored
    windowed = solve(name, config, store)
    assert windowed.n_windows > 3
    assert_valid(store, name)  # no second parents, no transitions to unselected segments
    many = store.read_solution(name)
    same_segments = len(set(one[0].id) & set(many[0].id)) / len(set(one[0].id) | set(many[0].id))
    pairs = lambda s: set(zip(s[1].source, s[1].target, strict=True))  # noqa: E731
    same_links = len(pairs(one) & pairs(many)) / len(pairs(one) | pairs(many))
    assert same_segments > 0.97 and same_links > 0.95, (same_segments, same_links)
    assert abs(windowed.n_selected - whole.n_selected) <= 0.03 * whole.n_selected


def test_track_cli_writes_a_valid_ctc_result(store: Store, tmp_path: Path) -> None:
    scene = simulate(n_frames=12, n_cells=8, division_rate=0.05, seed=32)
    raw = write_ctc(scene, tmp_path / "movie")
    scene_config(tmp_path).save(tmp_path / "cfg.toml")
    out = tmp_path / "res"
    name = dataset_name(raw)
    assert name == "movie-01"
    try:
        args = ["track", str(raw), "-o", str(out), "--config", str(tmp_path / "cfg.toml"), "--uri", store.uri]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        scores = ctc_scores(out, tmp_path / "movie" / "01_GT")
        assert scores["TRA"] > 0.9 and scores["DET"] > 0.9, scores
        again = CliRunner().invoke(main, args)  # neither the dataset nor the folder is overwritten
        assert again.exit_code == 1 and "--overwrite" in again.stderr
        assert CliRunner().invoke(main, [*args, "--overwrite"]).exit_code == 0
    finally:
        if store.has_dataset(name):
            store.delete_dataset(name)


def test_track_with_labels_keeps_every_cell(store: Store, name: str, tmp_path: Path) -> None:
    scene = simulate(n_frames=10, n_cells=12, division_rate=0.06, seed=33)
    write_ctc(scene, tmp_path / "movie")
    result = track(
        tmp_path / "movie" / "01",
        tmp_path / "res",
        config=scene_config(tmp_path),
        dataset=name,
        labels=tmp_path / "movie" / "01_GT" / "TRA",
        store=store,
    )
    scores = ctc_scores(tmp_path / "res", tmp_path / "movie" / "01_GT")
    assert scores["DET"] == 1.0 and scores["TRA"] > 0.97, scores
    assert result.segmented.n_candidates == sum(len(set(scene.labels[t].ravel())) - 1 for t in range(10))


def test_export_refuses_an_unsolved_dataset(store: Store, name: str, tmp_path: Path) -> None:
    from neotrack.errors import InputError
    from neotrack.export import to_ctc

    store.create_dataset(name)
    with pytest.raises(InputError, match="no solution"):
        to_ctc(name, tmp_path / "out", store)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("keep me")
    store.update_dataset(name, solve_status="done")
    with pytest.raises(DatasetExistsError, match="x, which neotrack did not write"):
        to_ctc(name, tmp_path / "busy", store)
    assert (tmp_path / "busy" / "x").read_text() == "keep me"


def test_motion_passes_follow_a_drifting_scene(store: Store, name: str, tmp_path: Path) -> None:
    """Cells drift 9 px per frame (radius 8): overlaps are poor until candidates are shifted."""
    from neotrack.linking import estimate_shifts

    scene = simulate(
        n_frames=10, n_cells=10, drift=(0.0, 9.0), speed=0.5, division_rate=0.0, appear_rate=0.0, seed=34
    )
    write_ctc(scene, tmp_path / "movie")
    config = scene_config(tmp_path)
    config.segmentation.min_area = 120  # nuclei are ~200 px: no half-nucleus candidates
    config.linking.max_distance = 20.0
    still = track(tmp_path / "movie" / "01", tmp_path / "still", config=config, dataset=name, store=store)
    before = store.read_links(name, extra=["iou"])
    shifts = estimate_shifts(store, name, config.linking.motion_neighbors)
    assert abs(shifts.shift_x.median() - 9.0) < 1.5 and abs(shifts.shift_y.median()) < 1.5
    link(name, config, store, overwrite=True)
    after = store.read_links(name, extra=["iou"])
    assert after.groupby("target").iou.max().mean() > before.groupby("target").iou.max().mean() + 0.2
    config.linking.motion_passes = 1
    moved = track(
        tmp_path / "movie" / "01",
        tmp_path / "moved",
        config=config,
        dataset=name,
        store=store,
        overwrite=True,
    )
    gt = tmp_path / "movie" / "01_GT"
    assert ctc_scores(tmp_path / "moved", gt)["TRA"] >= ctc_scores(tmp_path / "still", gt)["TRA"] - 1e-9
    assert "motion passes" in moved.seconds and still.solved.n_tracks >= moved.solved.n_tracks


def test_registration_bridges_a_jump_of_the_field_of_view(store: Store, name: str, tmp_path: Path) -> None:
    """From frame 5 on, the whole field of view is moved 30 px: every overlap across the jump is 0."""
    import numpy as np

    scene = simulate(n_frames=8, n_cells=8, speed=0.5, division_rate=0.0, appear_rate=0.0, seed=35)
    labels = scene.labels.copy()
    labels[5:, :, 30:] = scene.labels[5:, :, :-30]  # cells pushed past the edge leave
    labels[5:, :, :30] = 0
    config = scene_config(tmp_path)
    config.linking.max_distance = 40.0

    def links_across_the_jump() -> pd.DataFrame:
        """The chosen transitions 4 -> 5 with their IoU; ids carry the labels (k = label)."""
        store.delete_dataset(name) if store.has_dataset(name) else None
        segment(labels=labels, dataset=name, config=config, store=store)
        link(name, config, store)
        solve(name, config, store)
        chosen = store.read_solution(name)[1]
        chosen = chosen[chosen.source // 10**9 == 4]
        candidates = store.read_links(name, 4, 6, extra=["iou"])
        return chosen.merge(candidates, on=["source", "target"])

    cells = len(set(np.unique(labels[4])) & set(np.unique(labels[5]))) - 1  # on both sides
    blind = links_across_the_jump()
    assert (blind.iou == 0).all()  # without registration no link across the jump has any evidence
    config.linking.register_frames = True
    seen = links_across_the_jump()
    same_cell = seen.source % 10**9 == seen.target % 10**9
    assert same_cell.sum() == cells and (seen.iou[same_cell] > 0.3).all()
