"""ilastik-style per-frame HDF5 event files (``00000.h5``, ``00001.h5``, ...), out and in.

The layout is documented in ``schema/h5-layout.md`` and guarded by a snapshot test. Ids are the
objects' labels in ``/segmentation/labels`` of the same file (x, y, z axis order, z = 1 in 2D).
Unlike ilastik's own writer, every new track gets an ``Appearances`` row.
"""

from __future__ import annotations

import logging
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from neotrack._outputs import H5_FILES, check_output_folder, output_folder
from neotrack.candidates import CandidateMasks
from neotrack.config import Config
from neotrack.errors import InputError
from neotrack.export._common import check_unchanged, dataset_inputs, painted_frames, solved_dataset
from neotrack.store import ID_STRIDE, Store, frames_spanned, opened

log = logging.getLogger(__name__)

EVENTS = {  # name: (columns, Format attribute) as ilastik writes them
    "Moves": (2, "from (previous file), to (current file)"),
    "Splits": (3, "ancestor (previous file), descendant (current file), descendant (current file)"),
    "Appearances": (1, "cell label appeared in current file"),
    "Disappearances": (1, "cell label disappeared in current file"),
    "Mergers": (2, "descendant (current file), number of objects"),
    "MultiFrameMoves": (3, "from (file at t_from), to (current file), t_from"),
}
ENERGY_FORMAT = "lower energy -> higher confidence"
RESOLVED_FORMAT = "old cell label (current file), new cell labels of resolved cells (current file)"


def frame_events(
    t: int,
    selected: pd.DataFrame,
    transitions: pd.DataFrame,
    last: int,
    mergers: pd.DataFrame | None = None,
) -> dict[str, np.ndarray]:
    """The events stored in file t: transitions t-1 -> t, transitions into t over missing frames
    (``MultiFrameMoves``: from its frame t_from), tracks starting at t, ending at t-1; and, in
    every file (t = 0 too, as ilastik), the mergers of frame t (``mergers``: ``id, cells``)."""
    merged = {}
    if mergers is not None and len(here_merged := mergers[mergers.id // ID_STRIDE == t]):
        rows = np.stack([here_merged.id % ID_STRIDE, here_merged.cells], axis=1)
        merged["Mergers"] = rows.astype(np.uint32)
    if t == 0:
        return merged
    into = transitions[transitions.target // ID_STRIDE == t]
    span = frames_spanned(into)
    over, into = into[span > 1], into[span == 1]  # over: a gap closed (a move: ``solve/_gaps.py``)
    # children here: a mother whose other daughter is seen only later (a CTC truth's parent link
    # across missing frames) moves into this one, and that one comes as a MultiFrameMoves row
    siblings = into.source.map(into.groupby("source").size())
    moves = into[siblings == 1]
    splits = into[siblings == 2].sort_values("target").groupby("source").target.apply(list)
    here = selected.id[selected.t == t]
    before = selected.id[selected.t == t - 1]
    events = {
        "Moves": np.stack([moves.source % ID_STRIDE, moves.target % ID_STRIDE], axis=1),
        "Splits": np.array([[s % ID_STRIDE, *(c % ID_STRIDE for c in kids)] for s, kids in splits.items()]),
        "Appearances": (here[~here.isin(transitions.target)] % ID_STRIDE).to_numpy()[:, None],
        "Disappearances": (before[~before.isin(transitions.source)] % ID_STRIDE).to_numpy()[:, None],
        "MultiFrameMoves": np.stack(
            [over.source % ID_STRIDE, over.target % ID_STRIDE, over.source // ID_STRIDE], axis=1
        ),
    }
    if t - 1 == last:  # nothing disappears in the last frame (there is no next one)
        events["Disappearances"] = np.empty((0, 1))
    return merged | {k: v.astype(np.uint32).reshape(-1, EVENTS[k][0]) for k, v in events.items() if len(v)}


def to_h5_events(
    dataset: str,
    out_dir: str | Path,
    store: Store | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> Path:
    """Write the dataset's solution as one ilastik event file per frame; frame by frame."""
    out = Path(out_dir)
    with opened(store) as st:
        info = solved_dataset(st, dataset)
        inputs = dataset_inputs(st, info)
        check_output_folder(out, H5_FILES, overwrite, inputs)
        shape = info.shape or ()
        selected, transitions = st.read_solution(dataset)
        mergers, _ = st.read_counts(dataset)
        parts = st.read_parts(dataset)
        masks = CandidateMasks(st, dataset)
        output_folder(out, H5_FILES, overwrite, inputs)  # every check passed: replace the old result
        for t, labels in painted_frames(
            masks, selected, shape[0], shape[1:], desc="h5 events", progress=progress
        ):
            events = frame_events(t, selected, transitions, shape[0] - 1, mergers)
            resolved = parts[parts.id // ID_STRIDE == t].groupby("merger").id.apply(list)
            _write_frame(out / f"{t:05d}.h5", labels, events, resolved)
        check_unchanged(st, info)
    log.info("wrote %d ilastik event files of %r to %s", shape[0], dataset, out)
    return out


def _write_frame(
    path: Path, labels: np.ndarray, events: dict[str, np.ndarray], resolved: pd.Series | None = None
) -> None:
    """One event file; ``resolved``: each merger's (by id) cells, written as ilastik's legacy
    ``ResolvedMergers`` group (one dataset per merger label, holding its cells' labels)."""
    xyz = labels.T if labels.ndim == 2 else np.transpose(labels, (2, 1, 0))  # (y,x)->(x,y); (z,y,x)->(x,y,z)
    if labels.ndim == 2:
        xyz = xyz[:, :, None]
    ids = np.unique(labels)
    ids = ids[ids > 0].astype(np.uint32)
    with h5py.File(path, "w-") as f:
        f.create_dataset(
            "segmentation/labels", data=xyz.astype(np.uint32), compression="gzip", compression_opts=1
        )
        f.create_dataset("objects/meta/id", data=ids, compression="gzip", compression_opts=1)
        f.create_dataset(
            "objects/meta/valid", data=np.ones(len(ids), np.uint8), compression="gzip", compression_opts=1
        )
        tracking = f.create_group("tracking")
        for name, rows in events.items():
            rows = rows[np.argsort(rows[:, 0], kind="stable")[::-1]]  # descending, as ilastik
            ds = tracking.create_dataset(name, data=rows)
            ds.attrs["Format"] = EVENTS[name][1]
            energy = tracking.create_dataset(f"{name}-Energy", data=np.zeros(len(rows)))
            energy.attrs["Format"] = ENERGY_FORMAT
        if resolved is not None and len(resolved):
            group = tracking.create_group("ResolvedMergers")
            group.attrs["Format"] = RESOLVED_FORMAT
            for merger, cells in resolved.items():
                group.create_dataset(
                    str(int(merger) % ID_STRIDE),
                    data=np.sort(np.asarray(cells) % ID_STRIDE).astype(np.uint32),
                )


def read_h5_events(folder: str | Path) -> tuple[list[np.ndarray], pd.DataFrame, pd.DataFrame]:
    """Label images ((Y, X) or (Z, Y, X)), transitions (``source, target`` ids) and mergers of an
    event folder, ours or ilastik's: Moves, Splits and MultiFrameMoves are transitions; ``Mergers``
    rows give ``id, cells`` and, where the file resolved them (``ResolvedMergers``), ``parts``:
    the ids of the cells each was split into (empty where the label image holds the merger whole).
    """
    files = sorted(Path(folder).glob("*.h5"))
    if not files:
        raise InputError(f"{folder}: no .h5 event files")
    frames, rows, merged = [], [], []
    for t, path in enumerate(files):
        try:
            with h5py.File(path, "r") as f:
                xyz = np.asarray(f["segmentation/labels"]).squeeze()
                tracking = f.get("tracking", {})
                for name in ("Moves", "Splits"):
                    if name in tracking:
                        data = np.asarray(tracking[name], dtype=np.int64).reshape(-1, EVENTS[name][0])
                        for child in range(1, data.shape[1]):
                            rows.append(
                                np.stack(
                                    [(t - 1) * ID_STRIDE + data[:, 0], t * ID_STRIDE + data[:, child]], axis=1
                                )
                            )
                if "MultiFrameMoves" in tracking:  # from the file of t_from, over missing frames
                    data = np.asarray(tracking["MultiFrameMoves"], dtype=np.int64).reshape(-1, 3)
                    if ((data[:, 2] < 0) | (data[:, 2] >= t)).any():
                        raise ValueError(
                            f"MultiFrameMoves from frames {sorted(set(data[:, 2]))}, expected < {t}"
                        )
                    rows.append(
                        np.stack([data[:, 2] * ID_STRIDE + data[:, 0], t * ID_STRIDE + data[:, 1]], axis=1)
                    )
                resolved = tracking.get("ResolvedMergers", {})
                if "Mergers" in tracking:
                    for label, cells in np.asarray(tracking["Mergers"], dtype=np.int64).reshape(-1, 2):
                        parts = np.asarray(resolved.get(str(label), []), dtype=np.int64).reshape(-1)
                        merged.append((t * ID_STRIDE + label, cells, tuple((t * ID_STRIDE + parts).tolist())))
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: not an ilastik event file ({exc})") from None
        frames.append(xyz.T if xyz.ndim == 2 else np.transpose(xyz, (2, 1, 0)))
    pairs = np.concatenate(rows) if rows else np.empty((0, 2), dtype=np.int64)
    mergers = pd.DataFrame(merged, columns=["id", "cells", "parts"])
    if mergers.id.duplicated().any():
        twice = int(mergers.id[mergers.id.duplicated()].iloc[0])
        raise InputError(
            f"{files[twice // ID_STRIDE]}: merger {twice % ID_STRIDE} has two Mergers rows; expected one"
        )
    return frames, pd.DataFrame({"source": pairs[:, 0], "target": pairs[:, 1]}), mergers


def import_h5_events(
    folder: str | Path,
    dataset: str,
    store: Store | None = None,
    config: Config | None = None,
    overwrite: bool = False,
) -> int:
    """Load an event folder (ours or ilastik's) into Neo4j as a solved dataset; returns objects.

    Mergers come in as mergers: those the files resolved keep their cells as the files give them
    (an export of the dataset gives the same files); those they hold whole are resolved as a solve
    resolves them (``solve/_mergers.py``), so no merger reads as a division.
    """
    from neotrack.candidates import segment
    from neotrack.export._importing import store_lineage

    frames, transitions, mergers = read_h5_events(folder)
    labels = np.stack(frames).astype(np.uint32)
    pixels = _whole_mergers(labels, mergers, folder)
    with opened(store) as st:
        result = segment(
            labels=labels, dataset=dataset, config=config or Config(), store=st, overwrite=overwrite
        )
        store_lineage(st, dataset, transitions, str(Path(folder).resolve()), mergers, pixels)
        return result.n_candidates


def _whole_mergers(labels: np.ndarray, mergers: pd.DataFrame, folder: str | Path) -> dict[int, np.ndarray]:
    """Each resolved merger painted whole into ``labels`` (its cells' pixels take its label: the
    candidate it was); the pixels of its cells (part id -> coordinates), as merger resolution keeps
    them. A merger whose label is also an object of its frame is refused."""
    pixels = {}
    for merger, parts in zip(mergers.id, mergers.parts, strict=True):
        t, label = divmod(int(merger), ID_STRIDE)
        if not parts:
            continue
        frame = labels[t]
        if (frame == label).any():
            raise InputError(
                f"{folder}: frame {t}: merger {label} is resolved into {[p % ID_STRIDE for p in parts]} "
                "but is also an object of the label image; expected its cells painted in its place"
            )
        for part in parts:
            pixels[part] = np.argwhere(frame == part % ID_STRIDE)
            if not len(pixels[part]):
                raise InputError(
                    f"{folder}: frame {t}: merger {label} is resolved into cell {part % ID_STRIDE}, "
                    "which is not in the label image"
                )
            frame[tuple(pixels[part].T)] = label
    return pixels
