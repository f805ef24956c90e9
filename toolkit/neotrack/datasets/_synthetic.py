"""Synthetic time-lapses of nuclei with known lineages: they move, divide, enter and leave, and,
when asked, two of them run into each other and stay one blob for a few frames (a merger)."""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import ndimage as ndi

from neotrack.errors import InputError

log = logging.getLogger(__name__)

MERGER_COLUMNS = ("t", "merger", "L")
SEPARATION = 0.6
"""Centres of two merged nuclei lie this many radii (of the smaller) apart, or as far as their
markers need to stay apart (a small daughter beside a grown cell): their union is one blob,
at most about 1.3 times as long as wide, without a neck or a boundary between them."""
MARKER = 0.25
"""Ground-truth markers are discs of this many nucleus radii (at least 1.5 px), centred on the
nuclei: disjoint even inside a merger, as CTC's TRA markers may be."""

FlowFn = Callable[[np.ndarray, int], np.ndarray]
"""Displacement (N, ndim) in pixels for positions (N, ndim) at frame t."""


@dataclasses.dataclass(frozen=True)
class SyntheticScene:
    """A generated time-lapse with its ground truth in Cell Tracking Challenge terms.

    Attributes:
        images: (T, [Z,] Y, X) uint16 raw frames.
        labels: (T, [Z,] Y, X) uint16, one label per track (as CTC ``man_trackXXX.tif``).
        tracks: Columns ``L, B, E, P``: label, first frame, last frame, parent label (0 = none).
        voxel_size: Physical size of a voxel per spatial axis.
        mergers: The true mergers, one row per cell in one: ``t, merger, L`` (frame, the merger's
            number, the label of a cell it holds); empty unless ``simulate(mergers=...)``.
        missed: The cells not rendered in a frame (``t, L``: the frame, the label of the cell's
            track when it went unseen); empty unless ``simulate(missed=...)``.
    """

    images: np.ndarray
    labels: np.ndarray
    tracks: pd.DataFrame
    voxel_size: tuple[float, ...]
    mergers: pd.DataFrame = dataclasses.field(
        default_factory=lambda: pd.DataFrame({k: np.zeros(0, np.int64) for k in MERGER_COLUMNS})
    )
    missed: pd.DataFrame = dataclasses.field(
        default_factory=lambda: pd.DataFrame({k: np.zeros(0, np.int64) for k in ("t", "L")})
    )

    @property
    def n_frames(self) -> int:
        return int(self.images.shape[0])

    @property
    def n_divisions(self) -> int:
        """Tracks with two daughters (a track with one child continues over frames it was unseen)."""
        parents = self.tracks["P"][self.tracks["P"] > 0]
        return int((parents.value_counts() >= 2).sum())


@dataclasses.dataclass
class _Cells:
    pos: np.ndarray  # (N, ndim) float, pixels
    vel: np.ndarray  # (N, ndim)
    radius: np.ndarray  # (N,) in pixels of the in-plane axes
    brightness: np.ndarray  # (N,)
    label: np.ndarray  # (N,) int
    age: np.ndarray  # (N,) frames since birth
    merged_for: np.ndarray  # (N,) frames the merger still lasts
    merger: np.ndarray  # (N,) number of the merger it is in (its two cells share it), 0: none
    side: np.ndarray  # (N, ndim) unit direction (physical) from the other cell's side to its own


def simulate(
    n_frames: int = 30,
    shape: Sequence[int] = (256, 256),
    n_cells: int = 12,
    radius: float = 8.0,
    speed: float = 1.5,
    division_rate: float = 0.03,
    appear_rate: float = 0.05,
    drift: Sequence[float] | None = None,
    flow: FlowFn | None = None,
    noise: float = 8.0,
    voxel_size: Sequence[float] | None = None,
    seed: int = 0,
    mergers: float = 0.0,
    merge_frames: int = 3,
    markers: bool = False,
    missed: float = 0.0,
) -> SyntheticScene:
    """Simulate nuclei in 2D+t (``shape=(Y, X)``) or 3D+t (``shape=(Z, Y, X)``).

    Args:
        n_frames: Number of frames T.
        shape: Spatial shape of a frame.
        n_cells: Cells at frame 0.
        radius: Nucleus radius in in-plane pixels; z extent follows ``voxel_size``.
        speed: Standard deviation of the per-frame random velocity, pixels.
        division_rate: Probability per cell and frame of dividing (after 5 frames of age).
        appear_rate: Expected cells entering through the image border per frame.
        drift: Constant displacement per frame added to every cell (global drift).
        flow: Optional displacement field ``flow(positions, t)`` added to every cell's motion.
        noise: Standard deviation of the Gaussian camera noise, in grey levels.
        voxel_size: Physical voxel size per axis (default 1, with z = 2 in 3D).
        seed: Random seed; equal seeds give equal scenes.
        mergers: Expected mergers starting per frame: a cell and its nearest neighbour (within
            three radii, neither dividing nor merged already) run together and stay one blob for
            ``merge_frames`` frames — centres ``SEPARATION`` radii apart, one brightness — then
            part, each on its own side, and go on. Recorded in ``SyntheticScene.mergers``. The
            default 0 draws nothing more from the random generator: scenes are as before.
        merge_frames: Frames a merger lasts.
        markers: Ground truth as small disjoint discs on the nuclei' centres (``MARKER``) rather
            than whole nuclei: every cell of a merger keeps a marker of its own, so TRA can tell
            whether a tracker kept both (CTC allows markers as TRA ground truth).
        missed: Probability per cell and frame, but the first and the last, that the cell is not
            rendered (a nucleus out of focus, or bleached for a moment): a gap that tracking should
            bridge (``tracking.max_gap``). The ground truth has it as CTC does: the cell is absent
            in those frames, and seen again it continues as a new track whose parent is the one
            before the gap. Recorded in ``SyntheticScene.missed``. Drawn at random apart from the
            rest: the scene is the one ``missed=0`` gives, less the cells missed.
    """
    shape = tuple(int(s) for s in shape)
    ndim = len(shape)
    if ndim not in (2, 3) or min(shape) < 8:
        raise InputError(f"shape must be (Y, X) or (Z, Y, X) with sides >= 8, got {shape}")
    if n_frames < 1 or n_cells < 0:
        raise InputError(f"need n_frames >= 1 and n_cells >= 0, got {n_frames}, {n_cells}")
    if not 0 <= missed < 1:
        raise InputError(f"missed is a probability below 1, got {missed}")
    if mergers < 0 or merge_frames < 1:
        raise InputError(f"need mergers >= 0 and merge_frames >= 1, got {mergers}, {merge_frames}")
    spacing = (
        tuple(float(v) for v in voxel_size) if voxel_size else ((2.0, 1.0, 1.0) if ndim == 3 else (1.0, 1.0))
    )
    if len(spacing) != ndim:
        raise InputError(f"voxel_size needs {ndim} values, got {spacing}")
    # Radii per axis in pixels: a round nucleus in physical space.
    axis_scale = np.array([spacing[-1] / s for s in spacing])
    rng = np.random.default_rng(seed)
    unseen_rng = np.random.default_rng([seed, 1])  # (apart: the scene stays the one of missed=0)
    drift_v = np.zeros(ndim) if drift is None else np.asarray(drift, dtype=float)

    cells = _Cells(
        np.empty((0, ndim)),
        np.empty((0, ndim)),
        np.empty(0),
        np.empty(0),
        np.empty(0, dtype=int),
        np.empty(0, dtype=int),
        np.empty(0, dtype=int),
        np.empty(0, dtype=int),
        np.empty((0, ndim)),
    )
    merged_rows: list[tuple[int, int, int]] = []
    missed_rows: list[tuple[int, int]] = []
    n_mergers = 0
    tracks: dict[int, list[int]] = {}  # label -> [B, E, P]
    next_label = 1
    for _ in range(n_cells):
        next_label = _add_cell(
            cells, tracks, next_label, _random_inside(rng, shape, radius), radius, rng, t=0, parent=0
        )

    images = np.empty((n_frames, *shape), dtype=np.uint16)
    labels = np.zeros((n_frames, *shape), dtype=np.uint16)
    for t in range(n_frames):
        _separate(cells, axis_scale, shape)
        nuclei = _paint(cells, shape, axis_scale)
        labels[t] = _paint(cells, shape, axis_scale, MARKER) if markers else nuclei
        present = np.unique(labels[t])
        for lab in cells.label:  # a track exists exactly where its label is painted
            if lab in present:
                tracks[lab][1] = t
        merged_rows += [(t, int(m), int(lab)) for m, lab in zip(cells.merger, cells.label, strict=True) if m]
        if missed > 0 and 0 < t < n_frames - 1:
            unseen = cells.label[unseen_rng.random(len(cells.label)) < missed]
            unseen = unseen[np.isin(unseen, present)]
            missed_rows += [(t, int(lab)) for lab in unseen]
            nuclei = np.where(np.isin(nuclei, unseen), 0, nuclei)
        images[t] = _render(nuclei, cells, noise, rng)
        if t == n_frames - 1:
            break
        if mergers > 0:
            n_mergers = _merge(cells, rng.poisson(mergers), n_mergers, merge_frames, axis_scale, rng)
        next_label = _step(
            cells,
            tracks,
            next_label,
            shape,
            radius,
            speed,
            division_rate,
            appear_rate,
            drift_v,
            flow,
            rng,
            t,
            axis_scale,
        )

    if missed_rows:
        missed_rows = _unseen_in_truth(labels, tracks, missed_rows, merged_rows)
    table = pd.DataFrame(
        [(lab, b, e, p) for lab, (b, e, p) in sorted(tracks.items()) if e >= b],
        columns=["L", "B", "E", "P"],
    )
    merged = pd.DataFrame(merged_rows, columns=list(MERGER_COLUMNS), dtype=np.int64)
    unseen = pd.DataFrame(missed_rows, columns=["t", "L"], dtype=np.int64)
    scene = SyntheticScene(images, labels, table, spacing, merged, unseen)
    log.info(
        "simulated %d frames %s: %d tracks, %d divisions", n_frames, shape, len(table), scene.n_divisions
    )
    return scene


def _random_inside(rng: np.random.Generator, shape: tuple[int, ...], radius: float) -> np.ndarray:
    margin = np.minimum(np.array(shape) / 2 - 1, radius + 2)
    return rng.uniform(margin, np.array(shape) - margin)


def _add_cell(
    cells: _Cells,
    tracks: dict[int, list[int]],
    label: int,
    pos: np.ndarray,
    radius: float,
    rng: np.random.Generator,
    t: int,
    parent: int,
) -> int:
    cells.pos = np.vstack([cells.pos, pos])
    cells.vel = np.vstack([cells.vel, np.zeros(len(pos))])
    cells.radius = np.append(cells.radius, radius * rng.uniform(0.85, 1.15))
    cells.brightness = np.append(cells.brightness, rng.uniform(0.6, 1.0))
    cells.label = np.append(cells.label, label)
    cells.age = np.append(cells.age, 0)
    cells.merged_for = np.append(cells.merged_for, 0)
    cells.merger = np.append(cells.merger, 0)
    cells.side = np.vstack([cells.side, np.zeros(len(pos))])
    tracks[label] = [t, t - 1, parent]  # E < B until the label is painted
    return label + 1


def _keep(cells: _Cells, mask: np.ndarray) -> None:
    for field in dataclasses.fields(cells):
        setattr(cells, field.name, getattr(cells, field.name)[mask])


def _step(
    cells: _Cells,
    tracks: dict[int, list[int]],
    next_label: int,
    shape: tuple[int, ...],
    radius: float,
    speed: float,
    division_rate: float,
    appear_rate: float,
    drift: np.ndarray,
    flow: FlowFn | None,
    rng: np.random.Generator,
    t: int,
    axis_scale: np.ndarray,
) -> int:
    """Advance from frame t to t + 1: divide, move, leave, enter."""
    n = len(cells.label)
    dividing = (rng.random(n) < division_rate) & (cells.age >= 5) & (cells.merger == 0)
    for i in np.flatnonzero(dividing):
        direction = rng.normal(size=len(shape)) / axis_scale
        direction[:-2] = 0 if len(shape) == 3 and rng.random() < 0.7 else direction[:-2]
        direction /= np.linalg.norm(direction) + 1e-9
        offset = direction * cells.radius[i] * 0.75 * axis_scale
        for sign in (-1, 1):
            next_label = _add_cell(
                cells,
                tracks,
                next_label,
                cells.pos[i] + sign * offset,
                cells.radius[i] * 0.8,
                rng,
                t + 1,
                int(cells.label[i]),
            )
    _keep(cells, np.concatenate([~dividing, np.ones(len(cells.label) - n, bool)]))

    cells.vel = 0.6 * cells.vel + rng.normal(scale=speed, size=cells.vel.shape) * axis_scale
    move = cells.vel + drift
    if flow is not None and len(cells.label):
        move = move + np.asarray(flow(cells.pos, t), dtype=float)
    cells.pos = cells.pos + move
    cells.radius = np.minimum(cells.radius * 1.04, radius * 1.15)
    cells.age += 1
    _hold_mergers(cells, axis_scale)
    inside = np.all((cells.pos >= 0) & (cells.pos <= np.array(shape) - 1), axis=1)
    _keep(cells, inside)
    numbers, held = np.unique(cells.merger[cells.merger > 0], return_counts=True)
    _part(cells, np.isin(cells.merger, numbers[held == 1]))  # the other cell of its merger left

    for _ in range(rng.poisson(appear_rate)):
        pos = _random_inside(rng, shape, radius)
        axis = rng.integers(len(shape) - 2, len(shape))  # enter through a y or x border
        pos[axis] = rng.choice([radius * 0.5, shape[axis] - 1 - radius * 0.5])
        next_label = _add_cell(cells, tracks, next_label, pos, radius, rng, t + 1, 0)
    return next_label


def _merge(
    cells: _Cells,
    n_new: int,
    n_mergers: int,
    frames: int,
    axis_scale: np.ndarray,
    rng: np.random.Generator,
) -> int:
    """Start ``n_new`` mergers (fewer when no pair qualifies): a random free cell with its nearest
    free neighbour within three radii. Returns the number of mergers started so far."""
    for _ in range(n_new):
        free = np.flatnonzero((cells.merger == 0) & (cells.age >= 1))
        if len(free) < 2:
            break
        phys = cells.pos[free] / axis_scale
        i = int(rng.integers(len(free)))
        dist = np.linalg.norm(phys - phys[i], axis=1)
        dist[i] = np.inf
        j = int(np.argmin(dist))
        if dist[j] > 3 * max(cells.radius[free[i]], cells.radius[free[j]]):
            continue
        a, b = free[i], free[j]
        n_mergers += 1
        side = (phys[i] - phys[j]) / max(dist[j], 1e-9)
        cells.merged_for[[a, b]] = frames
        cells.merger[[a, b]] = n_mergers
        cells.side[a], cells.side[b] = side, -side
        cells.brightness[[a, b]] = cells.brightness[[a, b]].mean()  # no boundary of intensity
        cells.vel[[a, b]] = cells.vel[[a, b]].mean(axis=0)
    return n_mergers


def _hold_mergers(cells: _Cells, axis_scale: np.ndarray) -> None:
    """For the next frame: a merger that has lasted its frames parts (``_separate`` pushes the two
    apart, each to its own side); the others hold their cells at the pair's centre, ``SEPARATION``
    radii apart along their sides."""
    _part(cells, (cells.merger > 0) & (cells.merged_for <= 0))
    merged = np.flatnonzero(cells.merger > 0)
    for number in np.unique(cells.merger[merged]):
        pair = np.flatnonzero(cells.merger == number)
        if len(pair) < 2:  # the other cell left
            continue
        a, b = pair
        centre = (cells.pos[a] + cells.pos[b]) / 2
        ra, rb = cells.radius[a], cells.radius[b]
        markers = max(MARKER * ra, 1.5) + max(MARKER * rb, 1.5) + 2  # apart even if sizes differ
        half = max(SEPARATION * min(ra, rb), markers) / 2
        cells.pos[a] = centre + cells.side[a] * half * axis_scale
        cells.pos[b] = centre + cells.side[b] * half * axis_scale
        cells.vel[[a, b]] = cells.vel[[a, b]].mean(axis=0)
    cells.merged_for[merged] -= 1


def _part(cells: _Cells, which: np.ndarray) -> None:
    cells.merged_for[which] = 0
    cells.merger[which] = 0


def _separate(cells: _Cells, axis_scale: np.ndarray, shape: tuple[int, ...]) -> None:
    """Push overlapping nuclei apart so that every label stays visible."""
    for _ in range(20):
        if len(cells.label) < 2:
            return
        phys = cells.pos / axis_scale
        diff = phys[:, None, :] - phys[None, :, :]
        dist = np.linalg.norm(diff, axis=-1) + np.eye(len(phys)) * 1e9
        min_dist = (cells.radius[:, None] + cells.radius[None, :]) * 1.05 + 1
        together = (cells.merger[:, None] == cells.merger[None, :]) & (cells.merger[:, None] > 0)
        min_dist[together] = 0  # a merger's cells stay together
        overlap = np.clip(min_dist - dist, 0, None)
        if not overlap.any():
            return
        push = (diff / dist[..., None] * overlap[..., None] / 2).sum(axis=1)
        cells.pos = np.clip(cells.pos + push * axis_scale, 0, np.array(shape) - 1)


def _paint(
    cells: _Cells, shape: tuple[int, ...], axis_scale: np.ndarray, scale: float | None = None
) -> np.ndarray:
    """Each cell's label on its nucleus (earlier cells win where nuclei overlap), or, with
    ``scale``, on a disc of ``scale`` radii (at least 1.5 px) at its centre: a marker."""
    frame = np.zeros(shape, dtype=np.uint16)
    for pos, rad, lab in zip(cells.pos, cells.radius, cells.label, strict=True):
        radii = (rad if scale is None else max(scale * rad, 1.5)) * axis_scale
        lo = np.maximum(np.floor(pos - radii).astype(int), 0)
        hi = np.minimum(np.ceil(pos + radii).astype(int) + 1, shape)
        if np.any(hi <= lo):
            continue
        grids = np.ogrid[tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))]
        dist2 = sum(((g - p) / r) ** 2 for g, p, r in zip(grids, pos, radii, strict=True))
        inside = dist2 <= 1.0
        if not inside.any():  # a tiny nucleus between pixel centres: take the nearest voxel
            inside = dist2 == dist2.min()
        region = frame[tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))]
        region[inside & (region == 0)] = lab
    return frame


def _unseen_in_truth(
    labels: np.ndarray,
    tracks: dict[int, list[int]],
    missed: list[tuple[int, int]],
    merged: list[tuple[int, int, int]],
) -> list[tuple[int, int]]:
    """The ground truth of cells unseen in some frames, as CTC has it (in place): absent there; a
    cell seen before and after a run of unseen frames continues after it as a new track (the next
    free label) whose parent is its track before, and its later daughters and merger rows follow
    the new label; a merged object loses the rows of its unseen cells, and is none when one is
    left. A cell unseen all its life leaves its daughters without a parent. Returns the
    ``missed`` rows with the label each cell had when it went unseen."""
    next_label = max(tracks) + 1
    by_cell: dict[int, list[int]] = {}
    for t, label in sorted(missed):
        by_cell.setdefault(label, []).append(t)
    unseen = []
    for label, frames in by_cell.items():
        current = label
        for run in np.split(np.asarray(frames), np.flatnonzero(np.diff(frames) > 1) + 1):
            first, last = int(run[0]), int(run[-1])
            unseen += [(int(t), current) for t in run]
            for t in run:
                labels[t][labels[t] == current] = 0
            begin, end, _ = tracks[current]
            if begin < first and last < end:  # seen on both sides: the rest is a new track
                for t in range(last + 1, end + 1):
                    labels[t][labels[t] == current] = next_label
                for row in tracks.values():
                    if row[2] == current:  # (daughters come after the end: they follow the new track)
                        row[2] = next_label
                merged[:] = [
                    (t, m, next_label if lab == current and t > last else lab) for t, m, lab in merged
                ]
                tracks[current][1] = first - 1
                tracks[next_label] = [last + 1, end, current]
                current, next_label = next_label, next_label + 1
            elif first <= begin:
                tracks[current][0] = last + 1
            else:
                tracks[current][1] = first - 1
    for label, (begin, end, _) in list(tracks.items()):
        if begin > end:  # unseen all its life
            for row in tracks.values():
                if row[2] == label:
                    row[2] = 0
    gone = set(unseen)
    merged[:] = [row for row in merged if (row[0], row[2]) not in gone]
    cells = Counter((t, m) for t, m, _ in merged)
    merged[:] = [row for row in merged if cells[row[0], row[1]] > 1]  # one cell seen is no merger
    return sorted(unseen)


def _render(labels: np.ndarray, cells: _Cells, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Fluorescence: bright nuclei with textured interiors, blurred, on a dim background."""
    lut = np.zeros(int(labels.max()) + 1)
    lut[cells.label[cells.label <= labels.max()]] = cells.brightness[cells.label <= labels.max()]
    signal = lut[labels] * (1 + 0.15 * ndi.gaussian_filter(rng.normal(size=labels.shape), 2))
    signal = ndi.gaussian_filter(signal, 1.0)
    image = 80 + 200 * signal + rng.normal(scale=noise, size=labels.shape)
    return np.clip(image, 0, 65535).astype(np.uint16)


def rotating_flow(shape: Sequence[int], omega: float) -> FlowFn:
    """A rigid rotation of the (y, x) plane about the image centre by ``omega`` radians per frame."""
    centre = np.asarray(shape, dtype=float)[-2:] / 2.0
    turn = np.array([[np.cos(omega), -np.sin(omega)], [np.sin(omega), np.cos(omega)]])

    def flow(pos: np.ndarray, t: int) -> np.ndarray:
        move = np.zeros_like(pos)
        move[:, -2:] = (pos[:, -2:] - centre) @ turn.T + centre - pos[:, -2:]
        return move

    return flow


def shearing_flow(shape: Sequence[int], rate: float) -> FlowFn:
    """A shear: x moves by ``rate`` times the distance from the middle row, per frame."""
    middle = float(shape[-2]) / 2.0

    def flow(pos: np.ndarray, t: int) -> np.ndarray:
        move = np.zeros_like(pos)
        move[:, -1] = rate * (pos[:, -2] - middle)
        return move

    return flow
