"""The sections of the configuration; the TOML file has one table per section."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from neotrack.io._crop import Span, check_span, format_roi, format_span, parse_roi, parse_span

NOT_A_NUMBER = "not_a_number"
"""Error type of a bool given for a number, or of NaN or an infinity (messages name the value)."""
BAD_RANGE = "bad_range"
"""Error type of a ``START:STOP`` range that cannot be read or is empty."""


class _Section(BaseModel):
    """A table of the TOML file: unknown keys refused, numbers finite and never booleans."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """Refuse ``true`` for a number (pydantic would read 1) and NaN or infinities, in (nested)
        tuples too."""
        assert info.field_name is not None
        types = _types(cls.model_fields[info.field_name].annotation)
        if not types & {int, float} or bool in types:
            return value
        for item in _flat(value) if tuple in types else [value]:
            if isinstance(item, bool):
                raise PydanticCustomError(NOT_A_NUMBER, f"expected a number, got {_toml(item)}")
            if isinstance(item, float) and not math.isfinite(item):
                raise PydanticCustomError(NOT_A_NUMBER, f"expected a finite number, got {_toml(item)}")
        return value


def _types(annotation: Any) -> set[Any]:
    """The classes an annotation admits, unions and containers unpacked (``tuple[float, ...]``: both)."""
    args = get_args(annotation)
    if not args:
        return {annotation} if isinstance(annotation, type) else set()
    origin = getattr(annotation, "__origin__", None)
    found = {origin} if isinstance(origin, type) else set()
    return found.union(*(_types(a) for a in args))


def _flat(value: Any) -> list[Any]:
    """The items of nested lists and tuples (a value that is neither: itself)."""
    if not isinstance(value, list | tuple):
        return [value]
    return [item for v in value for item in _flat(v)]


def _ranged(read: Callable[[Any], Any], value: Any) -> Any:
    """``read(value)`` (parse or check a range), its ValueError a pydantic error with a plain message."""
    try:
        return read(value)
    except ValueError as exc:
        raise PydanticCustomError(BAD_RANGE, str(exc)) from None


def _toml(value: bool | float) -> str:
    """A bool or non-finite float as TOML writes it (``true``, ``nan``, ``-inf``)."""
    if isinstance(value, bool):
        return str(value).lower()
    return "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"


class DataConfig(_Section):
    """Where inputs and outputs are, and how to read the inputs."""

    working_dir: Path | None = None
    """Folder for pixel outputs (candidate masks, flow fields), one sub-folder per dataset named by
    its id; None: ``NEOTRACK_WORKING_DIR``, else the store's data home (never the current directory)."""
    voxel_size: tuple[float, ...] | None = None
    """Physical size of a voxel per spatial axis, (z, y, x) or (y, x); None means 1 everywhere."""
    axes: str | None = None
    """Axis order of the input, e.g. ``tyxc`` or ``tzyx``; None: from the file (ilastik ``axistags``)
    or T(Z)YX."""
    channel: int | None = None
    """Channel to use when the input has a channel axis (ilastik: the foreground label's channel)."""
    internal_path: str | None = None
    """Array inside an HDF5 file or zarr group, e.g. ``exported_data``; also ``file.h5/exported_data``."""
    frames: tuple[int | None, int | None] | None = None
    """Frames to use, ``START:STOP`` as a Python slice (``"2:10"``, ``"-50:"``: the last 50); None:
    all. The dataset is this part of the movie: its frames count from 0, and the offset is recorded
    with it (``frame_offset``). A bound beyond the movie is an error, not clipped."""
    roi: tuple[tuple[int | None, int | None], ...] | None = None
    """Region of interest of every frame, one ``START:STOP`` per spatial axis: ``"Y0:Y1,X0:X1"`` or
    ``"Z0:Z1,Y0:Y1,X0:X1"`` (two ranges on 3D frames keep every z); None: whole frames. Coordinates
    are then the region's, and its origin is recorded with the dataset (``roi_origin``)."""
    n_workers: int = Field(default=1, ge=1)
    """Processes for per-frame work (preprocessing, segmentation)."""

    @field_validator("axes")
    @classmethod
    def _axes(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.lower()
        if not set(value) <= set("tczyx") or len(set(value)) != len(value) or "t" not in value:
            raise ValueError(f"axes must use each of t, c, z, y, x at most once and include t: {value!r}")
        if "y" not in value or "x" not in value:
            raise ValueError(f"axes must include y and x: {value!r}")
        return value

    @field_validator("frames", mode="before")
    @classmethod
    def _frames(cls, value: Any) -> Any:
        return _ranged(parse_span, value) if isinstance(value, str) else value

    @field_validator("roi", mode="before")
    @classmethod
    def _roi(cls, value: Any) -> Any:  # read here, checked below
        if isinstance(value, str):
            return _ranged(parse_roi, value)
        if isinstance(value, list | tuple):
            return tuple(_ranged(parse_span, v) if isinstance(v, str) else v for v in value)
        return value

    @field_validator("frames")
    @classmethod
    def _frames_not_empty(cls, value: Span | None) -> Span | None:
        return None if value is None else _ranged(check_span, value)

    @field_validator("roi")
    @classmethod
    def _roi_ranges(cls, value: tuple[Span, ...] | None) -> tuple[Span, ...] | None:
        if value is None:
            return None
        if len(value) not in (2, 3):
            raise PydanticCustomError(
                BAD_RANGE, f"expected Y0:Y1,X0:X1 or Z0:Z1,Y0:Y1,X0:X1, got {len(value)} range(s)"
            )
        return tuple(_ranged(check_span, span) for span in value)

    @field_serializer("frames", when_used="json-unless-none")
    def _frames_text(self, value: Span) -> str:
        """``"2:10"`` in TOML and JSON (TOML has no null for an open end)."""
        return format_span(value)

    @field_serializer("roi", when_used="json-unless-none")
    def _roi_text(self, value: tuple[Span, ...]) -> str:
        return format_roi(value)

    @field_validator("voxel_size")
    @classmethod
    def _voxel_size(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is not None and (len(value) not in (2, 3) or min(value) <= 0):
            raise ValueError(f"voxel_size needs 2 or 3 positive values, got {value}")
        return value


class PreprocessingConfig(_Section):
    """How images become a foreground map and a boundary map (per frame)."""

    foreground: Literal["detect", "threshold"] = "detect"
    """``detect``: raw intensities, foreground where they stand above the background (see
    ``threshold_method``); ``threshold``: the input is a probability map, smoothed and thresholded
    (ilastik's thresholding applet)."""
    boundaries: Literal["invert", "probability"] = "invert"
    """``invert``: normalised, inverted intensities (ultrack's ``robust_invert``);
    ``probability``: one minus the smoothed probability map."""
    sigma: float | None = Field(default=None, gt=0)
    """``detect``: subtract a Gaussian background of this sigma (physical units) first; None: no
    subtraction (ultrack always subtracts, with 15; that must span several cell diameters)."""
    min_foreground: float = Field(default=0.0, ge=0)
    """``detect``: lowest accepted threshold, in intensity units above the darkest pixel."""
    threshold_method: Literal["background", "otsu", "triangle", "li"] = "background"
    """``detect``: ``background``: ``noise_factor`` noise deviations above the background level, both
    estimated from the background alone, so frames with few cells are thresholded like full ones;
    ``otsu``, ``triangle``, ``li``: histogram thresholds of log intensities (they cut into the
    noise of frames with few cells). Over the sequence, a frame whose foreground fraction jumps
    from its neighbours' gets their threshold."""
    noise_factor: float = Field(default=5.0, gt=0)
    """``background``: how many noise deviations above the background level the foreground starts
    (of the lightly smoothed image: at 5, noise alone reaches it in fewer than 1 pixel per million)."""
    remove_hist_mode: bool = False
    """``detect``: subtract the histogram's mode first (for a strong uniform background)."""
    invert_sigma: float = Field(default=1.0, ge=0)
    """``invert``: Gaussian smoothing before inverting, physical units."""
    lower_quantile: float | None = Field(default=None, ge=0, le=1)
    """``invert``: intensity quantile mapped to 0 (None: the minimum)."""
    upper_quantile: float = Field(default=0.9999, gt=0, le=1)
    """``invert``: intensity quantile mapped to 1."""
    smooth_sigma: float | tuple[float, ...] = 1.0
    """``threshold`` and ``probability``: Gaussian sigma per spatial axis in pixels (0: none)."""
    prob_threshold: float = Field(default=0.5, ge=0, le=1)
    """``threshold``: the threshold; with ``prob_low_threshold`` the high (seed) one."""
    prob_low_threshold: float | None = Field(default=None, ge=0, le=1)
    """``threshold``: a second, lower threshold (hysteresis: regions above it that reach the high one)."""
    min_size: int = Field(default=0, ge=0)
    """``threshold``: objects below this many pixels are dropped."""
    max_size: int | None = Field(default=None, ge=1)
    """``threshold``: objects above this many pixels are dropped."""
    labels_sigma: float = Field(default=0.0, ge=0)
    """Label inputs: Gaussian smoothing of the averaged boundaries, pixels (0: none)."""

    @model_validator(mode="after")
    def _thresholds(self) -> PreprocessingConfig:
        if self.prob_low_threshold is not None and self.prob_low_threshold > self.prob_threshold:
            raise ValueError("prob_low_threshold must not exceed prob_threshold")
        if self.max_size is not None and self.max_size < self.min_size:
            raise ValueError("max_size must be at least min_size")
        return self


class SegmentationConfig(_Section):
    """Candidate segments from the watershed hierarchy of each foreground component."""

    threshold: float = 0.5
    """Foreground map values above this are foreground."""
    min_area: int | None = Field(default=None, ge=1)
    """Smallest candidate, in pixels/voxels (applied as is, not divided by 4 as in ultrack); None:
    a quarter of the typical cell (the median area of the foreground's objects)."""
    max_area: int | None = Field(default=None, ge=1)
    """Largest candidate, in pixels/voxels; None: three typical cells."""
    min_frontier: float = Field(default=0.0, ge=0)
    """Regions whose contour is weaker than this (mean boundary value) are merged into their parent."""
    ws_hierarchy: Literal["area", "dynamics", "volume"] = "area"
    """Watershed hierarchy attribute (higra)."""
    anisotropy_penalization: float = 0.0
    """Added to the boundary weight of edges along z (3D): > 0 splits along z more readily."""
    max_noise: float = Field(default=0.0, ge=0)
    """Uniform noise in [0, max_noise) added to the boundaries (seeded by frame) to break ties."""

    @model_validator(mode="after")
    def _areas(self) -> SegmentationConfig:
        if self.max_area is not None and self.min_area is not None and self.max_area < self.min_area:
            raise ValueError(f"max_area ({self.max_area}) must be >= min_area ({self.min_area})")
        return self


class LinkingConfig(_Section):
    """Candidate transitions t -> t+1 between nearby candidates."""

    max_distance: float | None = Field(default=None, gt=0)
    """Largest centroid displacement between frames, physical units (``data.voxel_size``); None:
    1.5 typical cell radii (where daughters appear), or twice the 95th percentile of how far the
    foreground's objects move between frames when that is farther."""
    max_neighbors: int = Field(default=5, ge=1)
    """At most this many transitions into each candidate, the best by weight."""
    distance_weight: float = Field(default=0.0, ge=0)
    """weight = overlap - distance_weight * distance."""
    overlap: Literal["iou", "coverage"] = "iou"
    """Overlap measure of a pair: ``iou`` (ultrack), or ``coverage`` = shared pixels / area of the
    smaller segment, which also scores a daughter lying inside her mother highly."""
    z_score_threshold: float = Field(default=5.0, gt=0)
    """Drop pairs whose mean intensities differ by more than this many standard deviations."""
    register_frames: bool = False
    """Before linking each frame pair, find the pair's global translation by phase correlation of
    their candidate masks and shift every candidate by it (stage drift, jumps of the field of view)."""
    motion_passes: int = Field(default=0, ge=0)
    """``track``: after solving, shift every candidate by the median motion of its solved
    neighbours, link and solve again; this many times (for dense tissue that drifts or expands)."""
    motion_neighbors: int = Field(default=8, ge=1)
    """Solved neighbours whose motion predicts a candidate's."""


class TrackingConfig(_Section):
    """The integer program that picks segments and lineages (objective maximised)."""

    solver: Literal["auto", "HIGHS", "CBC", "GUROBI"] = "auto"
    """``auto``: Gurobi when installed and licensed, else HiGHS (else CBC, when highspy cannot be
    loaded). On HeLa/01's windows HiGHS is 2.1-2.3x faster than CBC
    (``bench/bench_solve.py windows --solver CBC``); both are free."""
    appear_weight: float = -0.1
    """Reward (negative: cost) of a track starting, except in the first frame (and, with
    ``image_border_size``, less near the edge). Cells do not arise from nothing: inside the field a
    new track is far more often a daughter than a newcomer, so starting one costs ten divisions."""
    disappear_weight: float = -0.1
    """Reward (negative: cost) of a track ending, except in the last frame: cells rarely vanish
    inside the field, so a track that can continue pays to end."""
    division_weight: float = -0.01
    """Reward (negative: cost) of a division: cheaper than starting a track, so a new segment next
    to a cell (within ``linking.max_distance``) is taken for her daughter, even when the daughter has
    already moved off her mother and overlaps her little (as in movies with long frame intervals)."""
    segment_weight: float = 0.05
    """Reward of each selected segment (> 0 keeps isolated cells; < 0 discourages fragments)."""
    image_border_size: tuple[float, ...] | None = None
    """Width (pixels, per spatial axis) of a band at the image edge in which appearing and
    disappearing cost less, linearly down to nothing at the edge (ilastik's border-aware ramp)."""
    size_weighted: bool = True
    """Scale each transition's reward by the size of the segments it joins, sqrt(area_a area_b),
    relative to the window's median candidate area: a cell's fragments then share its reward
    instead of each earning one (ultrack's per-transition rewards make fragments win)."""
    size_cap: float | None = Field(default=1.25, gt=0)
    """Size weighting counts a candidate's area up to this many typical cells (the cell area that
    ``segment`` measured, a median): a nucleus's area grows by about 2^(2/3) = 1.6 over its cycle as
    its volume doubles, so the largest, about to divide, are 2^(1/3) = 1.26 times a mid-cycle one; a
    candidate beyond that more likely holds two touching cells than one, and earns more as two.
    A larger nucleus still wins over its fragments where those overlap their successors less well
    (None: no cap, every pixel counts alike)."""
    max_objects_per_merger: int = Field(default=1, ge=1)
    """Cells one segment may hold (ilastik's parameter): 1, every segment is one cell; above 1,
    touching or overlapping nuclei that no candidate separates can be one segment holding several
    cells (as many as its area holds: ``merger_area``), counted through transitions, appearances
    and disappearances so that each keeps its track through the merger (``solve/_counts.py``);
    after the solve each merger is split into its cells (``solve/_mergers.py``). ``solve_window``
    takes 1 for now."""
    merger_area: float = Field(default=0.55, gt=0)
    """A segment holds k >= 2 cells only where its area is at least k times this many typical cells:
    overlapping nuclei hide part of each other, and a young nucleus is about 0.8 of the median
    (its area grows 1.6-fold over the cycle), so two young nuclei with centres 0.6 radii apart are
    one blob of about 1.1 median cells. Between one and two cells' area size cannot tell one large
    nucleus from two overlapping ones: the tracks through the segment decide (``merger_weight``)."""
    merger_weight: float = -0.005
    """Reward (negative: cost) per cell a segment holds beyond one, per frame; only with
    ``max_objects_per_merger`` above 1. What one cell per segment makes of a merger costs 0.11 (a
    track ending in the blob, ``disappear_weight``, and a false division after it,
    ``division_weight``) or 0.2 (ending and appearing again); a merger lasting up to 20 frames costs
    less, and so wins where the tracks show two cells going in and out, as ilastik's appearance
    and disappearance costs outweigh its count evidence. Each frame still costs, so no cell is
    made to appear inside a large nucleus (``appear_weight``) for nothing."""
    merger_shape: float = Field(default=0.02, ge=0)
    """Weight of the shape evidence for a merger, per cell a segment holds beyond one, per frame: w
    (clip(log2(e / e1), 0, 1.5) - 1/2), e its elongation (ratio of its principal axes) and e1 a
    typical single cell's (the median of candidates of about a typical cell's area). Two cells side by
    side are about twice as long as one: log2 = 1, and their merger earns w / 2 (w at most, for two
    long ones); a segment as round as a single cell pays w / 2 more. 2D only for now. Size cannot tell
    sisters that stay touching after division from their mother before it (their blob has her area and
    her DNA), nor a round mother from two overlapping nuclei; shape can, and decides when a division
    into a merged segment happened (0: none, the tracks alone decide)."""
    max_gap: int = Field(default=1, ge=1)
    """Most frames a transition spans: 1, consecutive frames only; 2 also joins a track that ends at
    frame t to one that starts at t + 2 near where it ended (a cell missed in one frame), 3 over
    two missed frames, and so on (ilastik's skip links, ultrack's ``close_tracks_gaps``). Joined
    after the program has chosen the tracks, as the best matching of ends to starts
    (``solve/_gaps.py``); the join starts a track of its own, whose parent is the one that ended."""
    gap_weight: float = -0.05
    """Reward (negative: cost) of a join over missing frames, per frame missed: a join pays back the
    appearance and disappearance it saves (0.2 inside the field), less a share growing with the
    distance (all of it at ``max_distance`` per frame spanned), less this per missed frame; so a
    cell missed in one frame is joined up to 1.5 ``linking.max_distance`` from where it was."""
    link_function: Literal["power", "identity"] = "power"
    """Transition weight transform: ``sign(w) |w|**power + bias``, or ``w + bias``."""
    power: float = Field(default=2.0, gt=0)
    """Exponent of the ``power`` link function (ultrack: 4, which all but ignores the moderate
    overlap of a mother with her daughters: on SIM+ power 2 found 19 of 28 divisions, power 4 11)."""
    bias: float = 0.0
    window_size: int | None = Field(default=None, ge=3)
    """Frames per window; None: each window as many frames as hold at most ``window_candidates``
    candidates (all frames at once when the whole movie holds fewer)."""
    window_candidates: int = Field(default=3000, ge=1)
    """The candidates one window may hold when ``window_size`` is not set (counted frame by frame,
    so a crowded end of a movie gets shorter windows): the solver's time grows faster than the
    window, so bounded windows keep long movies at a bounded cost and memory per frame. Larger
    budgets did not track better: HeLa/01 TRA 0.9539 at 3,000, 0.9504 at 10,000, 0.9498 at 30,000
    (at the same 0.1 % gap a larger window leaves more room from its optimum)."""
    overlap_size: int = Field(default=1, ge=1)
    """Frames a window looks ahead beyond what it commits (at least 1: a cell first seen in a
    window's last committed frame would otherwise pay its appearance without the transitions that
    repay it, which lie in the next window, and be dropped)."""
    solution_gap: float = Field(default=0.001, ge=0)
    """Relative MIP gap at which the solver stops."""
    time_limit: float = Field(default=36_000, gt=0)
    """Seconds per window."""
    n_threads: int = -1
    """Solver threads; -1 lets the solver choose."""

    @model_validator(mode="after")
    def _windows(self) -> TrackingConfig:
        if self.window_size is not None and self.window_size < self.overlap_size + 3:
            raise ValueError("window_size must be at least overlap_size + 3")
        return self


class FlowConfig(_Section):
    """Dense displacement fields between frames (``timelapse_flow``), to follow fast cells."""

    n_scales: int = Field(default=4, ge=1)
    """Coarse-to-fine levels (per axis, never below 8 px: short z axes need no hand tuning)."""
    reduce: int = Field(default=4, ge=1)
    """The field has one vector every ``reduce`` pixels per axis."""
    lr: float = Field(default=0.1, gt=0)
    """Adam step, in pixels of the current scale."""
    num_iterations: int = Field(default=200, ge=1)
    """Steps per scale."""
    smoothness: float = Field(default=3.0, ge=0)
    """Weight of the field's squared second differences (affine motion is free) against the images'
    difference."""
    min_shift: float = Field(default=1.0, ge=0)
    """``add_flow`` moves a candidate only when the field moves it farther than this many times its
    equivalent radius: closer, its overlaps already link it and the field's error can only hurt."""
    blur: float = Field(default=1.0, ge=0)
    """Extra Gaussian blur at every scale (in that scale's pixels), so that cells that moved more
    than their size still overlap: what lets the field follow motion of several cell diameters."""
