"""Cell Tracking Challenge results: ``maskNNN.tif`` painted by track id and ``res_track.txt``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tifffile
from scipy import ndimage as ndi
from scipy.optimize import linear_sum_assignment

from neotrack._outputs import CTC_FILES, check_output_folder, output_folder
from neotrack.candidates import CandidateMasks
from neotrack.errors import InputError
from neotrack.export._common import check_unchanged, dataset_inputs, painted_frames, solved_dataset
from neotrack.solve import assign_tracks
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
    margin: int = 0,
    dilation: int = 0,
    first_frame: Any = None,
) -> Path:
    """Write the dataset's solution as a CTC result folder; frame by frame (a few frames in memory).

    Every frame gets a ``maskNNN.tif`` (uint16, LZW), empty where no cell was selected. Options
    (as ultrack's exporter): ``margin`` drops cells whose box comes within that many pixels of the
    y/x image edge; ``dilation`` grows every mask that many pixels into the background; and
    ``first_frame`` (a label image of frame 0, e.g. the CTC markers of Fluo-N3DL-DRO) keeps only the
    lineages of cells matched to its labels (Hungarian matching of centroids). Tracks are then
    renumbered. What is written is checked: every track's label is in each of its frames.
    """
    out = Path(out_dir)
    with opened(store) as st:
        info = solved_dataset(st, dataset)
        inputs = dataset_inputs(st, info)
        check_output_folder(out, CTC_FILES, overwrite, inputs)
        shape = info.shape or ()
        selected, transitions = st.read_solution(dataset)
        selected = _select(selected, transitions, shape, margin, first_frame)
        if len(selected) and int(selected.track_id.max()) > np.iinfo(np.uint16).max:
            raise InputError(f"{dataset!r} has more than 65535 tracks: CTC masks are 16-bit")
        masks = CandidateMasks(st, dataset)
        output_folder(out, CTC_FILES, overwrite, inputs)  # every check passed: replace the old result
        digits = max(3, len(str(shape[0] - 1)))
        lines = track_table(selected)
        for t, painted in painted_frames(
            masks, selected, shape[0], shape[1:], "track_id", "CTC masks", progress
        ):
            frame = painted.astype(np.uint16)
            for _ in range(dilation):
                frame = np.where(frame == 0, ndi.grey_dilation(frame, size=(3,) * frame.ndim), frame)
            alive = set(lines.L[(t >= lines.B) & (t <= lines.E)].tolist())
            if set(np.unique(frame).tolist()) - {0} != alive:
                raise InputError(
                    f"frame {t}: the painted labels do not match res_track.txt (overlapping masks?)"
                )
            tifffile.imwrite(out / f"mask{t:0{digits}d}.tif", frame, compression="lzw")
        check_unchanged(st, info)
    (out / "res_track.txt").write_text("".join(f"{a} {b} {c} {d}\n" for a, b, c, d in lines.to_numpy()))
    log.info("wrote CTC result of %r (%d tracks) to %s", dataset, len(lines), out)
    return out


def _select(
    selected: pd.DataFrame, transitions: pd.DataFrame, shape: tuple[int, ...], margin: int, first_frame: Any
) -> pd.DataFrame:
    """The cells to export, with track ids renumbered when some were dropped."""
    keep = np.ones(len(selected), dtype=bool)
    if margin > 0:
        ndim = len(shape) - 1
        box = np.stack(selected.bbox.to_numpy()) if len(selected) else np.zeros((0, 2 * ndim))
        for axis in (ndim - 2, ndim - 1):  # y and x
            keep &= (box[:, axis] >= margin) & (box[:, ndim + axis] <= shape[1 + axis] - margin)
    if first_frame is not None:
        keep &= selected.lineage_id.isin(_matched_lineages(selected, np.asarray(first_frame))).to_numpy()
    if keep.all():
        return selected
    kept = selected[keep]
    edges = transitions[transitions.source.isin(kept.id) & transitions.target.isin(kept.id)]
    tracks = assign_tracks(kept, edges)
    return kept.drop(columns=["track_id", "parent_track_id", "lineage_id"]).merge(tracks, on="id")


def _matched_lineages(selected: pd.DataFrame, markers: np.ndarray) -> list[int]:
    """Lineages whose frame-0 cell is matched (Hungarian, centroid distance) to a marker label."""
    first = selected[selected.t == selected.t.min()]
    labels = np.unique(markers)[1:]
    if not len(labels) or first.empty:
        return []
    axes = ["z", "y", "x"][-markers.ndim :]
    centres = np.array(ndi.center_of_mass(markers > 0, markers, labels))
    cost = np.linalg.norm(first[axes].to_numpy()[:, None, :] - centres[None, :, :], axis=2)
    rows, _ = linear_sum_assignment(cost)
    return first.lineage_id.to_numpy()[rows].tolist()
