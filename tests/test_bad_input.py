"""Damaged or odd inputs: each is refused with one line that names the file, frame or setting."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr
from click.testing import CliRunner

from neotrack.cli import main
from neotrack.datasets import simulate, write_ctc
from neotrack.errors import InputError
from neotrack.io import open_images

FRAME = np.arange(32 * 32, dtype=np.uint16).reshape(32, 32)


def _one_line(info: pytest.ExceptionInfo[InputError]) -> str:
    message = str(info.value)
    assert "\n" not in message
    return message


def _folder(path: Path, names: list[str], **kwargs: object) -> Path:
    path.mkdir(exist_ok=True)
    for i, name in enumerate(names):
        tifffile.imwrite(path / name, FRAME + i, **kwargs)  # type: ignore[arg-type]
    return path


def _truncate(path: Path, fraction: float) -> int:
    size = int(path.stat().st_size * fraction)
    with path.open("r+b") as f:
        f.truncate(size)
    return size


# -- 1. non-finite pixels


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_non_finite_pixels_name_the_frame(tmp_path: Path, value: float) -> None:
    movie = np.ones((4, 5, 5), dtype=np.float32)
    movie[3, 2, 2] = value
    (tmp_path / "01").mkdir()
    for t in range(4):
        tifffile.imwrite(tmp_path / "01" / f"t{t:03d}.tif", movie[t])
    what = "NaN" if np.isnan(value) else "infinite"
    for source in (open_images(movie), open_images(tmp_path / "01")):
        assert np.array_equal(source.frame(2), movie[2])
        with pytest.raises(InputError, match=f"(frame 3|t003.tif): frame contains {what} values") as info:
            source.frame(3)
        _one_line(info)


# -- 2. nothing to read


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((5, 0, 64), r"array of shape \(5, 0, 64\).*frames need at least one pixel"),
        ((3, 4, 0, 4), r"array of shape \(3, 4, 0, 4\).*frames need at least one pixel"),
        ((0, 64, 64), r"array of shape \(0, 64, 64\) has no frames; expected at least one frame"),
    ],
)
def test_empty_arrays_are_refused_when_opened(tmp_path: Path, shape: tuple[int, ...], message: str) -> None:
    zarr.save_array(str(tmp_path / "empty.zarr"), np.zeros(shape, np.uint8))
    np.save(tmp_path / "empty.npy", np.zeros(shape, np.uint8))
    for target in (np.zeros(shape), tmp_path / "empty.zarr", tmp_path / "empty.npy"):
        with pytest.raises(InputError, match=message) as info:
            open_images(target)
        assert str(target) in _one_line(info) or isinstance(target, np.ndarray)


def test_zero_size_tiff_is_refused_when_opened(tmp_path: Path) -> None:
    (tmp_path / "01").mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # tifffile: "nonconformant TIFF"
        tifffile.imwrite(tmp_path / "01" / "t000.tif", np.zeros((0, 10), np.uint8))
        tifffile.imwrite(tmp_path / "stack.tif", np.zeros((0, 10, 10), np.uint8))
    with pytest.raises(
        InputError, match=r"t000\.tif: image of shape \(0, 10\); frames need at least"
    ) as info:
        open_images(tmp_path / "01")
    _one_line(info)
    with pytest.raises(InputError, match=r"stack\.tif: .*shape \(0, 10, 10\)") as info:
        open_images(tmp_path / "stack.tif")
    _one_line(info)


# -- 3. .npy files


def test_truncated_npy_is_one_line(tmp_path: Path) -> None:
    np.save(tmp_path / "movie.npy", np.zeros((4, 16, 16), np.float32))
    _truncate(tmp_path / "movie.npy", 0.5)
    with pytest.raises(InputError, match=r"movie\.npy: truncated or not a \.npy file") as info:
        open_images(tmp_path / "movie.npy")
    _one_line(info)
    (tmp_path / "junk.npy").write_bytes(b"\x93NUMPY\x01")
    with pytest.raises(InputError, match=r"junk\.npy: truncated or not a \.npy file"):
        open_images(tmp_path / "junk.npy")


def test_object_npy_is_refused_without_unpickling(tmp_path: Path) -> None:
    objects = np.empty((2, 3, 3), dtype=object)
    objects[...] = Exploding()
    np.save(tmp_path / "objects.npy", objects, allow_pickle=True)
    with pytest.raises(
        InputError, match=r"objects\.npy: holds Python objects \(dtype object\); expected"
    ) as info:
        open_images(tmp_path / "objects.npy")
    _one_line(info)


class Exploding:
    """Unpickling one of these fails the test: .npy files must never be unpickled."""

    def __reduce__(self) -> tuple[object, ...]:
        return (pytest.fail, ("a pickle in a .npy file was loaded",))


# -- 4. truncated TIFFs


@pytest.mark.parametrize("compression", [None, "zlib"])
def test_truncated_tiff_in_a_folder_says_so(tmp_path: Path, compression: str | None) -> None:
    folder = _folder(tmp_path / "01", [f"t{t:03d}.tif" for t in range(5)], compression=compression)
    _truncate(folder / "t002.tif", 1 / 3)
    source = open_images(folder)
    assert np.array_equal(source.frame(3), FRAME + 3)
    with pytest.raises(InputError, match=r"t002\.tif: truncated TIFF \(file is \d+ bytes") as info:
        source.frame(2)
    _one_line(info)
    _truncate(folder / "t000.tif", 1 / 3)
    with pytest.raises(InputError, match=r"t000\.tif: truncated TIFF \(file is \d+ bytes") as info:
        open_images(folder)
    _one_line(info)


def test_truncated_3d_tiff_that_lost_pages_says_so(tmp_path: Path) -> None:
    volume = np.random.default_rng(0).random((6, 16, 16)).astype(np.float32)
    for t in range(2):
        tifffile.imwrite(tmp_path / f"t{t}.tif", volume, compression="zlib")
    _truncate(tmp_path / "t1.tif", 1 / 3)  # tifffile alone reads a (16, 16) image from what is left
    with pytest.raises(InputError, match=r"t1\.tif: truncated TIFF") as info:
        open_images(tmp_path).frame(1)
    _one_line(info)


def test_a_tiff_cut_anywhere_is_reported_as_truncated(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tifffile.imwrite(tmp_path / "whole.tif", FRAME[:8, :8])
    whole = (tmp_path / "whole.tif").read_bytes()
    for size in range(1, len(whole)):
        (tmp_path / "cut.tif").write_bytes(whole[:size])
        with pytest.raises(InputError, match=r"cut\.tif: truncated TIFF \(file is \d+ bytes") as info:
            open_images(tmp_path / "cut.tif")
        _one_line(info)
    assert not [r for r in caplog.records if r.name == "tifffile"]  # no noise besides the one line


def test_truncated_tiff_stack_is_refused_when_opened(tmp_path: Path) -> None:
    tifffile.imwrite(
        tmp_path / "stack.tif", np.stack([FRAME] * 4), photometric="minisblack", metadata={"axes": "TYX"}
    )
    _truncate(tmp_path / "stack.tif", 1 / 3)
    with pytest.raises(InputError, match=r"stack\.tif: truncated TIFF") as info:
        open_images(tmp_path / "stack.tif")
    _one_line(info)


# -- 5. frame numbers in file names


def test_missing_frame_in_a_folder_is_refused(tmp_path: Path) -> None:
    _folder(tmp_path / "01", ["t000.tif", "t001.tif", "t003.tif", "t004.tif"])
    with pytest.raises(InputError) as info:
        open_images(tmp_path / "01")
    assert _one_line(info) == (
        f"{tmp_path / '01'}: frame 2 is missing (t001.tif is followed by t003.tif); "
        "frames must be numbered without gaps"
    )
    _folder(tmp_path / "02", ["mask0001.tif", "mask0005.tif"])
    with pytest.raises(InputError, match=r"frames 2 to 4 are missing \(mask0001\.tif is followed by"):
        open_images(tmp_path / "02")


def test_duplicate_frame_numbers_are_refused(tmp_path: Path) -> None:
    _folder(tmp_path / "01", ["t0.tif", "t1.tif", "t01.tif", "t2.tif"])
    with pytest.raises(InputError, match=r"01: t0?1\.tif and t0?1\.tif are both frame 1$") as info:
        open_images(tmp_path / "01")
    _one_line(info)


def test_numbering_may_start_anywhere_and_unnumbered_files_keep_natural_order(tmp_path: Path) -> None:
    _folder(tmp_path / "01", ["t1.tif", "t2.tif", "t3.tif"])  # 1-based: frame 0 is t1.tif
    source = open_images(tmp_path / "01")
    assert len(source) == 3 and np.array_equal(source.frame(0), FRAME)
    _folder(tmp_path / "02", ["a.tif", "b.tif", "c.tif"])
    assert np.array_equal(open_images(tmp_path / "02").frame(2), FRAME + 2)


# -- 10. neotrack evaluate


@pytest.fixture(scope="module")
def ctc_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small ground truth (root/01_GT) and a perfect result made from it (root/01_RES)."""
    root = tmp_path_factory.mktemp("ctc")
    write_ctc(simulate(n_frames=6, shape=(48, 48), n_cells=3, seed=1), root)
    tra, res = root / "01_GT" / "TRA", root / "01_RES"
    res.mkdir()
    for mask in tra.glob("man_track*.tif"):
        shutil.copy(mask, res / mask.name.replace("man_track", "mask"))
    shutil.copy(tra / "man_track.txt", res / "res_track.txt")
    return root / "01_GT", res


def _evaluate(gt: Path, res: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["evaluate", "--gt", str(gt), "--res", str(res)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_evaluate_scores_a_matching_result(ctc_pair: tuple[Path, Path]) -> None:
    code, out = _evaluate(*ctc_pair)
    assert code == 0 and "TRA 1.0000" in out


def test_evaluate_refuses_results_with_other_frames(ctc_pair: tuple[Path, Path], tmp_path: Path) -> None:
    gt, perfect = ctc_pair
    res = shutil.copytree(perfect, tmp_path / "01_RES")
    (res / "mask005.tif").unlink()
    code, out = _evaluate(gt, res)
    assert code == 1
    assert out == (
        f"Error: result {res} has 5 frames (mask000.tif…mask004.tif) but the ground truth "
        f"{gt / 'TRA'} has 6: they must cover the same frames\n"
    )


def test_evaluate_refuses_incomplete_folders(ctc_pair: tuple[Path, Path], tmp_path: Path) -> None:
    gt, perfect = ctc_pair
    res = shutil.copytree(perfect, tmp_path / "01_RES")
    (res / "res_track.txt").unlink()
    code, out = _evaluate(gt, res)
    assert code == 1 and out.startswith(f"Error: result {res} has no res_track.txt") and out.count("\n") == 1
    no_tra = tmp_path / "01_GT"
    no_tra.mkdir()
    code, out = _evaluate(no_tra, perfect)
    assert code == 1 and out.startswith(f"Error: ground truth {no_tra} has no TRA folder")
    assert out.count("\n") == 1


def test_evaluate_refuses_results_of_shifted_frames(ctc_pair: tuple[Path, Path], tmp_path: Path) -> None:
    gt, perfect = ctc_pair
    res = shutil.copytree(perfect, tmp_path / "01_RES")
    for path in sorted(res.glob("mask*.tif"), reverse=True):  # frames 1-6 instead of 0-5: same count
        path.rename(res / f"mask{int(path.stem[4:]) + 1:03d}.tif")
    code, out = _evaluate(gt, res)
    assert code == 1 and "covers frames mask001.tif…mask006.tif" in out and out.count("\n") == 1
