"""``preprocess``: write the foreground and boundary maps of every frame to zarr."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from neotrack._outputs import is_neotrack_zarr, new_path
from neotrack._parallel import map_frames
from neotrack.config import Config
from neotrack.imgproc._calibrate import calibrated
from neotrack.imgproc._maps import FrameMaps, Inputs

log = logging.getLogger(__name__)


def _maps(inputs: Inputs, t: int) -> FrameMaps:
    return inputs.maps(t)


def preprocess(
    images: Any,
    out: str | Path,
    config: Config | None = None,
    labels: Any = None,
    overwrite: bool = False,
    progress: bool = False,
) -> zarr.Group:
    """Compute the maps ``segment`` works on and store them as zarr arrays.

    Writes ``out/foreground`` (float32; values above ``segmentation.threshold`` are foreground) and
    ``out/boundaries`` (float32 in [0, 1]), one chunk per frame, with ``data.n_workers`` processes.
    Pass them to ``segment(foreground=..., boundaries=...)`` or look at them in napari.
    """
    config = config or Config()
    inputs = Inputs.open(config, images=images, labels=labels)
    new_path(Path(out), overwrite, is_neotrack_zarr, [images, labels])  # only maps we wrote are replaced
    if inputs.detects:  # the sequence's per-frame thresholds; other maps need no measuring
        inputs, _ = calibrated(inputs, progress)
    group = zarr.open_group(str(out), mode="w-")
    chunks = (1, *inputs.shape[1:])
    arrays = {
        name: group.create_array(name, shape=inputs.shape, dtype=np.float32, chunks=chunks, fill_value=0.0)
        for name in ("foreground", "boundaries")
    }
    group.attrs["neotrack"] = {"config": config.model_dump(mode="json")}
    for t, maps in map_frames(
        _maps, inputs, range(len(inputs.sources[0])), config.data.n_workers, "preprocessing", progress
    ):
        arrays["foreground"][t] = maps.foreground
        arrays["boundaries"][t] = maps.boundaries
    log.info("wrote foreground and boundaries of %d frames to %s", inputs.shape[0], out)
    return group
