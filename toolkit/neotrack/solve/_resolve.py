"""``solve_window``: frames of a solved dataset solved again, anchored on both sides.

After a correction (a pin) only the frames around it need solving again. The range is read with one
frame more on each side; those two frames are held to the solution that is stored (the anchors), so
what the range chooses meets the rest of the solution exactly: every selected segment keeps one
parent, no transition leads to a segment that is not selected, and track ids stay consistent
downstream. Only the range's selection, the transitions into and inside it, and the track ids that
change are written, in one transaction. Gaps closed over missing frames (``tracking.max_gap``) that
cross the range are closed again with it (``_gaps.py``), and tracks after it whose join changed
are renamed.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from neotrack.config import Config, TrackingConfig
from neotrack.errors import InputError
from neotrack.solve._bases import basis_folder
from neotrack.solve._counts import require_one_cell
from neotrack.solve._gaps import close_gaps, crossing, link_distance, recorded_span
from neotrack.solve._job import read_job
from neotrack.solve._program import solve_program
from neotrack.solve._tracks import COLUMNS, assign_tracks, retrack_descendants
from neotrack.store import ID_STRIDE, DatasetInfo, Store, frames_spanned, opened

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class WindowResult:
    """What ``solve_window`` changed: the range, its selected segments and transitions, how many
    segments after the range got new track ids, and the program's objective, gap and solver."""

    dataset: str
    start: int
    stop: int
    n_selected: int
    n_transitions: int
    n_retracked: int
    objective: float
    gap: float
    solver: str
    seconds: float


def solve_window(
    dataset: str, start: int, stop: int, config: Config | None = None, store: Store | None = None
) -> WindowResult:
    """Solve frames ``[start, stop)`` of a solved dataset again, anchored left and right.

    *Anchored* means: frame ``start - 1`` and frame ``stop`` (where they exist) are held to the
    stored solution — their selected segments stay selected, the others stay out, and what happens
    before ``start - 1`` and after ``stop`` is not touched. Within the range the program is the one
    ``solve`` builds (the same costs and constraints, pins honoured), so a range solved again with
    nothing changed gives back what a one-window solve would choose there; the transitions from
    ``start - 1`` into the range and from the range into ``stop`` are chosen anew. Track ids stay
    consistent: a track that now continues across the range takes its ids downstream; tracks that
    start anew get ids after the largest one (a full ``solve`` numbers them in time order again).

    Raises:
        InputError: the dataset is not solved, or the range is not inside its frames.
        SolveError: no solution (pins that contradict each other or the anchors).
    """
    config = config or Config()
    with opened(store) as s:
        started = time.perf_counter()
        with s.writing(dataset, "solve window"):
            info = s.info(dataset)
            if not info.solve.done:
                raise InputError(
                    f"dataset {dataset!r} is not solved: run `neotrack solve` before solving a window"
                )
            if info.link.config == "import":
                raise InputError(
                    f"dataset {dataset!r} holds an imported lineage and no candidate links, so there "
                    f"is nothing to choose from: run `neotrack link --dataset {dataset} --overwrite` "
                    "and `neotrack solve` first"
                )
            require_one_cell(config.tracking, info)
            # the frames are the movie's (its shape; no scan of the dataset); else what is stored
            t_min, t_max = (0, info.shape[0] - 1) if info.shape else s.time_range(dataset)[:2]
            if not t_min <= start < stop <= t_max + 1:
                raise InputError(
                    f"frames [{start}, {stop}) are not a range of dataset {dataset!r}, whose frames "
                    f"are {t_min}-{t_max}: expected {t_min} <= start < stop <= {t_max + 1}"
                )
            result = _solve_range(s, dataset, config, start, stop, (t_min, t_max), info)
        result = dataclasses.replace(result, seconds=time.perf_counter() - started)
    log.info(
        "dataset %r, frames %d-%d solved again: %d segments, %d transitions, %d track ids changed "
        "after the range, %.2f s",
        dataset,
        start,
        stop - 1,
        result.n_selected,
        result.n_transitions,
        result.n_retracked,
        result.seconds,
    )
    return result


def _solve_range(
    store: Store,
    dataset: str,
    config: Config,
    start: int,
    stop: int,
    frames: tuple[int, int],
    info: DatasetInfo,
) -> WindowResult:
    t_min, t_max = frames
    lo, hi = max(start - 1, t_min), min(stop, t_max)  # the anchors' frames, when they exist
    span = max(config.tracking.max_gap, recorded_span(info))  # gaps closed before reach this far
    reach = link_distance(info) if config.tracking.max_gap > 1 else None  # (refused before solving)
    bases = basis_folder(store, info)
    with ThreadPoolExecutor(3) as pool:  # the reads side by side
        stored = pool.submit(store.read_solution, dataset, max(lo - span + 1, t_min), hi + span)
        top = pool.submit(store.max_track_id, dataset)
        near = pool.submit(bases.load, lo, hi) if bases is not None else None
        job = read_job(store, dataset, config.tracking, info, lo, hi + 1, free_first=lo == t_min)
        (around, around_next), next_id = stored.result(), top.result() + 1
        basis = near.result() if near is not None else None
    old = around[around.t.between(lo, hi)]
    source_t = around_next.source // ID_STRIDE
    again = (source_t >= lo) & (source_t < hi)  # what the program decides again
    crosses = crossing(around_next, start, stop)  # gaps into, out of or over the range
    old_next, over = around_next[again], around_next[crosses]
    replaced, kept = around_next[again | crosses], around_next[~(again | crosses)]
    fixed = old[old.t == lo] if lo < start else None  # the left anchor keeps its ids too
    right = set(old.id[old.t == hi]) if hi >= stop else None
    job = dataclasses.replace(
        job,
        first_fixed=None if fixed is None else frozenset(fixed.id),
        last_fixed=None if right is None else frozenset(right),
    )
    where = f"dataset {dataset!r}, frames {start}-{stop - 1} (anchored)"
    # the LP starts from the bases kept of these frames, else from the stored choice
    solution = solve_program(
        job.program(), config.tracking, where, start=(old.id, old_next), basis=basis, keep_basis=True
    )
    chosen = solution.segments
    inside = chosen[(chosen.t >= start) & (chosen.t < stop)]
    edges = solution.transitions.loc[solution.transitions.source_t < stop, ["source", "target"]]
    placed = job.window.segments[job.window.segments.id.isin(inside.id)]  # (with their positions)
    gaps = _gaps_again(around, kept, placed, edges, config.tracking, reach, info, (start, stop))
    joined = pd.concat([edges, gaps], ignore_index=True)
    outside = around[around.id.isin(gaps.source) & (around.t < lo)]  # joined from before the range
    anchored = pd.concat([fixed, outside], ignore_index=True)[["id", *COLUMNS]]  # keep their ids
    tracks = assign_tracks(
        chosen,
        joined,
        before=old,
        before_transitions=replaced,
        fixed=anchored,
        next_id=next_id,
    )
    changed = _differing(tracks, old)
    retracked = changed.iloc[:0]
    # what follows the right anchor follows its new track ids, as do starts after it whose join changed
    known = pd.concat([tracks, anchored])
    moved = pd.concat([changed[changed.id.isin(right or ())], _rejoined(around, known, gaps, over, hi)])
    if len(moved):
        retracked = retrack_descendants(moved, store.read_descendants(dataset, moved.id.tolist()))
        retracked = pd.concat([moved[~moved.id.isin(chosen.id)], retracked], ignore_index=True)
    if len(gaps):  # (recorded first: a span read too long costs a wider read, one too short a gap)
        longest = max(recorded_span(info), int(frames_spanned(gaps).max()))
        store.update_dataset(dataset, solve_span=longest)
    store.update_solution(
        dataset,
        **_changes(old, replaced, inside, joined, start, stop),
        tracks=pd.concat([changed, retracked], ignore_index=True).drop_duplicates("id", keep="last"),
    )
    if len(gaps) or len(over):  # how many the solution holds now
        store.update_dataset(
            dataset, solve_gaps=int(info.solve.attrs.get("gaps") or 0) + len(gaps) - len(over)
        )
    if bases is not None and solution.basis is not None:  # the next correction here starts from it
        bases.save(solution.basis, start, stop - 1)  # (the anchors' frames hold a few)
    return WindowResult(
        dataset,
        start,
        stop,
        len(inside),
        len(joined),
        len(retracked),
        solution.objective,
        solution.gap,
        solution.solver,
        seconds=0.0,  # the caller's clock, which includes taking the lock
    )


def _gaps_again(
    around: pd.DataFrame,
    kept: pd.DataFrame,
    inside: pd.DataFrame,
    edges: pd.DataFrame,
    cfg: TrackingConfig,
    reach: float | None,
    info: DatasetInfo,
    range_: tuple[int, int],
) -> pd.DataFrame:
    """The gaps closed anew that cross the range (``_gaps.close_gaps``; ``reach``: the links'
    ``max_distance``, None without gap closing), among the ends and starts of the solution around
    it as it is now: what lies outside the range and the range's new choice (``inside``), the
    transitions read around it that were not decided again (``kept``) and those the program
    chose (``edges``)."""
    if reach is None:
        return edges.iloc[:0]
    start, stop = range_
    segments = pd.concat([around[(around.t < start) | (around.t >= stop)], inside], ignore_index=True)
    transitions = pd.concat([kept[["source", "target"]], edges], ignore_index=True)
    frame_shape, voxel = tuple((info.shape or ())[1:]), tuple(info.voxel)
    return close_gaps(segments, transitions, cfg, reach, frame_shape, voxel, touching=range_)


def _rejoined(
    around: pd.DataFrame, tracks: pd.DataFrame, gaps: pd.DataFrame, over: pd.DataFrame, hi: int
) -> pd.DataFrame:
    """Track columns of the segments after the right anchor that a gap joined to the range before
    or joins now, where they change: each starts a track (its own id kept) whose parent is now the
    track it is joined from, or none (``tracks``: the columns of every segment a join may come
    from)."""
    after = around[around.t > hi].set_index("id")
    targets = sorted((set(gaps.target) | set(over.target)) & set(after.index))
    if not targets:
        return pd.DataFrame(columns=["id", *COLUMNS])
    ids = tracks.set_index("id")[COLUMNS]
    parent = dict(zip(gaps.target.tolist(), gaps.source.tolist(), strict=True))
    rows = []
    for target in targets:
        own = int(after.at[target, "track_id"])
        up = parent.get(target)
        new = (
            (own, 0, own) if up is None else (own, int(ids.at[up, "track_id"]), int(ids.at[up, "lineage_id"]))
        )
        if new != tuple(int(after.at[target, c]) for c in COLUMNS):
            rows.append((target, *new))
    return pd.DataFrame(rows, columns=["id", *COLUMNS])


def _differing(tracks: pd.DataFrame, old: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``tracks`` whose track columns differ from the stored ones in ``old`` (or that
    ``old`` does not hold: segments selected anew)."""
    stored = old.set_index("id")[COLUMNS]
    known = tracks.id.isin(stored.index).to_numpy()
    same = np.zeros(len(tracks), bool)
    same[known] = (tracks.loc[known, COLUMNS].to_numpy() == stored.loc[tracks.id[known]].to_numpy()).all(
        axis=1
    )
    return tracks[~same].reset_index(drop=True)


def _changes(
    old: pd.DataFrame,
    old_next: pd.DataFrame,
    inside: pd.DataFrame,
    edges: pd.DataFrame,
    start: int,
    stop: int,
) -> dict[str, Any]:
    """The range's selection and the transitions the window chose again (those leaving frames
    ``[start - 1, stop)``, all of ``old_next``) as differences from the stored ones."""
    before = old.id[(old.t >= start) & (old.t < stop)]
    pairs = ["source", "target"]
    both = old_next[pairs].merge(edges[pairs], on=pairs, how="outer", indicator=True)
    return {
        "unselect": sorted(set(before) - set(inside.id)),
        "select": sorted(set(inside.id) - set(before)),
        "remove": both.loc[both._merge == "left_only", pairs],
        "add": both.loc[both._merge == "right_only", pairs],
    }
