"""Bring existing lineages into Neo4j as solved datasets: label images plus a lineage."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neotrack.candidates import segment
from neotrack.config import Config
from neotrack.datasets import lineage_links
from neotrack.errors import InputError
from neotrack.solve import assign_tracks
from neotrack.store import Stage, Store, opened

log = logging.getLogger(__name__)


def store_lineage(store: Store, dataset: str, transitions: pd.DataFrame, source: str) -> None:
    """Mark every segment of ``dataset`` selected, add the ``transitions`` (source, target ids) as
    NEXT, assign track ids, and record the dataset as linked and solved by import."""
    selected = store.read_segments(dataset)[["id", "t"]]
    known = set(selected.id.tolist())
    keep = transitions.source.isin(known) & transitions.target.isin(known)
    if (~keep).any():
        log.warning(
            "%d transitions refer to objects that are not in the label images: skipped", int((~keep).sum())
        )
    transitions = transitions[keep]
    with store.writing(dataset, "import"):
        store.begin_stage(dataset, Stage.LINK, config="import")
        store.finish_stage(dataset, Stage.LINK, count=0)
        store.begin_stage(dataset, Stage.SOLVE, config="import")
        store.write_selection(dataset, selected.id.tolist())
        store.write_transitions(dataset, transitions)
        store.write_tracks(dataset, assign_tracks(selected, transitions))
        store.finish_stage(dataset, Stage.SOLVE, solver="import", source=source)


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
