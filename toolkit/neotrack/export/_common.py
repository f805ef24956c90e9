"""What every exporter shares: a (complete) solution to export, the paths its output must stay out
of, and frames painted one at a time. The output checks themselves are in ``neotrack._outputs``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from neotrack.errors import InputError
from neotrack.store import DatasetInfo, Stage, Store

if TYPE_CHECKING:
    from neotrack.candidates import CandidateMasks


def solved_dataset(store: Store, dataset: str) -> DatasetInfo:
    """The dataset's state; one clear error when it has no (complete) solution."""
    info = store.info(dataset)
    info.require(Stage.SOLVE)
    return info


def check_unchanged(store: Store, before: DatasetInfo) -> None:
    """Refuse an export during which another run changed the solution it read (exports read without
    the write lock, so that many can run at once)."""
    now = store.info(before.name)
    if not now.solve.done or now.solve.attrs.get("run") != before.solve.attrs.get("run"):
        raise InputError(
            f"the solution of dataset {before.name!r} changed while it was exported (another run "
            "re-solved it): export again"
        )


def dataset_inputs(store: Store, info: DatasetInfo) -> list[Path]:
    """The paths an export must stay out of: the dataset's sources and its pixel folder."""
    paths = [Path(p) for p in info.props.get("input_paths") or []]
    if (pixels := store.find_pixels(info)) is not None:
        paths.append(pixels)
    return paths


def painted_frames(
    masks: CandidateMasks,
    selected: pd.DataFrame,
    n_frames: int,
    frame_shape: tuple[int, ...],
    values: str | None = None,
    desc: str = "frames",
    progress: bool = False,
) -> Iterator[tuple[int, np.ndarray]]:
    """``(t, label image)`` for every frame, the selected segments painted with column ``values``
    (default: their index k, the object id of that frame); a few frames in memory at a time."""
    by_frame = dict(tuple(selected.groupby("t")))
    bar = tqdm(range(n_frames), desc=desc, unit="frame", disable=None if progress else True)
    with contextlib.closing(masks.frames(t for t in range(n_frames) if t in by_frame)) as loaded:
        for t in bar:  # the frames with cells are read ahead, in threads
            rows = by_frame.get(t)
            if rows is None:
                yield t, np.zeros(frame_shape, dtype=np.uint32)
                continue
            labels = None if values is None else rows[values].tolist()
            yield t, next(loaded).paint(rows.id.tolist(), labels, frame_shape)
