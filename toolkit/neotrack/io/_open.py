"""Open whatever a user points at as a :class:`FrameSource`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from neotrack.errors import InputError
from neotrack.io._sources import (
    ArraySource,
    FrameSource,
    Hdf5Source,
    NpySource,
    TiffFolder,
    TiffStack,
    ZarrSource,
)

_H5 = (".h5", ".hdf5", ".hdf")
_INTERNAL = re.compile(r"^(.*?\.(?:h5|hdf5|hdf|zarr))/(.+)$", re.IGNORECASE)


def open_images(
    source: Any, axes: str | None = None, channel: int | None = None, internal_path: str | None = None
) -> FrameSource:
    """A lazy, per-frame view of a time-lapse.

    Args:
        source: A folder of TIFFs (one per frame, e.g. CTC ``01/``), a multi-page TIFF, a zarr
            array or group (v2 or v3), an HDF5 file (``file.h5`` or ``file.h5/internal/path``), a
            ``.npy`` file, a numpy/dask/zarr array, or a FrameSource (returned as is).
        axes: Axis order such as ``tyxc`` or ``tzyx``; default from the file or T(Z)YX.
        channel: The channel to use when there is a channel axis.
        internal_path: The array inside an HDF5 file or zarr group.
    """
    if isinstance(source, FrameSource):
        return source
    if hasattr(source, "shape") and hasattr(source, "dtype") and hasattr(source, "__getitem__"):
        return ArraySource(source, "array", axes, channel)
    if not isinstance(source, str | Path):
        raise InputError(f"cannot read images from {type(source).__name__}: give a path or an array")
    path = Path(source)
    if not path.exists():
        match = _INTERNAL.match(str(source))
        if match and Path(match.group(1)).exists():
            path, internal_path = Path(match.group(1)), match.group(2)
        else:
            raise InputError(f"{path}: does not exist")
    suffix = path.suffix.lower()
    if suffix == ".zarr" or (path.is_dir() and _is_zarr(path)):
        return ZarrSource(path, internal_path, axes, channel)
    if path.is_dir():
        return TiffFolder(path)
    if suffix in _H5:
        return Hdf5Source(path, internal_path, axes, channel)
    if suffix in (".tif", ".tiff"):
        return TiffStack(path, axes, channel)
    if suffix == ".npy":
        return NpySource(path, axes, channel)
    raise InputError(f"{path}: unknown format; expected a TIFF folder or file, zarr, HDF5 or .npy")


def _is_zarr(path: Path) -> bool:
    return any((path / marker).exists() for marker in ("zarr.json", ".zarray", ".zgroup"))
