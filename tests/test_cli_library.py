"""The command line and the library offer the same things: --flow, repeatable --labels, --axes and
--channel everywhere, and crops in time (--frames) and space (--roi) applied to every input alike."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import h5py
import numpy as np
import pytest
import tifffile
import zarr
from click.testing import CliRunner, Result

from neotrack.candidates._segment import settings_fingerprint
from neotrack.cli import main
from neotrack.config import Config
from neotrack.datasets import SyntheticScene, simulate, write_ctc
from neotrack.errors import InputError
from neotrack.io import CroppedSource, crop, open_images
from neotrack.store import Store
from neotrack.track import track

SHAPE = (96, 96)
N_FRAMES = 8


def scene(seed: int = 41) -> SyntheticScene:
    return simulate(n_frames=N_FRAMES, shape=SHAPE, n_cells=6, division_rate=0.0, seed=seed)


def small_config(tmp_path: Path) -> Path:
    """A config for small generated scenes, with a quick flow field; its path."""
    config = Config()
    config.segmentation.min_area, config.segmentation.max_area = 60, 600
    config.linking.max_distance = 15.0
    config.flow.n_scales, config.flow.num_iterations = 2, 20
    config.save(tmp_path / "cfg.toml")
    return tmp_path / "cfg.toml"


def cli(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def masks(folder: Path) -> np.ndarray:
    return np.stack([tifffile.imread(p) for p in sorted(folder.glob("mask*.tif"))])


def track_frames(folder: Path) -> set[int]:
    """The frames that res_track.txt says tracks live in."""
    rows = np.loadtxt(folder / "res_track.txt", dtype=int, ndmin=2)
    return {t for _, b, e, _ in rows for t in range(b, e + 1)}


# --- the crop, without a server ------------------------------------------------------------------


def test_a_crop_is_a_view_of_the_frames_and_region_asked_for() -> None:
    movie = np.arange(6 * 10 * 12, dtype=np.uint16).reshape(6, 10, 12)
    source = crop(open_images(movie), (-4, -1), ((2, 7), (None, 5)))
    assert isinstance(source, CroppedSource) and source.shape == (3, 5, 5) and len(source) == 3
    assert np.array_equal(source.frame(0), movie[2, 2:7, :5])
    assert np.array_equal(source.frame(2), movie[4, 2:7, :5])
    assert source.origin == (2, 2, 0) and source.source_shape == movie.shape
    again = crop(source, (1, None), ((1, 3), (1, 3)))  # a crop of a crop: origins add up
    assert again.origin == (3, 3, 1) and np.array_equal(again.frame(0), movie[3, 3:5, 1:3])
    assert pickle.loads(pickle.dumps(source)).frame(1).tolist() == source.frame(1).tolist()
    whole = open_images(movie)
    assert crop(whole) is whole and source.fingerprint() != whole.fingerprint()
    assert crop(whole, (0, 3)).fingerprint() != crop(whole, (0, 4)).fingerprint()
    volume = np.zeros((2, 4, 10, 12), np.uint8)
    assert crop(open_images(volume), roi=((2, 8), (3, 9))).shape == (2, 4, 6, 6)  # Y, X: every z


@pytest.mark.parametrize(
    ("frames", "roi", "message"),
    [
        ((2, 50), None, "data.frames 2:50 (--frames) is out of range: array has 6 frames"),
        ((-7, None), None, "data.frames -7: (--frames) is out of range: array has 6 frames"),
        ((4, -3), None, "data.frames 4:-3 (--frames) keeps no frames: array has 6 frames"),
        (
            None,
            ((0, 11), (0, 5)),
            "data.roi 0:11,0:5 (--roi) is out of range: array has frames of shape (10, 12)",
        ),
        (
            None,
            ((5, -6), (None, None)),
            "data.roi 5:-6,: (--roi) keeps no pixels along y: array has frames of shape (10, 12)",
        ),
        (None, ((0, 2), (0, 2), (0, 2)), "data.roi 0:2,0:2,0:2 (--roi) has 3 ranges but array has 2D frames"),
    ],
)
def test_a_crop_beyond_the_movie_or_of_nothing_is_one_clear_error(
    frames: tuple[int | None, int | None] | None,
    roi: tuple[tuple[int | None, int | None], ...] | None,
    message: str,
) -> None:
    with pytest.raises(InputError, match=re.escape(message)) as info:
        crop(open_images(np.zeros((6, 10, 12), np.uint8)), frames, roi)
    assert "\n" not in str(info.value)


def test_crops_in_the_config_round_trip_and_change_the_settings_fingerprint(tmp_path: Path) -> None:
    config = Config()
    plain = settings_fingerprint(config)
    assert "frames" not in plain and "roi" not in plain  # runs without a crop keep their fingerprint
    config.data.frames, config.data.roi = "-50:", "10:60,:80"
    assert config.data.frames == (-50, None) and config.data.roi == ((10, 60), (None, 80))
    config.save(tmp_path / "c.toml")
    assert 'frames = "-50:"' in (tmp_path / "c.toml").read_text()
    assert Config.load(tmp_path / "c.toml") == config
    assert json.loads(settings_fingerprint(config))["data"]["frames"] == "-50:"
    assert settings_fingerprint(config) != plain
    (tmp_path / "bad.toml").write_text('[data]\nframes = "9:3"\n')
    with pytest.raises(InputError, match=re.escape("data.frames: empty range: START must be below STOP")):
        Config.load(tmp_path / "bad.toml")
    (tmp_path / "bad.toml").write_text('[data]\nroi = "1:2"\n')
    with pytest.raises(InputError, match=re.escape("data.roi: expected Y0:Y1,X0:X1 or Z0:Z1,Y0:Y1,X0:X1")):
        Config.load(tmp_path / "bad.toml")


# --- the commands, on the real server ------------------------------------------------------------


def test_track_frames_and_roi_give_the_cropped_movie(store: Store, name: str, tmp_path: Path) -> None:
    movie = scene()
    raw = write_ctc(movie, tmp_path / "movie")
    out = tmp_path / "res"
    result = cli(
        "track", raw, "-o", out, "--dataset", name, "--config", small_config(tmp_path),
        "--frames", "2:5", "--roi", "8:72,16:96", "--uri", store.uri,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    painted = masks(out)
    assert painted.shape == (3, 64, 80)  # frames 2, 3, 4 of the movie, counted 0, 1, 2
    assert track_frames(out) <= {0, 1, 2} and painted.any()
    truth = movie.labels[2:5, 8:72, 16:96] > 0
    assert (painted > 0)[truth].mean() > 0.8  # the cells of movie frames 2..4, where they are
    info = store.info(name)
    assert info.shape == (3, 64, 80) and info.frame_offset == 2
    assert info.roi_origin == (8, 16) and info.source_shape == (N_FRAMES, *SHAPE)
    shown = cli("datasets", "info", name, "--uri", store.uri)
    assert shown.exit_code == 0 and "frames 2:5 of 8, roi 8:72,16:96 of (96, 96)" in shown.stdout


def test_labels_cropped_are_the_segmentation_exactly(store: Store, name: str, tmp_path: Path) -> None:
    movie = scene(seed=42)
    raw = write_ctc(movie, tmp_path / "movie")
    assert ((movie.labels[2] > 0) != (movie.labels[0] > 0)).any()  # an offset would show
    config = Config.load(small_config(tmp_path))
    config.data.frames, config.data.roi = (2, 6), ((10, 90), (None, 70))
    gt = tmp_path / "movie" / "01_GT" / "TRA"
    result = track(raw, tmp_path / "res", config=config, dataset=name, labels=[gt], store=store)
    painted = masks(tmp_path / "res")
    assert painted.shape == (4, 80, 70) and result.segmented.n_frames == 4
    assert np.array_equal(painted > 0, movie.labels[2:6, 10:90, :70] > 0)


def test_repeated_labels_are_an_ensemble_on_the_command_line(store: Store, name: str, tmp_path: Path) -> None:
    movie = scene(seed=43)
    write_ctc(movie, tmp_path / "movie")
    gt = tmp_path / "movie" / "01_GT" / "TRA"
    shifted = tmp_path / "shifted"  # a second hypothesis: the same cells, one pixel to the right
    shifted.mkdir()
    for t in range(N_FRAMES):
        tifffile.imwrite(shifted / f"mask{t:03d}.tif", np.roll(movie.labels[t], 1, axis=1))
    out = tmp_path / "res"
    result = cli(
        "track", "-o", out, "--labels", gt, "--labels", shifted, "--dataset", name,
        "--config", small_config(tmp_path), "--frames", ":4", "--uri", store.uri,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    source = store.info(name).source or ""
    assert str(gt) in source and str(shifted) in source  # both stacks were read
    assert masks(out).shape == (4, *SHAPE) and masks(out).any()


def test_two_channel_hdf5_with_a_channel_setting_tracks_with_flow(
    store: Store, name: str, tmp_path: Path
) -> None:
    """ilastik-style predictions: (t, y, x, c) with axistags; the config names the channel."""
    movie = scene(seed=44)
    stack = np.stack([np.zeros_like(movie.images), movie.images], axis=-1)
    with h5py.File(tmp_path / "pred.h5", "w") as f:
        f["exported_data"] = stack
        f["exported_data"].attrs["axistags"] = json.dumps({"axes": [{"key": k} for k in "tyxc"]})
    config = Config.load(small_config(tmp_path))
    config.data.channel = 1
    config.save(tmp_path / "cfg.toml")
    out = tmp_path / "res"
    result = cli(
        "track", f"{tmp_path / 'pred.h5'}/exported_data", "-o", out, "--flow", "--dataset", name,
        "--config", tmp_path / "cfg.toml", "--frames", "1:6", "--roi", "0:80,8:96", "--uri", store.uri,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert masks(out).shape == (5, 80, 88) and masks(out).any()
    field = zarr.open_array(str(store.pixels(name) / "flow.zarr"), mode="r")
    assert field.shape == (5, 2, 20, 22)  # the cropped movie, a vector every 4 pixels
    assert dict(field.attrs["neotrack"])["origin"] == [1, 0, 8]  # type: ignore[index]
    other = tmp_path / "f.zarr"  # the same number of frames and pixels, from another part of the movie
    alone = cli(
        "flow", tmp_path / "pred.h5", "-o", other, "--channel", "1", "--frames", "0:5", "--roi", "0:80,8:"
    )
    assert alone.exit_code == 0, alone.output
    assert zarr.open_array(str(other), mode="r").shape == field.shape
    moved = cli("add-flow", other, "--dataset", name, "--uri", store.uri)
    assert moved.exit_code == 1 and "starting at [0, 0, 8] (t, y, x) of the movie" in moved.stderr
    assert "starting at [1, 0, 8]: compute the field with the dataset's data.frames" in moved.stderr
    refused = cli("flow", tmp_path / "pred.h5", "-o", tmp_path / "g.zarr")
    assert refused.exit_code == 1 and "has 2 channels" in refused.stderr


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--frames", "9:3", "Error: --frames 9:3: empty range: START must be below STOP"),
        ("--frames", "2:x", "Error: --frames 2:x: expected whole numbers"),
        ("--frames", "3:20", "Error: data.frames 3:20 (--frames) is out of range: "),
        ("--roi", "0:10", "Error: --roi 0:10: expected Y0:Y1,X0:X1 or Z0:Z1,Y0:Y1,X0:X1, got 1 range(s)"),
        ("--roi", "0:10,90:120", "Error: data.roi 0:10,90:120 (--roi) is out of range: "),
        ("--roi", "0:10,-5:2", "Error: data.roi 0:10,-5:2 (--roi) keeps no pixels along x: "),
    ],
)
def test_bad_crops_are_one_line_naming_the_option(
    store: Store, name: str, tmp_path: Path, option: str, value: str, message: str
) -> None:
    raw = write_ctc(simulate(n_frames=4, shape=(48, 96), n_cells=3, seed=45), tmp_path / "movie")
    for command in (["track", "-o", tmp_path / "res"], ["segment"]):
        result = cli(*command, raw, "--dataset", name, f"{option}={value}", "--uri", store.uri)
        assert result.exit_code == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(message), result.stderr
        if "out of range" in message:  # the movie's size is in the message
            assert "has 4 frames" in lines[0] or "shape (48, 96)" in lines[0], lines[0]
        assert not store.has_dataset(name) and not (tmp_path / "res").exists()
