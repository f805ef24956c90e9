"""Bring existing lineages into Neo4j as solved datasets: label images plus a lineage."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neotrack.candidates import CandidateMasks, segment
from neotrack.config import Config
from neotrack.datasets import lineage_links
from neotrack.errors import InputError
from neotrack.solve import assign_tracks
from neotrack.solve._gaps import gap_attrs
from neotrack.solve._mergers import Resolution, part_row
from neotrack.solve._solve import resolve_solution, store_resolution
from neotrack.store import Stage, Store, opened

log = logging.getLogger(__name__)


def store_lineage(
    store: Store,
    dataset: str,
    transitions: pd.DataFrame,
    source: str,
    mergers: pd.DataFrame | None = None,
    pixels: Mapping[int, np.ndarray] | None = None,
) -> None:
    """Mark every segment of ``dataset`` selected, add the ``transitions`` (source, target ids) as
    NEXT, assign track ids, and record the dataset as linked and solved by import.

    ``mergers`` (``id, cells, parts``): segments holding several cells. Those with ``parts``
    (their cells' ids; ``pixels``: each cell's coordinates) were resolved already: their cells are
    stored as a solve's merger resolution stores them (``store_resolution``) and take their place
    in the solution. The others are resolved here as a solve resolves its mergers, over
    transitions carrying the cells ``_carried`` gives them."""
    mergers = pd.DataFrame({"id": [], "cells": [], "parts": []}) if mergers is None else mergers
    pixels = dict(pixels or {})
    selected = store.read_segments(dataset)
    info = store.info(dataset)
    axes = ["z", "y", "x"][-(info.ndim or 2) :]
    resolved = mergers[mergers.parts.map(len) > 0]
    rows = [
        part_row(p, m, pixels[p], axes) for m, ps in zip(resolved.id, resolved.parts, strict=True) for p in ps
    ]
    found = Resolution(
        pd.DataFrame(rows, columns=["id", "t", *axes, "area", "bbox", "merger"]),
        pixels,
        resolved.id.tolist(),
        pd.DataFrame({"source": [], "target": []}, dtype="int64"),  # the files link the cells already
        pd.DataFrame({"source": [], "target": []}, dtype="int64"),
    )
    known = set(selected.id.tolist()) | set(pixels)
    keep = transitions.source.isin(known) & transitions.target.isin(known)
    if (~keep).any():
        log.warning(
            "%d transitions refer to objects that are not in the label images: skipped", int((~keep).sum())
        )
    cells = mergers.set_index("id").cells
    transitions = transitions[keep].assign(cells=_carried(transitions[keep], cells))
    n_mergers = int(selected.id.isin(mergers.id).sum())
    with store.writing(dataset, "import"):
        store.begin_stage(dataset, Stage.LINK, config="import")
        store.finish_stage(dataset, Stage.LINK, count=0)
        store.begin_stage(dataset, Stage.SOLVE, config="import")
        store.write_selection(dataset, selected.id.tolist(), selected.id.map(cells).fillna(1).tolist())
        if len(found.parts):  # (its transitions refer to the cells: they come after them)
            selected, _ = store_resolution(store, dataset, found, selected, transitions.iloc[:0])
        store.write_transitions(dataset, transitions)
        transitions = transitions[["source", "target"]]
        if len(resolved) < n_mergers:
            masks = CandidateMasks(store, dataset)
            selected, transitions, _ = resolve_solution(
                store, dataset, info, masks, selected, transitions, keep=found.parts.id.tolist()
            )
        store.write_tracks(dataset, assign_tracks(selected, transitions))
        store.finish_stage(
            dataset, Stage.SOLVE, solver="import", source=source, mergers=n_mergers, **gap_attrs(transitions)
        )


def _carried(transitions: pd.DataFrame, cells: pd.Series) -> np.ndarray:
    """The cells each transition (``source, target``) carries, where segments hold ``cells`` (by
    id; 1 elsewhere) and event files say nothing: what both ends hold, less one for each other
    transition out of its source and into its target (each carries one at least)."""
    n_out = transitions.source.map(transitions.source.value_counts())
    n_in = transitions.target.map(transitions.target.value_counts())
    held = np.minimum(
        transitions.source.map(cells).fillna(1) - (n_out - 1),
        transitions.target.map(cells).fillna(1) - (n_in - 1),
    )
    return np.maximum(held, 1).to_numpy(dtype=np.int64)


def read_ctc(folder: str | Path) -> tuple[Path, pd.DataFrame]:
    """A CTC result or ground-truth folder: (the folder of masks, the ``L B E P`` lineage)."""
    folder = Path(folder)
    for name in ("res_track.txt", "man_track.txt"):
        if (folder / name).exists():
            lineage = pd.read_csv(folder / name, sep=r"\s+", header=None, names=["L", "B", "E", "P"])
            return folder, lineage.astype(np.int64)
    raise InputError(f"{folder}: no res_track.txt or man_track.txt: not a CTC result or TRA folder")


def import_ctc(
    folder: str | Path,
    dataset: str,
    images: Any = None,
    store: Store | None = None,
    config: Config | None = None,
    overwrite: bool = False,
) -> int:
    """Load a CTC result (``maskNNN.tif`` + ``res_track.txt``) or ground truth (``man_track*``) as a
    solved dataset, so lineage queries and exports work on it. Returns the number of objects.

    Each label of each frame becomes a selected segment (id ``t * 10**9 + label``); the lineage
    file gives the transitions. ``images`` (optional) adds intensity features.
    """
    masks, lineage = read_ctc(folder)
    config = config or Config()
    with opened(store) as st:
        result = segment(images, dataset=dataset, labels=masks, config=config, store=st, overwrite=overwrite)
        store_lineage(st, dataset, lineage_links(lineage), str(Path(folder).resolve()))
        log.info(
            "imported %s as %r: %d objects, %d tracks", folder, dataset, result.n_candidates, len(lineage)
        )
        return result.n_candidates
