"""Readers: every supported container, read lazily per frame, and one clear error per bad input."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import h5py
import numpy as np
import pytest
import tifffile
import zarr

from neotrack.errors import InputError
from neotrack.io import open_images

MOVIE = np.arange(4 * 6 * 8, dtype=np.uint16).reshape(4, 6, 8)


def test_ctc_tiff_folder_reads_frames_in_numeric_order(tmp_path: Path) -> None:
    for t in range(4):  # t10 must come after t9, not after t1
        tifffile.imwrite(tmp_path / f"t{[0, 1, 9, 10][t]}.tif", MOVIE[t])
    source = open_images(tmp_path)
    assert source.shape == (4, 6, 8) and source.dtype == np.uint16
    assert np.array_equal(source.frame(3), MOVIE[3])


def test_multipage_tiff_zarr_and_npy(tmp_path: Path) -> None:
    tifffile.imwrite(tmp_path / "stack.tif", MOVIE, photometric="minisblack", metadata={"axes": "TYX"})
    np.save(tmp_path / "movie.npy", MOVIE)
    for fmt in (2, 3):
        zarr.save_array(str(tmp_path / f"v{fmt}.zarr"), MOVIE, zarr_format=fmt)
    for name in ("stack.tif", "movie.npy", "v2.zarr", "v3.zarr"):
        source = open_images(tmp_path / name)
        assert source.shape == (4, 6, 8), name
        assert np.array_equal(source.frame(2), MOVIE[2]), name


def test_ilastik_prediction_map_with_axistags_and_channel(tmp_path: Path) -> None:
    prob = np.random.default_rng(0).random((3, 5, 7, 9, 2)).astype(np.float32)  # t z y x c
    with h5py.File(tmp_path / "pred.h5", "w") as f:
        ds = f.create_dataset("exported_data", data=prob)
        ds.attrs["axistags"] = json.dumps({"axes": [{"key": k} for k in "tzyxc"]})
    source = open_images(tmp_path / "pred.h5", channel=1)
    assert source.shape == (3, 5, 7, 9)
    assert np.array_equal(source.frame(2), prob[2, ..., 1])
    again = pickle.loads(pickle.dumps(source))  # worker processes reopen the file
    assert np.array_equal(again.frame(1), prob[1, ..., 1])
    by_path = open_images(f"{tmp_path / 'pred.h5'}/exported_data", channel=0)
    assert np.array_equal(by_path.frame(0), prob[0, ..., 0])


def test_user_axis_order_is_honoured() -> None:
    xyt = np.random.default_rng(1).random((8, 6, 3))  # x, y, t
    source = open_images(xyt, axes="xyt")
    assert source.shape == (3, 6, 8)
    assert np.array_equal(source.frame(1), xyt[:, :, 1].T)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.tif", "does not exist"),
        (lambda p: _write(p / "junk.tif", b"not a tiff"), "not a readable TIFF"),
        (lambda p: _h5(p), "has no dataset 'wrong'"),
        (lambda p: np.zeros((4, 4)), "expected \\(T, Y, X\\) or \\(T, Z, Y, X\\)"),
        (lambda p: np.zeros((2, 4, 4), dtype=complex), "not supported"),
        (lambda p: np.zeros((2, 4, 4, 3)), None),  # 4D without axes is T, Z, Y, X: fine
    ],
)
def test_bad_inputs_are_one_clear_error(tmp_path: Path, make, message: str | None) -> None:
    target = make(tmp_path)
    if message is None:
        assert open_images(target).shape == (2, 4, 4, 3)
        return
    with pytest.raises(InputError, match=message) as info:
        open_images(target)
    assert "\n" not in str(info.value)


def test_nan_and_shape_changes_name_the_frame(tmp_path: Path) -> None:
    movie = np.ones((3, 4, 4), dtype=np.float32)
    movie[2, 1, 1] = np.nan
    with pytest.raises(InputError, match="frame 2: frame contains NaN"):
        open_images(movie).frame(2)
    tifffile.imwrite(tmp_path / "t000.tif", np.zeros((4, 4), np.uint8))
    tifffile.imwrite(tmp_path / "t001.tif", np.zeros((5, 4), np.uint8))
    source = open_images(tmp_path)
    with pytest.raises(InputError, match=r"t001\.tif: frame has shape \(5, 4\), expected \(4, 4\)"):
        source.frame(1)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _h5(tmp_path: Path) -> str:
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f.create_dataset("data", data=np.zeros((2, 3, 3)))
    return f"{tmp_path / 'x.h5'}/wrong"
