"""What every exporter checks first: a solution to export, and nothing to overwrite by accident."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from neotrack.errors import DatasetExistsError, InputError
from neotrack.store import Store


def solved_dataset(store: Store, dataset: str) -> dict[str, Any]:
    """The dataset's attributes; one clear error when it has no solution yet."""
    info = store.dataset(dataset)
    if "solve_finished" not in info:
        raise InputError(f"dataset {dataset!r} has no solution: run `neotrack solve` first")
    return info


def empty_folder(out: Path, overwrite: bool) -> Path:
    """``out``, created, and emptied only when ``overwrite`` allows it."""
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise DatasetExistsError(f"{out} exists and is not empty: choose another folder or --overwrite")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def new_path(path: Path, overwrite: bool) -> Path:
    """``path`` when it does not exist yet, or ``overwrite`` allows replacing it."""
    if path.exists() and not overwrite:
        raise DatasetExistsError(f"{path} exists: choose another path or --overwrite")
    return path


def painted_frames(
    masks: Any,
    selected: Any,
    n_frames: int,
    frame_shape: tuple[int, ...],
    values: str | None = None,
    desc: str = "frames",
    progress: bool = False,
) -> Iterator[tuple[int, np.ndarray]]:
    """``(t, label image)`` for every frame, the selected segments painted with column ``values``
    (default: their index k, the object id of that frame); one frame in memory at a time."""
    by_frame = dict(tuple(selected.groupby("t")))
    for t in tqdm(range(n_frames), desc=desc, unit="frame", disable=None if progress else True):
        rows = by_frame.get(t)
        if rows is None:
            yield t, np.zeros(frame_shape, dtype=np.uint32)
            continue
        labels = None if values is None else rows[values].tolist()
        yield t, masks.paint(rows.id.tolist(), labels, frame_shape)
