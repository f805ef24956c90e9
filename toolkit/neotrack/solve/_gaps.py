"""Gap closing: a track that ends, joined to one that starts up to ``max_gap`` frames later near
where it ended, by a transition over the missing frames (a cell the segmentation missed in a frame
or two; ilastik's skip links, ultrack's ``close_tracks_gaps``).

After the program has chosen the tracks frame to frame, its ends (selected segments without a
successor) and starts (without a parent) are paired: end e in frame t and start s in frame t + g,
2 <= g <= ``max_gap``, whose centres lie less than g * D apart (D: ``linking.max_distance`` as the
link step used it, physical units), are worth

    v(e, s) = (a_s + d_e) (1 - |x_s - x_e| / (g D)) + gap_weight (g - 1)

with a_s = -appear_weight m_s and d_e = -disappear_weight m_e the appearance and disappearance the
join saves (``_costs.py``; m the border ramp), less a share growing with the distance, less
``gap_weight`` per missed frame. The joins are the matching of ends to starts of largest total
worth, pairs worth more than nothing only (each end and each start joined once at most): its LP
relaxation is integral (a bipartite matching), solved by HiGHS through scipy.

A join is a move: the start begins a track of its own whose parent track is the one that ended,
in the same lineage (``assign_tracks``; ilastik's ``gap_parent``, CTC's parent link across missing
frames), exported as ilastik's ``MultiFrameMoves``. ``solve_window`` makes again the joins that
cross the range it solves (into it, out of it, over it), among the ends and starts around it.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.spatial import cKDTree

from neotrack.config import TrackingConfig
from neotrack.errors import InputError
from neotrack.solve._costs import border_ramp
from neotrack.store import ID_STRIDE, DatasetInfo, frames_spanned

log = logging.getLogger(__name__)


def gap_candidates(
    selected: pd.DataFrame,
    transitions: pd.DataFrame,
    cfg: TrackingConfig,
    max_distance: float,
    frame_shape: tuple[int, ...],
    voxel: tuple[float, ...],
    touching: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """Every pair (``source`` end, ``target`` start) a join could make, with its ``worth`` (the
    module's v) and ``gap`` (frames spanned); pairs worth nothing or less are left out, and with
    ``touching`` = (start, stop) those that do not cross frames [start, stop) (``crossing``)."""
    if cfg.max_gap < 2 or selected.empty:
        empty = np.zeros(0, np.int64)
        return pd.DataFrame({"source": empty, "target": empty, "gap": empty, "worth": np.zeros(0)})
    axes = ["z", "y", "x"][-len(voxel) :]
    ends = selected[~selected.id.isin(transitions.source)]
    starts = selected[~selected.id.isin(transitions.target)]
    saved_end = -cfg.disappear_weight * border_ramp(ends, cfg, frame_shape)
    saved_start = -cfg.appear_weight * border_ramp(starts, cfg, frame_shape)
    scale = np.asarray(voxel, dtype=float)
    end_at = ends[axes].to_numpy(dtype=float) * scale
    start_at = starts[axes].to_numpy(dtype=float) * scale
    end_t, start_t = ends.t.to_numpy(), starts.t.to_numpy()
    by_frame = {int(t): np.flatnonzero(start_t == t) for t in np.unique(start_t)}
    pairs = []
    for g in range(2, cfg.max_gap + 1):
        reach = g * max_distance
        for t in np.unique(end_t):
            later = by_frame.get(int(t) + g)
            if later is None:
                continue
            here = np.flatnonzero(end_t == t)
            near = cKDTree(end_at[here]).sparse_distance_matrix(  # every pair within reach, 0 apart too
                cKDTree(start_at[later]), reach, output_type="ndarray"
            )
            i, j, distance = here[near["i"]], later[near["j"]], near["v"]
            worth = (saved_start[j] + saved_end[i]) * (1 - distance / reach) + cfg.gap_weight * (g - 1)
            pairs.append(np.column_stack([i, j, np.full(len(j), g), worth]))
    table = np.concatenate(pairs) if pairs else np.zeros((0, 4))
    table = table[table[:, 3] > 0]
    pairs = pd.DataFrame(
        {
            "source": ends.id.to_numpy()[table[:, 0].astype(np.int64)],
            "target": starts.id.to_numpy()[table[:, 1].astype(np.int64)],
            "gap": table[:, 2].astype(np.int64),
            "worth": table[:, 3],
        }
    )
    return pairs if touching is None else pairs[crossing(pairs, *touching)]


def close_gaps(
    selected: pd.DataFrame,
    transitions: pd.DataFrame,
    cfg: TrackingConfig,
    max_distance: float,
    frame_shape: tuple[int, ...] = (),
    voxel: tuple[float, ...] = (1.0, 1.0),
    touching: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """The transitions over missing frames (``source, target``) that join the solution's track
    ends to its starts best (see the module's docstring): none with ``max_gap`` 1; with
    ``touching`` = (start, stop), only joins that cross frames [start, stop) (a range solved
    again: the others stand).

    ``selected``: the solution's segments (``id, t, y, x``, ``z``), ``transitions`` its
    transitions (``source, target``); ``max_distance``: the link step's, physical units;
    ``frame_shape`` places the border for ``image_border_size``; ``voxel``: the physical size of a
    pixel per axis."""
    pairs = gap_candidates(selected, transitions, cfg, max_distance, frame_shape, voxel, touching)
    if pairs.empty:
        return pairs[["source", "target"]]
    sources, source = np.unique(pairs.source.to_numpy(), return_inverse=True)
    _, target = np.unique(pairs.target.to_numpy(), return_inverse=True)
    n = len(pairs)
    each = sp.vstack(  # each end once, each start once
        [
            sp.csr_matrix((np.ones(n), (source, np.arange(n))), shape=(len(sources), n)),
            sp.csr_matrix((np.ones(n), (target, np.arange(n))), shape=(int(target.max()) + 1, n)),
        ]
    )
    found = milp(
        -pairs.worth.to_numpy(),
        constraints=LinearConstraint(each, 0, 1),
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
    )
    if found.x is None:  # (a matching always exists: choosing none is one)
        raise RuntimeError(f"gap closing found no matching: {found.message}")
    joined = pairs[found.x > 0.5]
    log.info(
        "%d gaps closed (of %d candidate joins of a track end to a track start), %d over one missed frame",
        len(joined),
        len(pairs),
        int((joined.gap == 2).sum()),
    )
    return joined[["source", "target"]].reset_index(drop=True)


def link_distance(info: DatasetInfo) -> float:
    """The ``max_distance`` the dataset's candidate links were made with (physical units)."""
    try:
        return float(json.loads(info.link.config or "{}")["max_distance"])
    except (ValueError, KeyError, TypeError):
        raise InputError(
            f"dataset {info.name!r} records no linking.max_distance, which gap closing "
            "(tracking.max_gap above 1) reaches over: link it again"
        ) from None


def crossing(transitions: pd.DataFrame, start: int, stop: int) -> np.ndarray:
    """Which transitions over missing frames (``source, target``) lead into frames [start, stop)
    or out of them, or over them: those a range solved again decides anew."""
    source_t, target_t = (transitions[k].to_numpy() // ID_STRIDE for k in ("source", "target"))
    return (frames_spanned(transitions) > 1) & (source_t < stop) & (target_t >= start)


def recorded_span(info: DatasetInfo) -> int:
    """The most frames a transition of the dataset's solution may span, as its solve, import and
    ranges solved again recorded (``solve_span``; 1 for solutions made before it was recorded,
    which had no gaps)."""
    return max(int(info.solve.attrs.get("span") or 1), 1)


def gap_attrs(transitions: pd.DataFrame) -> dict[str, int]:
    """What a solution's record says of its transitions over missing frames: how many (``gaps``)
    and the most frames one spans (``span``, 1 without any)."""
    spans = frames_spanned(transitions)
    return {"gaps": int((spans > 1).sum()), "span": int(spans.max()) if len(spans) else 1}
