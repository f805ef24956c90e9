"""``track``: images in, lineages out — segment, link, solve, and a CTC result."""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from pathlib import Path
from typing import Any

from neotrack._outputs import CTC_FILES, check_output_folder
from neotrack.candidates import SegmentResult, segment
from neotrack.config import Config
from neotrack.errors import InputError
from neotrack.export import to_ctc
from neotrack.imgproc import Inputs
from neotrack.io import open_images
from neotrack.linking import LinkResult, estimate_shifts, link
from neotrack.solve import SolveResult, solve
from neotrack.store import Store, opened

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TrackResult:
    dataset: str
    out_dir: Path
    segmented: SegmentResult
    linked: LinkResult
    solved: SolveResult
    seconds: dict[str, float]


def dataset_name(images: Any) -> str:
    """A dataset name from an input path: its last two parts, e.g. ``Fluo-N2DH-SIM+-01``."""
    if not isinstance(images, str | Path):
        return "array"
    parts = [p for p in Path(images).resolve().parts if p not in ("/", "")]
    return re.sub(r"\s+", "_", "-".join(parts[-2:]))


def track(
    images: Any = None,
    out_dir: str | Path = "tracks",
    *,
    config: Config | None = None,
    dataset: str | None = None,
    labels: Any = None,
    store: Store | None = None,
    overwrite: bool = False,
    progress: bool = False,
    flow: bool = False,
) -> TrackResult:
    """Segment, link and solve, then write a Cell Tracking Challenge result to ``out_dir``.

    ``labels`` (a folder or array of label images of the same frames, or a list of them) replaces
    the segmentation: one stack's labels are the candidates; several are an ensemble of hypotheses,
    as in :func:`~neotrack.candidates.segment`. ``data.frames`` and ``data.roi`` crop every input
    alike: the dataset and the result are the cropped movie, frames counted from 0. The dataset name
    defaults to one derived from the input path; ``overwrite`` replaces a dataset of that name, and
    a previous CTC result in ``out_dir`` (and nothing else there). ``flow`` estimates the flow field
    of the images (``[flow]`` settings; ``flow.zarr`` in the dataset's pixel folder) and moves every
    candidate by it before linking, to follow fast cells. The output folder is checked before any
    work starts.
    """
    config = config or Config()
    name = dataset or dataset_name(images if images is not None else _first(labels))
    label_list = labels if isinstance(labels, list | tuple) else [labels]
    inputs = [p for p in (images, *label_list) if isinstance(p, str | Path)]
    out = Path(out_dir)
    check_output_folder(out, CTC_FILES, overwrite, inputs)
    Inputs.open(config, images=images, labels=labels)  # unreadable inputs, a bad crop: before any dataset
    with opened(store) as store, store.writing(name, "track", create={}) as created:
        try:
            return _track(store, name, images, labels, out, config, overwrite, progress, flow)
        except InputError:
            if created and not store.info(name).segment.done:  # bad input: nothing worth keeping
                store.delete_dataset(name)
            raise


def _track(
    store: Store,
    name: str,
    images: Any,
    labels: Any,
    out: Path,
    config: Config,
    overwrite: bool,
    progress: bool,
    flow: bool,
) -> TrackResult:
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    segmented = segment(
        images,
        dataset=name,
        config=config,
        labels=labels,
        store=store,
        overwrite=overwrite,
        progress=progress,
    )
    seconds["segment"] = time.perf_counter() - t0
    if flow:
        from neotrack.flow import add_flow, timelapse_flow  # JAX: loaded only when a flow is asked for

        t0 = time.perf_counter()
        field_path = store.pixels(name) / "flow.zarr"
        # labels are read without data.axes/channel, as segment reads them; both are cropped alike
        source = images if images is not None else open_images(_first(labels))
        timelapse_flow(source, field_path, config, overwrite=True, progress=progress)
        add_flow(name, field_path, store, config.flow.min_shift)
        seconds["flow"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    linked = link(name, config, store, overwrite=True, progress=progress)
    seconds["link"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    solved = solve(name, config, store, progress=progress)
    seconds["solve"] = time.perf_counter() - t0
    for _ in range(config.linking.motion_passes):
        t0 = time.perf_counter()
        estimate_shifts(store, name, config.linking.motion_neighbors)
        linked = link(name, config, store, overwrite=True, progress=progress)
        solved = solve(name, config, store, progress=progress)
        seconds["motion passes"] = seconds.get("motion passes", 0.0) + time.perf_counter() - t0
    t0 = time.perf_counter()
    written = to_ctc(name, out, store, overwrite=overwrite, progress=progress)
    seconds["export"] = time.perf_counter() - t0
    log.info("tracked %r: %s", name, ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
    return TrackResult(name, written, segmented, linked, solved, seconds)


def _first(labels: Any) -> Any:
    """The first of one or several label stacks."""
    if isinstance(labels, list | tuple):
        return labels[0] if labels else None
    return labels
