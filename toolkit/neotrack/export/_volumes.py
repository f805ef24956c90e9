"""Lineages as a zarr label volume (painted by track id) and as a geff graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import zarr

from neotrack._outputs import is_neotrack_zarr, new_path
from neotrack.candidates import CandidateMasks
from neotrack.export._common import check_unchanged, dataset_inputs, painted_frames, solved_dataset
from neotrack.export._tables import to_networkx
from neotrack.store import Store, opened


def to_zarr(
    dataset: str,
    path: str | Path,
    store: Store | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> zarr.Array:
    """A (T, (Z,) Y, X) int32 zarr array painted by track id, one chunk per frame, frame by frame."""
    with opened(store) as st:
        info = solved_dataset(st, dataset)
        selected, _ = st.read_solution(dataset)
        masks = CandidateMasks(st, dataset)
        path = new_path(Path(path), overwrite, is_neotrack_zarr, dataset_inputs(st, info))
        shape = info.shape or ()
        out = zarr.create_array(
            str(path), shape=shape, dtype="int32", chunks=(1, *shape[1:]), fill_value=0, overwrite=True
        )
        out.attrs["neotrack"] = {
            "dataset": dataset,
            "values": "track_id",
            "voxel_size": info.voxel_size,
        }
        for t, painted in painted_frames(
            masks, selected, shape[0], shape[1:], "track_id", "zarr labels", progress
        ):
            out[t] = painted.astype(np.int32)
        check_unchanged(st, info)
    return out


def to_geff(dataset: str, path: str | Path, store: Store | None = None, overwrite: bool = False) -> Path:
    """The solution as a geff graph (zarr): nodes with t, position, area and track ids; axes t, (z,)
    y, x with the dataset's voxel size as scale."""
    import geff

    with opened(store) as st:
        info = solved_dataset(st, dataset)
        path = new_path(Path(path), overwrite, is_neotrack_zarr, dataset_inputs(st, info))
        graph = to_networkx(dataset, st)
    ndim = int(info.ndim or 2)
    spatial = ["z", "y", "x"] if ndim == 3 else ["y", "x"]
    if ndim == 2:
        for _, data in graph.nodes(data=True):
            data.pop("z", None)
    scale = list(info.voxel)
    axis_types: list[Any] = ["time"] + ["space"] * ndim
    geff.write(
        graph,
        str(path),
        axis_names=["t", *spatial],
        axis_types=axis_types,
        axis_scales=[1.0, *scale],
    )
    zarr.open_group(str(path), mode="r+").attrs["neotrack"] = {"dataset": dataset, "dataset_uid": info.uid}
    return path
