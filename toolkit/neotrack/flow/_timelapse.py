"""Flow fields of a whole time-lapse to zarr, and their use: candidate shifts, advected points."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import zarr
from scipy.stats import qmc
from tqdm.auto import tqdm

from neotrack._outputs import is_neotrack_zarr, new_path
from neotrack.config import Config
from neotrack.errors import InputError
from neotrack.flow._field import flow_field, scale_factors
from neotrack.imgproc import Inputs
from neotrack.store import DatasetInfo, Stage, Store, opened

log = logging.getLogger(__name__)


def timelapse_flow(
    images: Any,
    out: str | Path,
    config: Config | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> zarr.Array:
    """The field from each frame t to t+1, written to zarr: (T, ndim, *reduced shape), float32.

    ``images`` are read as ``segment`` reads them: ``data.axes``, ``data.channel`` and
    ``data.internal_path`` choose the array, ``data.frames`` and ``data.roi`` crop it, so the field
    has the frames and shape of the dataset segmented with the same config. Displacements are in
    full-resolution pixels; frame T-1 (no successor) is zero. The array's attributes record the
    per-axis reduction (``factor``), to sample it at full-resolution points, and the crop's origin.
    """
    config = config or Config()
    cfg = config.flow
    source = Inputs.open(config, images=images).images  # opened and cropped as segment does
    assert source is not None
    shape = source.frame_shape
    factor = scale_factors(shape, cfg.reduce, 1)[0]
    reduced = tuple(int(np.ceil(n / f)) for n, f in zip(shape, factor, strict=True))
    new_path(Path(out), overwrite, is_neotrack_zarr, [images])  # only a field we wrote is replaced
    field = zarr.create_array(
        str(out),
        shape=(len(source), len(shape), *reduced),
        dtype="float32",
        chunks=(1, len(shape), *reduced),
        fill_value=0.0,
        overwrite=True,
    )
    field.attrs["neotrack"] = {
        "factor": factor.tolist(),
        "shape": list(shape),
        "origin": list(source.origin),
        **cfg.model_dump(),
    }
    previous = source.frame(0)
    for t in tqdm(range(len(source) - 1), desc="flow", unit="pair", disable=None if progress else True):
        current = source.frame(t + 1)
        disp = flow_field(
            previous, current, cfg.n_scales, cfg.reduce, cfg.lr, cfg.num_iterations, cfg.smoothness, cfg.blur
        )
        field[t] = _fit(disp, reduced)
        previous = current
    log.info("wrote the flow of %d frame pairs to %s", len(source) - 1, out)
    return field


def _fit(disp: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros((disp.shape[0], *shape), np.float32)
    region = tuple(slice(0, min(a, b)) for a, b in zip(disp.shape[1:], shape, strict=True))
    out[(slice(None), *region)] = disp[(slice(None), *region)]
    return out


def sample_flow(field: zarr.Array, t: int, points: np.ndarray) -> np.ndarray:
    """Displacements (N, ndim) of frame t's field at full-resolution points (N, ndim), nearest vector."""
    meta: dict[str, Any] = dict(field.attrs["neotrack"])  # type: ignore[arg-type]
    factor = np.asarray(meta["factor"])
    frame = np.asarray(field[t])
    index = np.clip(np.rint(points / factor).astype(int), 0, np.array(frame.shape[1:]) - 1)
    return np.stack([frame[a][tuple(index.T)] for a in range(frame.shape[0])], axis=1)


def add_flow(
    dataset: str, flow: str | Path | zarr.Array, store: Store | None = None, min_shift: float = 1.0
) -> int:
    """Store each candidate's displacement to the next frame (``shift_z/y/x``), sampled from a
    ``timelapse_flow`` field at its centroid; ``link`` then moves candidates by it.

    Displacements shorter than ``min_shift`` times the candidate's equivalent radius are stored as 0:
    such a cell still overlaps its next position, and the field's error (about a pixel) would only
    blur that evidence (measured on SIM+, whose nuclei move a seventh of their radius per frame).
    """
    field = flow if isinstance(flow, zarr.Array) else zarr.open_array(str(flow), mode="r")
    if "neotrack" not in field.attrs:
        raise InputError(f"{flow}: not a flow field written by timelapse_flow")
    with opened(store) as st, st.writing(dataset, "add-flow"):
        info = st.info(dataset)
        info.require(Stage.SEGMENT)
        segments = st.read_segments(dataset)
        ndim = field.shape[1]
        n_frames = (info.shape or (0,))[0]
        if n_frames != field.shape[0]:
            raise InputError(f"{flow} has {field.shape[0]} frames, dataset {dataset!r} has {n_frames}")
        _check_same_crop(flow, field, info)
        axes = ["z", "y", "x"][-ndim:]
        rows = []
        for t, group in segments.groupby("t"):
            shift = sample_flow(field, int(t), group[axes].to_numpy())
            area = group.area.to_numpy(dtype=float)
            radius = np.sqrt(area / np.pi) if ndim == 2 else np.cbrt(3 * area / (4 * np.pi))
            shift[np.linalg.norm(shift, axis=1) < min_shift * radius] = 0.0
            full = np.zeros((len(group), 3))
            full[:, 3 - ndim :] = shift
            rows.append(
                pd.DataFrame(
                    {
                        "id": group.id.to_numpy(),
                        "shift_z": full[:, 0],
                        "shift_y": full[:, 1],
                        "shift_x": full[:, 2],
                    }
                )
            )
        table = pd.concat(rows, ignore_index=True)
        return st.write_shifts(dataset, table)


def _check_same_crop(flow: Any, field: zarr.Array, info: DatasetInfo) -> None:
    """Refuse a field of another part of the movie than the dataset's (``data.frames``, ``data.roi``)."""
    meta: dict[str, Any] = dict(field.attrs["neotrack"])  # type: ignore[arg-type]
    shape, origin = meta.get("shape"), meta.get("origin")
    ours = None if info.roi_origin is None else [info.frame_offset, *info.roi_origin]
    if (shape is not None and info.shape is not None and list(shape) != list(info.shape[1:])) or (
        origin is not None and ours is not None and list(origin) != ours
    ):
        raise InputError(
            f"{flow} is the field of frames of shape {tuple(shape or ())} starting at {origin} (t, "
            f"{', '.join('zyx'[-len(shape or 'yx') :])}) of the movie, but dataset {info.name!r} has frames "
            f"of shape {tuple((info.shape or ())[1:])} starting at {ours}: compute the field with the "
            "dataset's data.frames and data.roi (--frames, --roi)"
        )


def advect_from_quasi_random(
    flow: zarr.Array, shape: tuple[int, ...], n_samples: int = 1000, seed: int = 42
) -> np.ndarray:
    """Trajectories (N, T, ndim) of Sobol-sampled points carried along the field, kept in the image."""
    points = qmc.Sobol(len(shape), seed=seed).random(n_samples) * (np.array(shape) - 1)
    out = np.empty((n_samples, flow.shape[0], len(shape)))
    out[:, 0] = points
    for t in range(flow.shape[0] - 1):
        points = np.clip(points + sample_flow(flow, t, points), 0, np.array(shape) - 1)
        out[:, t + 1] = points
    return out


def trajectories_to_tracks(trajectories: np.ndarray) -> pd.DataFrame:
    """A napari tracks table (``track_id, t, (z,) y, x``) from (N, T, ndim) trajectories."""
    n, frames, ndim = trajectories.shape
    axes = ["z", "y", "x"][-ndim:]
    table = pd.DataFrame(trajectories.reshape(n * frames, ndim), columns=axes)
    table.insert(0, "t", np.tile(np.arange(frames), n))
    table.insert(0, "track_id", np.repeat(np.arange(1, n + 1), frames))
    return table


def tracks_df_movement(tracks: pd.DataFrame) -> pd.DataFrame:
    """Per-step displacement (``dz, dy, dx``) of each row of a tracks table (0 at a track's start)."""
    axes = [a for a in ("z", "y", "x") if a in tracks]
    ordered = tracks.sort_values(["track_id", "t"])
    moves = ordered.groupby("track_id")[axes].diff().fillna(0.0)
    return moves.rename(columns={a: f"d{a}" for a in axes}).loc[tracks.index]
