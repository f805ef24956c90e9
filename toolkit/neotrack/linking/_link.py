"""``link``: candidate transitions t -> t+1 between nearby candidates, weighted by mask overlap."""

from __future__ import annotations

import dataclasses
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from itertools import pairwise

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from tqdm.auto import tqdm

from neotrack.candidates import CandidateFrame, CandidateMasks
from neotrack.config import Config, LinkingConfig
from neotrack.errors import DatasetExistsError, InputError
from neotrack.imgproc import Calibration, resolve_section
from neotrack.store import ID_STRIDE, DatasetInfo, Stage, Store, opened

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class LinkResult:
    dataset: str
    n_links: int
    seconds: float


def frame_overlaps(a: CandidateFrame, b: CandidateFrame) -> pd.Series:
    """Pixels shared by every overlapping pair (candidate of a, candidate of b), by (source, target) id.

    One joint histogram of the two leaves images, propagated up both hierarchies: a pixel whose
    smallest candidates are (i, j) belongs to every ancestor of i and every ancestor of j.
    """
    la, lb = a.leaves.ravel(), b.leaves.ravel()
    both = (la > 0) & (lb > 0)
    pair, counts = np.unique(la[both].astype(np.int64) * ID_STRIDE + lb[both], return_counts=True)
    chains_a, chains_b = a.chains(), b.chains()
    up_a, up_b = chains_a[pair // ID_STRIDE], chains_b[pair % ID_STRIDE]  # (n, depth)
    ka = np.repeat(up_a[:, :, None], up_b.shape[1], axis=2)
    kb = np.repeat(up_b[:, None, :], up_a.shape[1], axis=1)
    weight = np.broadcast_to(counts[:, None, None], ka.shape)
    valid = (ka > 0) & (kb > 0)
    summed = pd.Series(weight[valid]).groupby(ka[valid] * ID_STRIDE + kb[valid]).sum()
    local_a, local_b = np.divmod(summed.index.to_numpy(), ID_STRIDE)  # k < ID_STRIDE: no overflow
    index = pd.MultiIndex.from_arrays([a.t * ID_STRIDE + local_a, b.t * ID_STRIDE + local_b])
    return pd.Series(summed.to_numpy(), index=index)


def register(a: CandidateFrame, b: CandidateFrame) -> np.ndarray:
    """The translation (pixels, per axis) that best maps frame a's candidates onto frame b's."""
    from skimage.registration import phase_cross_correlation

    if not a.leaves.any() or not b.leaves.any():
        return np.zeros(a.leaves.ndim)
    drift, _, _ = phase_cross_correlation(b.leaves > 0, a.leaves > 0)
    return np.asarray(drift, dtype=float)


def _shifts(frame: CandidateFrame, axes: list[str]) -> np.ndarray | None:
    """Each candidate's expected displacement to the next frame, or None when none is stored."""
    columns = [f"shift_{a}" for a in axes]
    if not set(columns) <= set(frame.segments.columns):
        return None
    shift = frame.segments[columns].to_numpy(dtype=float)
    if np.isnan(shift).any() or not shift.any():
        return None
    return shift


def shifted_overlaps(
    a: CandidateFrame,
    b: CandidateFrame,
    sources: np.ndarray,
    targets: np.ndarray,
    moved: dict[int, np.ndarray],
) -> np.ndarray:
    """Pixels shared by each (source, target) pair once the source is moved by ``moved[source]``."""
    masks_a: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    masks_b: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def get(
        frame: CandidateFrame, cache: dict[int, tuple[np.ndarray, np.ndarray]], i: int
    ) -> tuple[np.ndarray, np.ndarray]:
        if i not in cache:
            mask, box = frame.mask(i)
            cache[i] = (mask, np.array([s.start for s in box]))
        return cache[i]

    shared = np.zeros(len(sources))
    for n, (i, j) in enumerate(zip(sources.tolist(), targets.tolist(), strict=True)):
        mask_a, lo_a = get(a, masks_a, i)
        mask_b, lo_b = get(b, masks_b, j)
        lo_a = lo_a + moved[i]
        lo = np.maximum(lo_a, lo_b)
        hi = np.minimum(lo_a + mask_a.shape, lo_b + mask_b.shape)
        if np.any(hi <= lo):
            continue
        crop_a = tuple(slice(x - o, y - o) for x, y, o in zip(lo, hi, lo_a, strict=True))
        crop_b = tuple(slice(x - o, y - o) for x, y, o in zip(lo, hi, lo_b, strict=True))
        shared[n] = np.count_nonzero(mask_a[crop_a] & mask_b[crop_b])
    return shared


def _and_overlapping(
    pairs: pd.DataFrame,
    inter: pd.Series,
    a: CandidateFrame,
    b: CandidateFrame,
    pos_a: np.ndarray,
    pos_b: np.ndarray,
    max_distance: float | None,
) -> pd.DataFrame:
    """``pairs`` (the nearest neighbours by centre) and every overlapping pair within
    ``max_distance``: the best by overlap need not be among the nearest centres. A blob holding
    two cells has the candidates of both around its centre, and the whole of a cell that ran into
    it from one side, its centre farther off than a dozen fragments, was left out of its transitions."""
    source, target = (np.asarray(inter.index.get_level_values(i), dtype=np.int64) for i in (0, 1))
    i = a.segments.index.get_indexer(source)
    j = b.segments.index.get_indexer(target)
    known = (i >= 0) & (j >= 0)
    i, j, source, target = i[known], j[known], source[known], target[known]
    distance = np.linalg.norm(pos_a[i] - pos_b[j], axis=1) if len(i) else np.zeros(0)
    near = distance <= (np.inf if max_distance is None else max_distance)
    extra = pd.DataFrame({"source": source[near], "target": target[near], "distance": distance[near]})
    return pd.concat([pairs, extra], ignore_index=True).drop_duplicates(
        ["source", "target"], ignore_index=True
    )


def frame_links(
    a: CandidateFrame, b: CandidateFrame, params: LinkingConfig, voxel_size: np.ndarray
) -> pd.DataFrame:
    """The transitions into frame b's candidates from frame a's: neighbours, IoU, weight
    (``overlap - distance_weight * distance``, the overlap per ``params.overlap``). Neighbours
    are the 2 ``max_neighbors`` nearest centres within ``max_distance`` and, unshifted, every
    candidate within it that overlaps (shifted, each pair's overlap is mask work: the nearest only)."""
    columns = ["source", "target", "weight", "iou", "distance"]
    if a.segments.empty or b.segments.empty:
        return pd.DataFrame({c: [] for c in columns})
    axes = ["z", "y", "x"] if len(voxel_size) == 3 else ["y", "x"]
    shift = _shifts(a, axes)
    if shift is None and params.register_frames:
        drift = register(a, b)
        shift = np.broadcast_to(drift, (len(a.segments), len(drift))) if drift.any() else None
    pos_a = (a.segments[axes].to_numpy() + (0 if shift is None else shift)) * voxel_size
    pos_b = b.segments[axes].to_numpy() * voxel_size
    k = min(2 * params.max_neighbors, len(pos_a))
    dist, idx = cKDTree(pos_a).query(pos_b, k=k, distance_upper_bound=params.max_distance)
    dist, idx = dist.reshape(len(pos_b), k), idx.reshape(len(pos_b), k)
    found = np.isfinite(dist)
    target_i, _ = np.nonzero(found)
    pairs = pd.DataFrame(
        {
            "source": a.segments.index.to_numpy()[idx[found]],
            "target": b.segments.index.to_numpy()[target_i],
            "distance": dist[found],
        }
    )
    if shift is None:
        inter = frame_overlaps(a, b)
        pairs = _and_overlapping(pairs, inter, a, b, pos_a, pos_b, params.max_distance)
    if pairs.empty:
        return pd.DataFrame({c: [] for c in columns})
    if shift is None:
        key = pd.MultiIndex.from_arrays([pairs.source.to_numpy(), pairs.target.to_numpy()])
        shared = inter.reindex(key).fillna(0).to_numpy()
    else:
        moved = dict(zip(a.segments.index, np.rint(shift).astype(np.int64), strict=True))
        shared = shifted_overlaps(a, b, pairs.source.to_numpy(), pairs.target.to_numpy(), moved)
    area_a = a.segments.area.reindex(pairs.source).to_numpy()
    area_b = b.segments.area.reindex(pairs.target).to_numpy()
    pairs["iou"] = shared / (area_a + area_b - shared)
    overlap = pairs.iou if params.overlap == "iou" else shared / np.minimum(area_a, area_b)
    pairs["weight"] = overlap - params.distance_weight * pairs.distance
    if "intensity_mean" in a.segments and "intensity_std" in b.segments:
        mean_a = a.segments.intensity_mean.reindex(pairs.source).to_numpy()
        mean_b = b.segments.intensity_mean.reindex(pairs.target).to_numpy()
        std_b = b.segments.intensity_std.reindex(pairs.target).to_numpy()
        z = np.abs(mean_b - mean_a) / np.where(std_b > 0, std_b, np.inf)
        pairs = pairs[z <= params.z_score_threshold]
    best = pairs.sort_values(["target", "weight", "distance"], ascending=[True, False, True])
    best = best.groupby("target", sort=False).head(params.max_neighbors)
    return best[columns].reset_index(drop=True)


def link(
    dataset: str,
    config: Config | None = None,
    store: Store | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> LinkResult:
    """Add candidate transitions t -> t+1 to a segmented dataset (``[linking]`` settings).

    For each candidate of frame t+1, the candidates of frame t within ``max_distance`` (physical
    units) are its neighbours; each pair is weighted ``IoU - distance_weight * distance`` and the
    ``max_neighbors`` best are kept. With intensities, pairs more than ``z_score_threshold``
    standard deviations apart are dropped. ``overwrite`` replaces the dataset's links (and its
    solution, which depends on them); an interrupted run resumes where it stopped when run again
    with the same settings.
    """
    config = config or Config()
    with opened(store) as opened_store:
        return _link(opened_store, dataset, config, overwrite, progress)


def linking_config(config: Config, info: DatasetInfo) -> Config:
    """``config`` with an unset ``max_distance`` from the cells ``segment`` measured (logged)."""
    cells = Calibration(None, info.props.get("cell_area"), info.props.get("cell_motion"), info.voxel)
    return resolve_section(config, cells, "linking")


def _link(store: Store, dataset: str, config: Config, overwrite: bool, progress: bool) -> LinkResult:
    with store.writing(dataset, Stage.LINK):
        info = store.info(dataset)
        info.require(Stage.SEGMENT)
        config = linking_config(config, info)
        settings = config.linking.model_dump_json()
        start = _start_frame(store, info, settings, overwrite)
        if start is None:
            store.begin_stage(dataset, Stage.LINK, config=settings, next_frame=0)
        else:
            store.begin_stage(dataset, Stage.LINK, resume_at=start)
        voxel = np.asarray(info.voxel, dtype=float)
        masks = CandidateMasks(store, dataset)
        t_min, t_max, _ = store.time_range(dataset)
        started = time.perf_counter()
        pending: list[pd.DataFrame] = []
        written = 0
        writing: Future[int] | None = None
        frames = range(max(t_min, start or 0), t_max + 1)
        bar = tqdm(
            total=max(len(frames) - 1, 0), desc="linking", unit="frame", disable=None if progress else True
        )
        # the next frames are read ahead in threads, and one batch is written in a thread while the
        # next is computed; batches go in order, each recording where a cut run resumes once it is in
        with closing(masks.frames(frames)) as loaded, ThreadPoolExecutor(1) as writer, bar:
            for a, b in pairwise(loaded):
                links = frame_links(a, b, config.linking, voxel)
                if links.empty:
                    log.info("frames %d -> %d: no links", a.t, b.t)
                pending.append(links)
                if sum(map(len, pending)) >= store.batch_size or b.t == t_max:
                    written += writing.result() if writing else 0  # a failed write stops the run here
                    writing = writer.submit(
                        _write, store, dataset, pd.concat(pending, ignore_index=True), b.t
                    )
                    pending = []
                bar.update()
            written += writing.result() if writing else 0
        # counted as written from scratch; a resumed run counts what the cut run left too (a scan)
        n_links = written if start is None else store.count_links(dataset)
        seconds = time.perf_counter() - started
        store.finish_stage(dataset, Stage.LINK, count=n_links)
    log.info("linked %r: %d links in %.1f s", dataset, n_links, seconds)
    return LinkResult(dataset, n_links, seconds)


def _write(store: Store, dataset: str, links: pd.DataFrame, next_frame: int) -> int:
    """One batch of links, then the frame a cut run resumes at (after the batch is in)."""
    n = store.write_links(dataset, links)
    store.update_dataset(dataset, link_next_frame=next_frame)
    return n


def _start_frame(store: Store, info: DatasetInfo, settings: str, overwrite: bool) -> int | None:
    """None to link from scratch; else the frame where an interrupted run with these settings stopped."""
    state = info.link
    if overwrite:
        return None
    if state.status is None:
        if store.count_links(info.name):
            raise DatasetExistsError(
                f"dataset {info.name!r} holds links that `link` did not make: replace them with --overwrite"
            )
        return None
    if state.done:
        raise DatasetExistsError(
            f"dataset {info.name!r} is linked already ({state.attrs.get('count')} links): replace its "
            "links with --overwrite"
        )
    if state.config != settings:
        raise InputError(
            f"linking of dataset {info.name!r} was interrupted, and the [linking] settings changed "
            "since: resume with the same settings, or start again with --overwrite"
        )
    log.info("resuming the links of %r at frame %d", info.name, state.next_frame or 0)
    return state.next_frame or 0
