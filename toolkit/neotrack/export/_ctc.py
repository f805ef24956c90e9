"""Cell Tracking Challenge results: ``maskNNN.tif`` painted by track id and ``res_track.txt``."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile
from tqdm.auto import tqdm

from neotrack.candidates import CandidateMasks
from neotrack.errors import DatasetExistsError, InputError
from neotrack.store import Store, opened

log = logging.getLogger(__name__)


def track_table(selected: pd.DataFrame) -> pd.DataFrame:
    """CTC lineage lines ``L B E P`` from the selected segments' track ids."""
    grouped = selected.groupby("track_id")
    table = pd.DataFrame(
        {
            "L": grouped.t.min().index,
            "B": grouped.t.min().to_numpy(),
            "E": grouped.t.max().to_numpy(),
            "P": grouped.parent_track_id.first().to_numpy(),
        }
    )
    return table.astype(np.int64)


def to_ctc(
    dataset: str,
    out_dir: str | Path,
    store: Store | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> Path:
    """Write the dataset's solution as a CTC result folder; frame by frame (memory: one frame).

    Every frame gets a ``maskNNN.tif`` (uint16, LZW), empty where no cell was selected.
    """
    with opened(store) as opened_store:
        return _to_ctc(opened_store, dataset, Path(out_dir), overwrite, progress)


def _to_ctc(store: Store, dataset: str, out: Path, overwrite: bool, progress: bool) -> Path:
    info = store.dataset(dataset)
    if "solve_finished" not in info:
        raise InputError(f"dataset {dataset!r} has no solution: run `neotrack solve` first")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise DatasetExistsError(f"{out} exists and is not empty: choose another folder or --overwrite")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    shape = tuple(int(s) for s in info["shape"])
    selected, _ = store.read_solution(dataset)
    if len(selected) and int(selected.track_id.max()) > np.iinfo(np.uint16).max:
        raise InputError(f"{dataset!r} has more than 65535 tracks: CTC masks are 16-bit")
    masks = CandidateMasks(store, dataset)
    digits = max(3, len(str(shape[0] - 1)))
    by_frame = dict(tuple(selected.groupby("t")))
    for t in tqdm(range(shape[0]), desc="CTC masks", unit="frame", disable=None if progress else True):
        rows = by_frame.get(t)
        frame = np.zeros(shape[1:], dtype=np.uint16)
        if rows is not None:
            frame = masks.paint(rows.id.tolist(), rows.track_id.tolist(), shape[1:]).astype(np.uint16)
        tifffile.imwrite(out / f"mask{t:0{digits}d}.tif", frame, compression="lzw")
    lines = track_table(selected)
    (out / "res_track.txt").write_text("".join(f"{a} {b} {c} {d}\n" for a, b, c, d in lines.to_numpy()))
    log.info("wrote CTC result of %r (%d tracks) to %s", dataset, len(lines), out)
    return out
