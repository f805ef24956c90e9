"""Frame sources: lazy, per-frame access to a time-lapse, whatever it is stored in.

Every source presents frames as (Y, X) or (Z, Y, X) arrays, reads one frame at a time, and is
picklable (files are re-opened in worker processes) so that frames can be processed in parallel.
"""

from __future__ import annotations

import json
import logging
import re
from abc import ABC, abstractmethod
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
        """Frame ``t``, checked: right shape, no NaN."""
        if not 0 <= t < len(self):
            raise InputError(f"{self.name}: frame {t} does not exist (it has {len(self)} frames)")
        data = np.asarray(self._read(t))
        if data.shape != self.frame_shape:
            raise InputError(
                f"{self._where(t)}: frame has shape {data.shape}, expected {self.frame_shape} "
                "like the first frame"
            )
        if data.dtype.kind == "f" and np.isnan(data).any():
            raise InputError(f"{self._where(t)}: frame contains NaN values")
        return data

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

    @property
    def array(self) -> Any:
        return self._array

    def _read(self, t: int) -> np.ndarray:
        index = tuple(t if a == "t" else self.channel if a == "c" else slice(None) for a in self.axes)
        data = np.asarray(self.array[index])
        return np.transpose(data, self._perm) if self._perm != sorted(self._perm) else data


class TiffFolder(FrameSource):
    """A folder with one TIFF per frame (CTC ``tNNN.tif``, ``maskNNN.tif``...), in numeric order."""

    def __init__(self, folder: Path) -> None:
        import tifffile

        self.name = str(folder)
        files = [p for p in folder.iterdir() if p.suffix.lower() in (".tif", ".tiff")]
        if not files:
            raise InputError(f"{folder}: no .tif files in this folder")
        self.files = sorted(files, key=_natural_key)
        try:
            with tifffile.TiffFile(self.files[0]) as tif:
                first_shape, dtype = tif.series[0].shape, tif.series[0].dtype
        except Exception as exc:  # tifffile raises many kinds
            raise InputError(f"{self.files[0]}: not a readable TIFF ({exc})") from None
        first_shape = tuple(s for s in first_shape if s != 1) or first_shape
        if len(first_shape) not in (2, 3):
            raise InputError(f"{self.files[0]}: frame of shape {first_shape}; expected (Y, X) or (Z, Y, X)")
        self.dtype = check_dtype(str(self.files[0]), dtype)
        self.shape = (len(self.files), *first_shape)

    def _read(self, t: int) -> np.ndarray:
        import tifffile

        try:
            data = tifffile.imread(self.files[t])
        except FileNotFoundError:
            raise InputError(f"{self.files[t]}: file disappeared") from None
        except Exception as exc:
            raise InputError(f"{self.files[t]}: not a readable TIFF ({exc})") from None
        return data.squeeze() if data.ndim > len(self.frame_shape) else data

    def _where(self, t: int) -> str:
        return str(self.files[t])


class Hdf5Source(ArraySource):
    """A dataset in an HDF5 file (ilastik prediction maps: axes from its ``axistags``)."""

    def __init__(self, path: Path, internal_path: str | None, axes: str | None, channel: int | None) -> None:
        self.path, self.internal_path = path, _hdf5_dataset(path, internal_path)
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

    @property
    def array(self) -> Any:
        if self._array is None:
            self._array = self._open()
        return self._array

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_file", None)
        state["_array"] = None  # h5py handles do not travel to worker processes: reopen there
        return state


class ZarrSource(ArraySource):
    """A zarr array (v2 or v3), or one array of a zarr group / OME-Zarr image."""

    def __init__(self, path: Path, internal_path: str | None, axes: str | None, channel: int | None) -> None:
        self.path = path
        array, self.internal_path, ome_axes = _zarr_array(path, internal_path)
        super().__init__(
            array,
            str(path) + (f"/{self.internal_path}" if self.internal_path else ""),
            axes or ome_axes,
            channel,
        )

    @property
    def array(self) -> Any:
        if self._array is None:
            self._array = _zarr_array(self.path, self.internal_path)[0]
        return self._array

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_array"] = None
        return state


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
