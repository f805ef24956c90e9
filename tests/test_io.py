"""Readers: every supported container, read lazily per frame, and one clear error per bad input."""

from __future__ import annotations

import json
import os
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
        tifffile.imwrite(tmp_path / f"t{[8, 9, 10, 11][t]}.tif", MOVIE[t])
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


def test_fingerprints_of_tiff_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, offset in (("a", 0), ("b", 1)):  # same shape, different pixels
        (tmp_path / name).mkdir()
        for t in range(4):
            tifffile.imwrite(tmp_path / name / f"t{t:03d}.tif", MOVIE[t] + offset)
    a = open_images(tmp_path / "a").fingerprint()
    assert len(a) == 32 and int(a, 16) >= 0
    assert a != open_images(tmp_path / "b").fingerprint()
    assert a == open_images(tmp_path / "a").fingerprint()
    monkeypatch.chdir(tmp_path)  # a relative path names the same input
    assert a == open_images("a").fingerprint()
    stat = (tmp_path / "a" / "t002.tif").stat()
    os.utime(tmp_path / "a" / "t002.tif", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    touched = open_images(tmp_path / "a").fingerprint()
    assert touched != a
    tifffile.imwrite(tmp_path / "a" / "t001.tif", MOVIE[1] + 7, compression="zlib")
    assert open_images(tmp_path / "a").fingerprint() not in (a, touched)


def test_fingerprints_of_arrays_follow_their_content() -> None:
    movie = MOVIE.copy()
    first = open_images(movie).fingerprint()
    assert first == open_images(MOVIE.copy()).fingerprint()
    assert first == open_images(np.asfortranarray(MOVIE)).fingerprint()
    movie[2, 3, 4] += 1
    assert open_images(movie).fingerprint() != first
    assert open_images(MOVIE, axes="tyx").fingerprint() == first
    assert open_images(MOVIE.astype(np.int32)).fingerprint() != first
    assert open_images(MOVIE[..., None], axes="tyxc").fingerprint() != first
    lazy = zarr.array(MOVIE)  # not numpy: frames 0, middle and last are hashed
    assert open_images(lazy).fingerprint() == open_images(zarr.array(MOVIE)).fingerprint()
    changed = zarr.array(MOVIE)
    changed[3, 0, 0] = 0
    assert open_images(changed).fingerprint() != open_images(lazy).fingerprint()


def test_fingerprints_of_files_follow_the_file_and_sources_stay_picklable(tmp_path: Path) -> None:
    tifffile.imwrite(tmp_path / "stack.tif", MOVIE, photometric="minisblack", metadata={"axes": "TYX"})
    np.save(tmp_path / "movie.npy", MOVIE)
    zarr.save_array(str(tmp_path / "v3.zarr"), MOVIE, zarr_format=3)
    zarr.save_group(str(tmp_path / "group.zarr"), raw=MOVIE, other=MOVIE)
    with h5py.File(tmp_path / "movie.h5", "w") as f:
        f.create_dataset("data", data=MOVIE)
    (tmp_path / "01").mkdir()
    for t in range(4):
        tifffile.imwrite(tmp_path / "01" / f"t{t:03d}.tif", MOVIE[t])
    targets = ["stack.tif", "movie.npy", "v3.zarr", "group.zarr/raw", "movie.h5", "01"]
    prints = {}
    for target in targets:
        source = open_images(str(tmp_path / target))
        again = pickle.loads(pickle.dumps(source))
        assert np.array_equal(again.frame(3), MOVIE[3]), target
        assert again.fingerprint() == source.fingerprint() == open_images(tmp_path / target).fingerprint()
        prints[target] = source.fingerprint()
    assert len(set(prints.values())) == len(targets)
    assert open_images(tmp_path / "group.zarr/other").fingerprint() != prints["group.zarr/raw"]
    for target in ("stack.tif", "movie.npy", "movie.h5", "v3.zarr/c/0/0/0", "group.zarr/raw/zarr.json"):
        path = tmp_path / target
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    for target in targets[:-1]:
        assert open_images(tmp_path / target).fingerprint() != prints[target], target
    assert open_images(tmp_path / "01").fingerprint() == prints["01"]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _h5(tmp_path: Path) -> str:
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f.create_dataset("data", data=np.zeros((2, 3, 3)))
    return f"{tmp_path / 'x.h5'}/wrong"
