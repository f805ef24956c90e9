"""``segment``: every frame's candidate hierarchy into Neo4j, masks into zarr; resumable."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd
import zarr

from neotrack._parallel import map_frames
from neotrack.candidates._hierarchy import FrameCandidates, frame_candidates
from neotrack.candidates._labels import label_candidates
from neotrack.candidates._masks import MASKS, check_masks_owner
from neotrack.config import Config
from neotrack.errors import DatasetExistsError, InputError
from neotrack.imgproc import Inputs, calibrated
from neotrack.store import DatasetInfo, Stage, Store, opened
from neotrack.store._pixels import check_outside

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class SegmentResult:
    """What a ``segment`` run did. Timings split compute (incl. reading) from Neo4j writes."""

    dataset: str
    n_frames: int
    n_candidates: int
    leaves_path: Path
    resumed_at: int
    compute_seconds: float
    write_seconds: float

    @property
    def candidates_per_frame(self) -> float:
        return self.n_candidates / max(self.n_frames, 1)


def _frame_task(inputs: Inputs, t: int) -> FrameCandidates:
    cfg = inputs.config
    if len(inputs.labels) == 1:  # the user's own segmentation: its labels are the candidates
        image = inputs.images.frame(t) if inputs.images is not None else None
        return label_candidates(inputs.labels[0].frame(t), t, image)
    maps = inputs.maps(t)
    return frame_candidates(
        maps.foreground, maps.boundaries, t, cfg.segmentation, maps.intensity, cfg.data.voxel_size
    )


def segment(
    images: Any = None,
    *,
    dataset: str,
    config: Config | None = None,
    foreground: Any = None,
    boundaries: Any = None,
    labels: Any = None,
    store: Store | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> SegmentResult:
    """Compute candidate segments of every frame and store them as dataset ``dataset``.

    Inputs (any of): ``images`` — raw intensities, or probability maps with
    ``preprocessing.foreground = "threshold"`` — preprocessed per ``config.preprocessing``;
    ready-made ``foreground`` and ``boundaries`` maps; or ``labels``, one or more existing label
    stacks (one stack: its labels are the candidates, unchanged; several: an ensemble of
    hypotheses, segmented like a boundary map). Each may be a
    path (TIFF folder or stack, zarr, HDF5) or an array.

    Candidates and their hierarchy go to Neo4j; the leaves image that rebuilds their masks to
    ``masks.zarr`` in the dataset's pixel folder (``<data home>/<dataset id>/``; ``data.working_dir``
    or ``NEOTRACK_WORKING_DIR`` choose another home). An interrupted run resumes where it stopped
    when run again with the same inputs and segmentation settings; ``overwrite=True`` replaces this
    dataset's candidates and what depends on them (links, solution). Bad input raises
    :class:`~neotrack.errors.InputError` and leaves what was stored before as it was.
    """
    config = config or Config()
    inputs = Inputs.open(config, images=images, foreground=foreground, boundaries=boundaries, labels=labels)
    with opened(store) as opened_store:
        home = opened_store.check_pixel_home(config.data.working_dir)
        check_outside(home, _input_paths(inputs), "the working dir")
        return _segment(opened_store, dataset, inputs, config, overwrite, progress)


def _input_paths(inputs: Inputs) -> list[Path]:
    """The resolved files and folders the run reads (arrays in memory have none)."""
    return [s.location for s in inputs.sources if s.location is not None]


def settings_fingerprint(config: Config) -> str:
    """The settings that change a segmentation, as canonical JSON (not workers, paths, later steps)."""
    data = config.data.model_dump(mode="json", include={"voxel_size", "axes", "channel", "internal_path"})
    # the crop only when set: runs without one keep the fingerprint they had before crops existed
    data.update(config.data.model_dump(mode="json", include={"frames", "roi"}, exclude_none=True))
    parts = {
        "data": data,
        "preprocessing": config.preprocessing.model_dump(mode="json"),
        "segmentation": config.segmentation.model_dump(mode="json"),
    }
    return json.dumps(parts, sort_keys=True, separators=(",", ":"))


def _segment(
    store: Store, dataset: str, inputs: Inputs, config: Config, overwrite: bool, progress: bool
) -> SegmentResult:
    n_frames = inputs.shape[0]
    first = inputs.sources[0]
    identity: dict[str, Any] = {
        "ndim": len(inputs.shape) - 1,
        "shape": list(inputs.shape),
        "voxel_size": list(inputs.voxel),
        "source": "; ".join(s.name for s in inputs.sources),
        "input_paths": [str(p) for p in _input_paths(inputs)],
        # the dataset is the cropped movie (frames from 0); where the crop lies in the movie read:
        "frame_offset": first.origin[0],
        "roi_origin": list(first.origin[1:]),
        "source_shape": list(first.source_shape),
    }
    settings = settings_fingerprint(config)
    fingerprint = "; ".join(s.fingerprint() for s in inputs.sources)
    with store.writing(dataset, Stage.SEGMENT, create=identity) as created:
        start = _start_frame(store, dataset, inputs, settings, fingerprint, created, overwrite)
        try:
            inputs, calibration = calibrated(inputs, progress)  # the settings left unset, measured
            if start == 0:
                store.update_dataset(dataset, **identity, **calibration.record())
                store.begin_stage(dataset, Stage.SEGMENT, config=settings, inputs=fingerprint, next_frame=0)
                path = store.new_pixels(dataset, config.data.working_dir) / MASKS
            else:
                store.begin_stage(dataset, Stage.SEGMENT, resume_at=start)
                path = store.pixels(dataset) / MASKS
            leaves = _leaves_array(path, inputs.shape, store.info(dataset), fresh=start == 0)
            compute_s, write_s = _run_frames(store, dataset, inputs, leaves, start, progress)
        except InputError:
            if created:
                log.info("removing dataset %r again: its input is bad", dataset)
                store.delete_dataset(dataset)
            raise
        n_candidates = store.time_range(dataset)[2]
        store.finish_stage(dataset, Stage.SEGMENT, candidates=n_candidates, next_frame=n_frames)
    log.info(
        "segmented %d frames of %r: %d candidates (%.1f per frame), %.1f s (%.1f s writing)",
        n_frames - start,
        dataset,
        n_candidates,
        n_candidates / max(n_frames, 1),
        compute_s + write_s,
        write_s,
    )
    return SegmentResult(dataset, n_frames, n_candidates, path, start, compute_s, write_s)


def _run_frames(
    store: Store, dataset: str, inputs: Inputs, leaves: zarr.Array, start: int, progress: bool
) -> tuple[float, float]:
    """Segment frames ``start`` ... into the graph and ``leaves``; (compute, write) seconds."""
    pending: list[FrameCandidates] = []
    write_s = 0.0

    def flush() -> None:
        nonlocal write_s
        if not pending:
            return
        t0 = time.perf_counter()
        segments = pd.concat([fc.segments for fc in pending], ignore_index=True)
        hierarchy = pd.concat([fc.hierarchy for fc in pending], ignore_index=True)
        store.write_segments(dataset, segments)
        store.write_hierarchy(dataset, hierarchy)
        store.update_dataset(dataset, segment_next_frame=pending[-1].t + 1)
        write_s += time.perf_counter() - t0
        pending.clear()

    t_run = time.perf_counter()
    rows = 0
    frames = list(range(start, inputs.shape[0]))
    workers = inputs.config.data.n_workers
    for t, found in map_frames(_frame_task, inputs, frames, workers, "segmenting", progress):
        leaves[t] = found.leaves
        if found.segments.empty:
            log.info("frame %d: no candidates (empty foreground)", t)
        pending.append(found)
        rows += len(found.segments)
        if rows >= store.batch_size:
            flush()
            rows = 0
    flush()
    return time.perf_counter() - t_run - write_s, write_s


def _start_frame(
    store: Store,
    dataset: str,
    inputs: Inputs,
    settings: str,
    fingerprint: str,
    created: bool,
    overwrite: bool,
) -> int:
    """The first frame to segment: 0 for a new or replaced dataset, else where a cut run stopped."""
    if created:
        return 0
    info = store.info(dataset)
    n_stored = store.time_range(dataset)[2]
    if overwrite:
        if n_stored:  # every frame must be readable before the stored candidates are dropped
            _check_frames(inputs)
            log.info("overwriting dataset %r: removing its %d candidates", dataset, n_stored)
        return 0
    state = info.segment
    if state.status is None:
        if n_stored:
            raise DatasetExistsError(
                f"dataset {dataset!r} holds {n_stored} segments that `segment` did not make: "
                "choose another name, or replace them with --overwrite"
            )
        return 0
    if state.done:
        raise DatasetExistsError(
            f"dataset {dataset!r} is segmented already ({n_stored} candidates): "
            "replace its candidates with --overwrite, or choose another name"
        )
    differs = [
        what
        for what, ok in (
            ("the input files", state.inputs == fingerprint and list(info.shape or ()) == list(inputs.shape)),
            ("the segmentation settings", state.config == settings),
        )
        if not ok
    ]
    if differs:
        raise InputError(
            f"dataset {dataset!r} was partly segmented, but {' and '.join(differs)} changed since: "
            "resume with the same inputs and settings, or start again with --overwrite"
        )
    start = int(state.next_frame or 0)
    log.info("resuming dataset %r at frame %d", dataset, start)
    return start


def _check_frames(inputs: Inputs) -> None:
    """Read every frame of every source once (each read checks shape, values, readability)."""
    for source in inputs.sources:
        for t in range(len(source)):
            source.frame(t)


def _leaves_array(path: Path, shape: tuple[int, ...], info: DatasetInfo, fresh: bool) -> zarr.Array:
    """The leaves image in the dataset's own pixel folder; its group records the dataset's id."""
    if fresh or not (path / "leaves").exists():
        group = zarr.open_group(str(path), mode="w")
        group.attrs["neotrack"] = {"dataset": info.name, "dataset_uid": info.uid}
        return group.create_array("leaves", shape=shape, dtype="uint32", chunks=(1, *shape[1:]), fill_value=0)
    check_masks_owner(path, info)
    return zarr.open_array(str(path / "leaves"), mode="r+")
