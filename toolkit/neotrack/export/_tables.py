"""Lineages as tables and graphs: ilastik's CSV tables, napari tracks, networkx."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from neotrack.errors import DatasetExistsError, InputError
from neotrack.export._common import dataset_inputs, solved_dataset
from neotrack.store import ID_STRIDE, Lineage, Store, opened
from neotrack.store._pixels import check_outside

if TYPE_CHECKING:
    import networkx as nx


def _solution(store: Store, dataset: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    solved_dataset(store, dataset)
    return store.read_solution(dataset)


def objects_table(dataset: str, store: Store | None = None) -> pd.DataFrame:
    """ilastik's CSV-Table: ``frame, labelimageId, trackId, lineageId, parentTrackId,
    mergerLabelId`` and features, one row per object, sorted by frame and label."""
    with opened(store) as st:
        selected, _ = _solution(st, dataset)
        return _objects(selected, st.read_parts(dataset))


def _objects(selected: pd.DataFrame, parts: pd.DataFrame) -> pd.DataFrame:
    merger = parts.set_index("id").merger
    # a track's first object, the one that names its parent: tracks run frame by frame (a
    # division or a gap closed starts a new one), so it is the track's earliest
    first = selected.t == selected.groupby("track_id").t.transform("min")
    table = pd.DataFrame(
        {
            "frame": selected.t,
            "labelimageId": selected.id % ID_STRIDE,
            "trackId": selected.track_id,
            "lineageId": selected.lineage_id,
            "parentTrackId": selected.parent_track_id.where(first, 0),
            "mergerLabelId": (selected.id.map(merger).fillna(0) % ID_STRIDE).astype("int64"),
            "z": selected.z,
            "y": selected.y,
            "x": selected.x,
            "area": selected.area,
        }
    )
    return table.sort_values(["frame", "labelimageId"], ignore_index=True)


def divisions_table(dataset: str, store: Store | None = None) -> pd.DataFrame:
    """ilastik's divisions CSV: ``timestep_parent, track_id_parent, track_id_child1, track_id_child2``."""
    with opened(store) as st:
        found = Lineage(st, dataset).divisions()
    return pd.DataFrame(
        {
            "timestep_parent": found.t,
            "track_id_parent": found.parent_track_id,
            "track_id_child1": found.child_track_1,
            "track_id_child2": found.child_track_2,
        }
    )


def to_csv(dataset: str, out_dir: str | Path, store: Store | None = None, overwrite: bool = False) -> Path:
    """``objects.csv``, ``divisions.csv`` and ``mergers.csv`` (ilastik's columns) in ``out_dir``."""
    out = Path(out_dir)
    names = ("objects.csv", "divisions.csv", "mergers.csv")
    with opened(store) as st:
        check_outside(out, dataset_inputs(st, solved_dataset(st, dataset)), "the output folder")
        for name in names:
            if (out / name).is_dir():
                raise InputError(f"{out / name} is a folder: not replacing it")
        if not overwrite and any((out / n).exists() for n in names):
            raise DatasetExistsError(f"{out} already holds CSV exports: --overwrite to replace them")
        out.mkdir(parents=True, exist_ok=True)
        selected, _ = _solution(st, dataset)
        parts = st.read_parts(dataset)
        _objects(selected, parts).to_csv(out / "objects.csv", index=False)
        divisions_table(dataset, st).to_csv(out / "divisions.csv", index=False)
        _mergers(selected, parts).to_csv(out / "mergers.csv", index=False)
    return out


def mergers_table(dataset: str, store: Store | None = None) -> pd.DataFrame:
    """ilastik's mergers CSV: ``timestep, object_id, track_ids``, one row per merger (a segment
    that held several cells; its label in that frame), the track ids of its cells joined by ``;``."""
    with opened(store) as st:
        selected, _ = _solution(st, dataset)
        return _mergers(selected, st.read_parts(dataset))


def _mergers(selected: pd.DataFrame, parts: pd.DataFrame) -> pd.DataFrame:
    track = parts.id.map(selected.set_index("id").track_id)
    rows = [
        (int(m) // ID_STRIDE, int(m) % ID_STRIDE, ";".join(str(int(i)) for i in sorted(ids)))
        for m, ids in track.groupby(parts.merger)
    ]
    return pd.DataFrame(rows, columns=["timestep", "object_id", "track_ids"])


def to_napari(dataset: str, store: Store | None = None) -> tuple[pd.DataFrame, dict[int, list[int]]]:
    """napari tracks: ``track_id, t, (z,) y, x`` sorted by track and time, and the parent graph
    ``{track_id: [parent_track_id]}`` for tracks that began at a division."""
    with opened(store) as st:
        selected, _ = _solution(st, dataset)
        ndim = int(st.info(dataset).ndim or 2)
    axes = ["z", "y", "x"] if ndim == 3 else ["y", "x"]
    tracks = selected[["track_id", "t", *axes]].sort_values(["track_id", "t"], ignore_index=True)
    parents = selected.groupby("track_id").parent_track_id.first()
    graph = {int(k): [int(v)] for k, v in parents.items() if v > 0}
    return tracks, graph


def to_networkx(dataset: str, store: Store | None = None) -> nx.DiGraph:
    """The solution as a DiGraph: nodes are segment ids (with t, position, area, track ids), edges
    the selected transitions."""
    import networkx as nx  # a quarter of a second: loaded by those who ask for a graph

    with opened(store) as st:
        selected, transitions = _solution(st, dataset)
    graph = nx.DiGraph()
    for row in selected.drop(columns="bbox").to_dict("records"):
        graph.add_node(int(row.pop("id")), **row)
    graph.add_edges_from(zip(transitions.source.tolist(), transitions.target.tolist(), strict=True))
    return graph
