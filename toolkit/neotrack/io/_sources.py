"""Frame sources: lazy, per-frame access to a time-lapse, whatever it is stored in.

Every source presents frames as (Y, X) or (Z, Y, X) arrays, reads one frame at a time, and is
picklable (files are re-opened in worker processes) so that frames can be processed in parallel.
Each also has a :meth:`~FrameSource.fingerprint` that changes when its input changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import os
import re
import struct
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from neotrack.errors import InputError

log = logging.getLogger(__name__)

_ALLOWED_KINDS = "biuf"  # bool, signed/unsigned integers, floats


class FrameSource(ABC):
    """A time-lapse read one frame at a time.

    Attributes:
        name: What to call the source in messages (a path, or ``array``).
        shape: (T, Y, X) or (T, Z, Y, X).
        dtype: Pixel type.
    """

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return self.shape[1:]

    def frame(self, t: int) -> np.ndarray:
        """Frame ``t``, checked: right shape, no NaN or infinities."""
        if not 0 <= t < len(self):
            raise InputError(f"{self.name}: frame {t} does not exist (it has {len(self)} frames)")
        data = np.asarray(self._read(t))
        if data.shape != self.frame_shape:
            raise InputError(
                f"{self._where(t)}: frame has shape {data.shape}, expected {self.frame_shape} "
                "like the first frame"
            )
        if data.dtype.kind == "f" and not np.isfinite(data).all():
            what = "NaN" if np.isnan(data).any() else "infinite"
            raise InputError(f"{self._where(t)}: frame contains {what} values")
        return data

    @property
    def location(self) -> Path | None:
        """The resolved file or folder the frames come from; None for arrays in memory."""
        return None

    @property
    def origin(self) -> tuple[int, ...]:
        """Where frame 0 and pixel (0, 0) lie in the movie read, (t, (z,) y, x): zeros but for a crop."""
        return (0,) * len(self.shape)

    @property
    def source_shape(self) -> tuple[int, ...]:
        """The shape of the movie read, before any crop."""
        return self.shape

    @abstractmethod
    def fingerprint(self) -> str:
        """A short hex digest of the input that changes when the input changes (to check resumes).

        Files count by resolved path, size and modification time; in-memory arrays by content.
        """

    def _where(self, t: int) -> str:
        return f"{self.name} frame {t}"

    @abstractmethod
    def _read(self, t: int) -> np.ndarray: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, shape={self.shape}, dtype={self.dtype})"


def check_dtype(name: str, dtype: np.dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.kind not in _ALLOWED_KINDS:
        raise InputError(f"{name}: pixel type {dtype} is not supported; expected integers, floats or bool")
    return dtype


class ArraySource(FrameSource):
    """Any array with ``shape``, ``dtype`` and slicing: numpy, dask, zarr, h5py datasets.

    ``axes`` names the array's axes (``t``, ``c``, ``z``, ``y``, ``x``); ``channel`` picks one channel.
    """

    def __init__(
        self, array: Any, name: str = "array", axes: str | None = None, channel: int | None = None
    ) -> None:
        self.name = name
        self._array = array
        self.axes = _resolve_axes(name, tuple(array.shape), axes)
        self.channel = _resolve_channel(name, tuple(array.shape), self.axes, channel)
        self.dtype = check_dtype(name, array.dtype)
        spatial = [a for a in "zyx" if a in self.axes]
        self.shape = (
            int(array.shape[self.axes.index("t")]),
            *(int(array.shape[self.axes.index(a)]) for a in spatial),
        )
        self._order = [a for a in self.axes if a not in "tc"]
        self._perm = [self._order.index(a) for a in spatial]
        _check_not_empty(name, tuple(array.shape), self.shape)

    @property
    def array(self) -> Any:
        return self._array

    def _read(self, t: int) -> np.ndarray:
        index = tuple(t if a == "t" else self.channel if a == "c" else slice(None) for a in self.axes)
        data = np.asarray(self.array[index])
        return np.transpose(data, self._perm) if self._perm != sorted(self._perm) else data

    def fingerprint(self) -> str:
        """Shape, type, axes, channel and content: all of a numpy array, else frames 0, middle, last."""
        array = self.array
        digest = _hasher("array", tuple(array.shape), self.dtype.str, self.axes, self.channel)
        if isinstance(array, np.ndarray):
            digest.update(np.ascontiguousarray(array).view(np.uint8).reshape(-1))
        else:  # lazy (dask, zarr, h5py): reading it all could take long
            for t in sorted({0, len(self) // 2, len(self) - 1}):
                digest.update(np.ascontiguousarray(self._read(t)).view(np.uint8).reshape(-1))
        return digest.hexdigest()


class TiffFolder(FrameSource):
    """A folder with one TIFF per frame (CTC ``tNNN.tif``, ``maskNNN.tif``...), in frame order.

    When every file name has a number (its last run of digits: ``t012.tif`` is 12), the numbers
    must run without gaps or repeats; they may start anywhere (1-based folders are common), and
    frames are counted from the first file: frame 0 is the lowest number. File names without
    digits are taken in natural order.
    """

    @property
    def location(self) -> Path | None:
        return self.folder

    def __init__(self, folder: Path) -> None:
        self.name = str(folder)
        self.folder = folder.resolve()
        files = [p for p in folder.iterdir() if p.suffix.lower() in (".tif", ".tiff")]
        if not files:
            raise InputError(f"{folder}: no .tif files in this folder")
        self.files = _frame_order(folder, files)
        with _checked_tiff(self.files[0]) as tif:
            first_shape, dtype = tif.series[0].shape, tif.series[0].dtype
        first_shape = tuple(s for s in first_shape if s != 1) or first_shape
        if len(first_shape) not in (2, 3):
            raise InputError(f"{self.files[0]}: frame of shape {first_shape}; expected (Y, X) or (Z, Y, X)")
        if 0 in first_shape:
            raise InputError(f"{self.files[0]}: image of shape {first_shape}; frames need at least one pixel")
        self.dtype = check_dtype(str(self.files[0]), dtype)
        self.shape = (len(self.files), *first_shape)

    def _read(self, t: int) -> np.ndarray:
        with _checked_tiff(self.files[t]) as tif:
            data = tif.asarray()
        return data.squeeze() if data.ndim > len(self.frame_shape) else data

    def _where(self, t: int) -> str:
        return str(self.files[t])

    def fingerprint(self) -> str:
        """The folder's resolved path and each file's name, size and modification time."""
        return _hasher("tiff folder", str(self.folder), *(_stamp(f) for f in self.files)).hexdigest()


class _FileArraySource(ArraySource):
    """An array in a file: opened again in worker processes, fingerprinted by its file(s)."""

    path: Path
    _resolved: Path
    internal_path: str | None = None

    @property
    def location(self) -> Path | None:
        return self._resolved

    @abstractmethod
    def _open(self) -> Any: ...

    @property
    def array(self) -> Any:
        if self._array is None:
            self._array = self._open()
        return self._array

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_file", None)
        state["_array"] = None  # open files do not travel to worker processes: reopen there
        return state

    def _stamps(self) -> tuple[Any, ...]:
        return (_stamp(self.path),)

    def fingerprint(self) -> str:
        """The file's resolved path (and array inside it), size and modification time, the axes
        and channel."""
        kind = type(self).__name__
        parts = (str(self._resolved), self.internal_path, *self._stamps(), self.axes, self.channel)
        return _hasher(kind, *parts).hexdigest()


class TiffStack(_FileArraySource):
    """A multi-page TIFF, read lazily through tifffile's zarr view of its pages."""

    def __init__(self, path: Path, axes: str | None, channel: int | None) -> None:
        self.path, self._resolved = path, path.resolve()
        with _checked_tiff(path) as tif:
            file_axes = tif.series[0].axes.lower().replace("q", "t").replace("i", "t").replace("s", "c")
        if axes is None and set(file_axes) <= set("tczyx") and len(set(file_axes)) == len(file_axes):
            axes = file_axes if "t" in file_axes else None
        super().__init__(self._open(), str(path), axes, channel)

    def _open(self) -> Any:
        import tifffile
        import zarr

        try:
            with _quiet_tifffile():
                return zarr.open(tifffile.imread(self.path, aszarr=True), mode="r")
        except Exception as exc:  # tifffile raises many kinds
            raise InputError(f"{self.path}: not a readable TIFF ({exc})") from None


class NpySource(_FileArraySource):
    """A ``.npy`` file, memory-mapped; Python objects (pickles) are refused, never loaded."""

    def __init__(self, path: Path, axes: str | None, channel: int | None) -> None:
        self.path, self._resolved = path, path.resolve()
        super().__init__(self._open(), str(path), axes, channel)

    def _open(self) -> Any:
        """numpy refuses, without unpickling, object dtypes and files shorter than their header."""
        try:
            return np.load(self.path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as exc:
            if "Python objects" in str(exc):
                raise InputError(
                    f"{self.path}: holds Python objects (dtype object); expected integers, floats or bool"
                ) from None
            raise InputError(f"{self.path}: truncated or not a .npy file ({exc})") from None


class Hdf5Source(_FileArraySource):
    """A dataset in an HDF5 file (ilastik prediction maps: axes from its ``axistags``)."""

    def __init__(self, path: Path, internal_path: str | None, axes: str | None, channel: int | None) -> None:
        self.path, self.internal_path = path, _hdf5_dataset(path, internal_path)
        self._resolved = path.resolve()
        dataset = self._open()
        axes = axes or _ilastik_axes(dataset.attrs.get("axistags"))
        super().__init__(dataset, f"{path}/{self.internal_path}", axes, channel)

    def _open(self) -> Any:
        import h5py

        try:
            self._file = h5py.File(self.path, "r")
        except OSError as exc:
            raise InputError(f"{self.path}: not a readable HDF5 file ({exc})") from None
        return self._file[self.internal_path]


class ZarrSource(_FileArraySource):
    """A zarr array (v2 or v3), or one array of a zarr group / OME-Zarr image."""

    def __init__(self, path: Path, internal_path: str | None, axes: str | None, channel: int | None) -> None:
        self.path, self._resolved = path, path.resolve()
        array, self.internal_path, ome_axes = _zarr_array(path, internal_path)
        super().__init__(
            array,
            str(path) + (f"/{self.internal_path}" if self.internal_path else ""),
            axes or ome_axes,
            channel,
        )

    def _open(self) -> Any:
        return _zarr_array(self.path, self.internal_path)[0]

    def _stamps(self) -> tuple[Any, ...]:
        """Name, size and modification time of each file of the array (one per chunk)."""
        folder = self._resolved / self.internal_path if self.internal_path else self._resolved
        return tuple(_tree_stamps(folder))


def _check_not_empty(name: str, array_shape: tuple[int, ...], shape: tuple[int, ...]) -> None:
    """Refuse an input without frames, or whose frames have no pixels."""
    if shape[0] == 0:
        raise InputError(f"{name}: array of shape {array_shape} has no frames; expected at least one frame")
    if 0 in shape[1:]:
        raise InputError(
            f"{name}: array of shape {array_shape} has frames of shape {shape[1:]}; "
            "frames need at least one pixel"
        )


def _hasher(*parts: object) -> Any:
    """A blake2b digest (16 bytes) fed with the ``repr`` of each part (plain values only)."""
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(repr(part).encode() + b"\0")
    return digest


def _stamp(path: Path) -> tuple[str, int, int]:
    """A file's name, size and modification time (ns)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise InputError(f"{path}: file disappeared") from None
    return path.name, stat.st_size, stat.st_mtime_ns


def _tree_stamps(root: Path) -> list[tuple[str, int, int]]:
    """Relative name, size and modification time of every file under ``root`` (zarr: one per chunk)."""
    if not root.is_dir():
        return [_stamp(root)]
    stamps = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            stamps.append((path.relative_to(root).as_posix(), *_stamp(path)[1:]))
    return stamps


def _frame_order(folder: Path, files: list[Path]) -> list[Path]:
    """Files in frame order: by the last number in their names, without gaps or repeats."""
    numbers: dict[Path, int] = {}
    for path in files:
        digits = re.findall(r"\d+", path.stem)
        if not digits:
            return sorted(files, key=_natural_key)
        numbers[path] = int(digits[-1])
    ordered = sorted(files, key=lambda p: (numbers[p], _natural_key(p)))
    for a, b in itertools.pairwise(ordered):
        if numbers[b] == numbers[a]:
            raise InputError(f"{folder}: {a.name} and {b.name} are both frame {numbers[a]}")
        if numbers[b] > numbers[a] + 1:
            first, last = numbers[a] + 1, numbers[b] - 1
            gap = f"frame {first} is missing" if first == last else f"frames {first} to {last} are missing"
            raise InputError(
                f"{folder}: {gap} ({a.name} is followed by {b.name}); frames must be numbered without gaps"
            )
    return ordered


@contextlib.contextmanager
def _checked_tiff(path: Path) -> Iterator[Any]:
    """An open TIFF that is all there (directories, their values, image data); else one InputError."""
    import tifffile

    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{path}: file disappeared") from None
    problem = _truncation(path, size)
    if problem:
        raise InputError(f"{path}: {problem}")
    try:
        with _quiet_tifffile(), tifffile.TiffFile(path) as tif:
            needed = _data_end(tif)
            if needed > size:
                raise InputError(
                    f"{path}: truncated TIFF (file is {size} bytes, its image data needs {needed})"
                )
            yield tif
    except InputError:
        raise
    except Exception as exc:  # tifffile and its codecs raise many kinds
        raise InputError(f"{path}: not a readable TIFF ({exc})") from None


@contextlib.contextmanager
def _quiet_tifffile() -> Iterator[None]:
    """Hold back tifffile's log messages about damaged files: the InputError says it all."""
    logger = logging.getLogger("tifffile")

    def drop(record: logging.LogRecord) -> bool:
        return False

    logger.addFilter(drop)  # a filter of its own: removing it cannot disturb other threads
    try:
        yield
    finally:
        logger.removeFilter(drop)


def _data_end(tif: Any) -> int:
    """The byte just past the last strip or tile of image data, over all pages."""
    return max(
        (
            offset + count
            for page in tif.pages
            for offset, count in zip(page.dataoffsets, page.databytecounts, strict=False)
            if count  # empty strips need no data (tifffile points them past the end)
        ),
        default=0,
    )


_TIFF_MAGIC = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")
_TAG_TYPE_SIZES = (0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4, 0, 0, 8, 8, 8)  # bytes per value, by tag type


def _truncation(path: Path, size: int) -> str | None:
    """Why a TIFF is truncated, or None: its header, an image directory or a tag's values are cut.

    Follows the chain of image directories from the header (tifffile skips what lies beyond the
    end of the file with a log message, and may then return a smaller image or zeros).
    """
    if size == 0:
        return "truncated TIFF (file is 0 bytes)"
    with path.open("rb") as f:
        head = f.read(16)
        magic = next((m for m in _TIFF_MAGIC if m.startswith(head[:4])), None)
        if magic is None:
            return None  # not a TIFF: tifffile says so
        big, order = b"+" in magic, "<" if magic.startswith(b"II") else ">"
        count_format, offset_format = order + ("Q" if big else "H"), order + ("Q" if big else "I")
        tag_size, inline = (20, 8) if big else (12, 4)
        if size < (16 if big else 8):
            return f"truncated TIFF (file is {size} bytes)"
        (offset,) = struct.unpack(offset_format, head[8:16] if big else head[4:8])
        seen: set[int] = set()
        while offset and offset not in seen:
            seen.add(offset)
            f.seek(offset)
            count, tags = f.read(struct.calcsize(count_format)), b""
            if len(count) == struct.calcsize(count_format):
                tags = f.read(struct.unpack(count_format, count)[0] * tag_size)
            following = f.read(struct.calcsize(offset_format))
            if len(following) < struct.calcsize(offset_format):
                return (
                    f"truncated TIFF (file is {size} bytes, image directory {len(seen) - 1} at offset "
                    f"{offset} is missing or incomplete)"
                )
            for k in range(0, len(tags), tag_size):  # values that do not fit in the entry lie elsewhere
                code, kind = struct.unpack(order + "HH", tags[k : k + 4])
                (n,) = struct.unpack(offset_format, tags[k + 4 : k + 4 + inline])
                nbytes = n * (_TAG_TYPE_SIZES[kind] if kind < len(_TAG_TYPE_SIZES) else 0)  # 0: unknown
                if nbytes > inline:
                    (start,) = struct.unpack(offset_format, tags[k + 4 + inline : k + tag_size])
                    if start + nbytes > size:
                        return f"truncated TIFF (file is {size} bytes, tag {code} needs {start + nbytes})"
            (offset,) = struct.unpack(offset_format, following)
    return None


def _natural_key(path: Path) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.name))


def _resolve_axes(name: str, shape: tuple[int, ...], axes: str | None) -> str:
    if axes is None:
        guesses = {3: "tyx", 4: "tzyx"}
        if len(shape) not in guesses:
            raise InputError(
                f"{name}: array of shape {shape}; expected (T, Y, X) or (T, Z, Y, X). For other "
                "layouts set the axes, e.g. data.axes = 'tyxc' (--axes tyxc)"
            )
        return guesses[len(shape)]
    axes = axes.lower()
    if len(axes) != len(shape):
        raise InputError(f"{name}: axes {axes!r} name {len(axes)} axes but the array has shape {shape}")
    if "t" not in axes or "y" not in axes or "x" not in axes:
        raise InputError(f"{name}: axes {axes!r} must include t, y and x")
    return axes


def _resolve_channel(name: str, shape: tuple[int, ...], axes: str, channel: int | None) -> int | None:
    if "c" not in axes:
        return None
    n = shape[axes.index("c")]
    if channel is None:
        if n == 1:
            return 0
        raise InputError(f"{name}: has {n} channels; choose one with data.channel (--channel)")
    if not 0 <= channel < n:
        raise InputError(f"{name}: channel {channel} does not exist (it has {n} channels)")
    return channel


def _ilastik_axes(axistags: Any) -> str | None:
    if axistags is None:
        return None
    try:
        tags = json.loads(axistags.decode() if isinstance(axistags, bytes) else str(axistags))
        return "".join(a["key"] for a in tags["axes"]).lower()
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring unreadable axistags %r", axistags)
        return None


def _hdf5_dataset(path: Path, internal_path: str | None) -> str:
    import h5py

    if not path.is_file():
        raise InputError(f"{path}: file does not exist")
    try:
        with h5py.File(path, "r") as f:
            datasets: list[str] = []
            f.visititems(lambda n, o: datasets.append(n) if isinstance(o, h5py.Dataset) else None)
    except OSError as exc:
        raise InputError(f"{path}: not a readable HDF5 file ({exc})") from None
    if internal_path is None:
        if len(datasets) == 1:
            return datasets[0]
        raise InputError(f"{path}: choose a dataset with data.internal_path (or {path}/NAME): {datasets}")
    key = internal_path.strip("/")
    if key not in datasets:
        raise InputError(f"{path}: has no dataset {key!r}; it has {datasets}")
    return key


def _zarr_array(path: Path, internal_path: str | None) -> tuple[Any, str | None, str | None]:
    import zarr

    try:
        node = zarr.open(str(path), mode="r")
    except Exception as exc:
        raise InputError(f"{path}: not a readable zarr store ({exc})") from None
    if isinstance(node, zarr.Array):
        return node, None, None
    ome_axes = None
    attrs: dict[str, Any] = dict(node.attrs)
    if internal_path is None:
        multiscales = attrs.get("multiscales") or attrs.get("ome", {}).get("multiscales")
        if multiscales:
            internal_path = multiscales[0]["datasets"][0]["path"]
            ome_axes = "".join(a["name"][0] for a in multiscales[0].get("axes", [])) or None
        else:
            arrays = sorted(name for name, _ in node.arrays())
            if len(arrays) != 1:
                raise InputError(f"{path}: choose an array with data.internal_path: {arrays}")
            internal_path = arrays[0]
    assert internal_path is not None
    try:
        array = node[internal_path]
    except KeyError:
        raise InputError(f"{path}: has no array {internal_path!r}") from None
    return array, internal_path, ome_axes
