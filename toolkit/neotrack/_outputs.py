"""Outputs that touch only our own files, never an input: shared by exporters, flow and preprocess.

``overwrite`` replaces what the toolkit writes — ``maskNNN.tif`` + ``res_track.txt``, ``NNNNN.h5``, a
zarr store carrying neotrack's attributes, the file a user named — and nothing else: a folder that
holds other files is refused, naming one of them, and so is an output that is, or lies inside, an
input. All of it is checked before anything is written.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from neotrack.errors import DatasetExistsError, InputError
from neotrack.store._pixels import check_outside

CTC_FILES = re.compile(r"mask\d+\.tif|res_track\.txt")
H5_FILES = re.compile(r"\d{5,}\.h5")


def check_output_folder(
    out: Path, ours: re.Pattern[str], overwrite: bool, inputs: Sequence[Any] = ()
) -> None:
    """Refuse ``out`` if it overlaps an input, holds files we did not write, or (without
    ``overwrite``) a previous result. Touches nothing."""
    check_outside(out, list(inputs), "the output folder")
    if not out.exists():
        return
    if not out.is_dir():
        raise InputError(f"{out} is a file, not a folder")
    entries = sorted(out.iterdir())
    foreign = [e for e in entries if not (e.is_file() and ours.fullmatch(e.name))]
    if foreign:
        raise DatasetExistsError(
            f"{out} holds {foreign[0].name}, which neotrack did not write: choose an empty or new folder"
        )
    if entries and not overwrite:
        raise DatasetExistsError(
            f"{out} holds a previous result ({entries[0].name}, ...): replace it with --overwrite"
        )


def output_folder(out: Path, ours: re.Pattern[str], overwrite: bool, inputs: Sequence[Any] = ()) -> Path:
    """``out``, checked (``check_output_folder``), created, and emptied of our previous result."""
    check_output_folder(out, ours, overwrite, inputs)
    if out.exists():
        for entry in out.iterdir():
            entry.unlink()
    out.mkdir(parents=True, exist_ok=True)
    return out


def new_path(
    path: Path, overwrite: bool, ours: Callable[[Path], bool] = Path.is_file, inputs: Sequence[Any] = ()
) -> Path:
    """``path`` when it does not exist yet, or when ``overwrite`` allows replacing it and ``ours``
    says it is a kind of output this exporter writes; the old one is removed."""
    check_outside(path, list(inputs), "the output")
    if not path.exists():
        return path
    if not overwrite:
        raise DatasetExistsError(f"{path} exists: choose another path or --overwrite")
    if not ours(path):
        raise DatasetExistsError(f"{path} exists and neotrack did not write it: not replacing it")
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
    return path


def is_neotrack_zarr(path: Path) -> bool:
    """A zarr array or group carrying neotrack's attributes (our zarr and geff exports)."""
    import zarr

    try:
        return "neotrack" in zarr.open(str(path), mode="r").attrs
    except Exception:  # not zarr at all
        return False
