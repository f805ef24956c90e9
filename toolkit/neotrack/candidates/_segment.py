"""``segment``: every frame's candidate hierarchy into Neo4j, masks into zarr; resumable."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd
import zarr

from neotrack._parallel import map_frames
from neotrack.candidates._hierarchy import FrameCandidates, frame_candidates
from neotrack.candidates._labels import label_candidates
from neotrack.candidates._masks import leaves_path
from neotrack.config import Config
from neotrack.errors import DatasetExistsError, InputError
from neotrack.imgproc import Inputs
from neotrack.store import Store, opened

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
    ``<data.working_dir>/<dataset>.zarr``. An interrupted run resumes where it stopped when run
    again with the same config; ``overwrite=True`` replaces this dataset's candidates (and what
    depends on them). Bad input raises :class:`~neotrack.errors.InputError`; a run that created the
    dataset then removes it again, so nothing is left half-written.
    """
    config = config or Config()
    inputs = Inputs.open(config, images=images, foreground=foreground, boundaries=boundaries, labels=labels)
    with opened(store) as opened_store:
        return _segment(opened_store, dataset, inputs, config, overwrite, progress)


def _segment(
    store: Store, dataset: str, inputs: Inputs, config: Config, overwrite: bool, progress: bool
) -> SegmentResult:
    n_frames = inputs.shape[0]
    path = leaves_path(config.data.working_dir, dataset).resolve()
    start, created = _prepare(store, dataset, inputs, config, path, overwrite)
    leaves = _leaves_array(path, inputs.shape, fresh=start == 0)
    pending: list[FrameCandidates] = []
    counts = {"candidates": 0, "write_s": 0.0}

    def flush() -> None:
        if not pending:
            return
        t0 = time.perf_counter()
        segments = pd.concat([fc.segments for fc in pending], ignore_index=True)
        hierarchy = pd.concat([fc.hierarchy for fc in pending], ignore_index=True)
        if len(segments):
            store.write_segments(dataset, segments)
        if len(hierarchy):
            store.write_hierarchy(dataset, hierarchy)
        store.update_dataset(dataset, segment_next_frame=pending[-1].t + 1)
        counts["candidates"] += len(segments)
        counts["write_s"] += time.perf_counter() - t0
        pending.clear()

    t_run = time.perf_counter()
    try:
        rows = 0
        for t, found in map_frames(
            _frame_task, inputs, list(range(start, n_frames)), config.data.n_workers, "segmenting", progress
        ):
            leaves[t] = found.leaves
            if found.segments.empty:
                log.info("frame %d: no candidates (empty foreground)", t)
            pending.append(found)
            rows += len(found.segments)
            if rows >= store.batch_size:
                flush()
                rows = 0
        flush()
    except InputError:
        if created:
            log.info("removing dataset %r again: its input is bad", dataset)
            store.delete_dataset(dataset)
            shutil.rmtree(path, ignore_errors=True)
        raise
    total = time.perf_counter() - t_run
    n_candidates = store.time_range(dataset)[2]
    store.update_dataset(dataset, segment_finished=True, n_candidates=n_candidates)
    log.info(
        "segmented %d frames of %r: %d candidates (%.1f per frame), %.1f s (%.1f s writing)",
        n_frames - start,
        dataset,
        n_candidates,
        n_candidates / max(n_frames, 1),
        total,
        counts["write_s"],
    )
    return SegmentResult(
        dataset, n_frames, n_candidates, path, start, total - counts["write_s"], counts["write_s"]
    )


def _prepare(
    store: Store, dataset: str, inputs: Inputs, config: Config, path: Path, overwrite: bool
) -> tuple[int, bool]:
    """Create, reset or resume the dataset; returns (first frame to do, created by this run)."""
    from neotrack import __version__

    attrs: dict[str, Any] = {
        "ndim": len(inputs.shape) - 1,
        "shape": list(inputs.shape),
        "voxel_size": list(config.data.voxel_size or [1.0] * (len(inputs.shape) - 1)),
        "source": "; ".join(s.name for s in inputs.sources),
        "leaves_path": str(path),
        "segment_config": config.to_json(),
        "segment_version": __version__,
    }
    if not store.has_dataset(dataset):
        store.create_dataset(dataset, segment_next_frame=0, segment_finished=False, **attrs)
        return 0, True
    info = store.dataset(dataset)
    n_stored = store.time_range(dataset)[2]
    if overwrite:
        deleted = store.delete_segments(dataset)
        shutil.rmtree(path, ignore_errors=True)
        store.update_dataset(dataset, segment_next_frame=0, segment_finished=False, **attrs)
        log.info("overwriting dataset %r: removed its %d candidates", dataset, deleted)
        return 0, False
    if "segment_next_frame" not in info:
        if n_stored:
            raise DatasetExistsError(
                f"dataset {dataset!r} holds {n_stored} segments that `segment` did not make: "
                "choose another name, or replace them with --overwrite"
            )
        store.update_dataset(dataset, segment_next_frame=0, segment_finished=False, **attrs)
        return 0, False
    if info.get("segment_finished"):
        raise DatasetExistsError(
            f"dataset {dataset!r} is segmented already ({n_stored} candidates): "
            "replace its candidates with --overwrite, or choose another name"
        )
    if info.get("segment_config") != attrs["segment_config"] or info.get("shape") != attrs["shape"]:
        raise InputError(
            f"dataset {dataset!r} was partly segmented with other settings or inputs: resume with "
            "the same config and images, or start again with --overwrite"
        )
    start = int(info["segment_next_frame"])
    stale = store.delete_segments(dataset, start)  # a batch cut short by the interruption
    log.info("resuming dataset %r at frame %d (removed %d partial candidates)", dataset, start, stale)
    return start, False


def _leaves_array(path: Path, shape: tuple[int, ...], fresh: bool) -> zarr.Array:
    if fresh or not (path / "leaves").exists():
        group = zarr.open_group(str(path), mode="w")
        return group.create_array("leaves", shape=shape, dtype="uint32", chunks=(1, *shape[1:]), fill_value=0)
    return zarr.open_array(str(path / "leaves"), mode="r+")
