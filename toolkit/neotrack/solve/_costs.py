"""Objective terms (maximised), one function each; each returns the coefficients of one kind of
variable (``TrackingProblem.col``), an array over its segments or links."""

from __future__ import annotations

import numpy as np
import pandas as pd

from neotrack.config import TrackingConfig
from neotrack.solve._problem import TrackingProblem


def relative_areas(
    p: TrackingProblem,
    cfg: TrackingConfig,
    cell_area: float | None = None,
    reference: np.ndarray | None = None,
) -> np.ndarray:
    """What size weighting multiplies by: each segment's area, counted up to ``size_cap`` typical
    cells (``cell_area``), over the median of the window's candidates' areas so counted
    (``reference``: the areas of every candidate read, some of which the program may leave out;
    default: ``p``'s segments); all 1 without ``size_weighted``."""
    area = p.segments.area.to_numpy(dtype=float)
    if not cfg.size_weighted or not len(area):
        return np.ones(len(area))
    cap = cfg.size_cap * cell_area if cfg.size_cap is not None and cell_area else np.inf
    reference = area if reference is None or not len(reference) else reference
    return np.minimum(area, cap) / float(np.median(np.minimum(reference, cap)))


def link_function(weights: np.ndarray, cfg: TrackingConfig) -> np.ndarray:
    """f(w) = sign(w) |w|^power + bias ("power") or w + bias ("identity").

    The sign is kept: ultrack's w**4 turns a bad (negative) transition into a rewarded one.
    """
    if cfg.link_function == "identity":
        return weights + cfg.bias
    return np.sign(weights) * np.abs(weights) ** cfg.power + cfg.bias


def transitions(p: TrackingProblem, cfg: TrackingConfig, size: np.ndarray) -> np.ndarray:
    """sum_e f(w_e) s_e edge_e, with s_e = sqrt(a_src a_dst), a = ``relative_areas``."""
    coef = link_function(p.links.weight.to_numpy(dtype=float), cfg)
    if len(p.links):
        coef = coef * np.sqrt(size[p.src] * size[p.dst])
    return coef


def border_ramp(segments: pd.DataFrame, cfg: TrackingConfig, frame_shape: tuple[int, ...]) -> np.ndarray:
    """m_i in [0, 1] for each of ``segments`` (``y, x``, ``z``): 1 away from the image edge,
    falling linearly to 0 at it within ``image_border_size`` (ilastik's border-aware weights); all
    1 without a border size."""
    if cfg.image_border_size is None:
        return np.ones(len(segments))
    axes = ["z", "y", "x"][-len(frame_shape) :]
    border = np.broadcast_to(np.asarray(cfg.image_border_size, dtype=float), (len(axes),))
    ramp = np.ones(len(segments))
    for axis, size, width in zip(axes, frame_shape, border, strict=True):
        if width <= 0:
            continue
        pos = segments[axis].to_numpy(dtype=float)
        to_edge = np.minimum(pos, size - 1 - pos)
        ramp = np.minimum(ramp, np.clip(to_edge / width, 0, 1))
    return ramp


def appearances(p: TrackingProblem, cfg: TrackingConfig, ramp: np.ndarray, free_first: bool) -> np.ndarray:
    """sum_i a_i appear_i, a_i = appear_weight * m_i; 0 in the window's first frame when that is the
    movie's first frame or an anchor (those tracks began earlier)."""
    return cfg.appear_weight * ramp * ~(p.first & free_first)


def disappearances(p: TrackingProblem, cfg: TrackingConfig, ramp: np.ndarray) -> np.ndarray:
    """sum_i d_i disappear_i, d_i = disappear_weight * m_i; 0 in the window's last frame (what
    follows is unknown there)."""
    return cfg.disappear_weight * ramp * ~p.last


def divisions(p: TrackingProblem, cfg: TrackingConfig) -> np.ndarray:
    """division_weight * sum_i divide_i."""
    return np.full(p.n_segments, cfg.division_weight)


def segments(p: TrackingProblem, cfg: TrackingConfig, size: np.ndarray) -> np.ndarray:
    """segment_weight * sum_i a_i node_i, a = ``relative_areas``: a cell's fragments share the
    cell's reward instead of each earning one, while each fragment's track still pays its own
    appearance and disappearance; and two touching cells earn more apart than as one candidate
    larger than ``size_cap`` cells."""
    return cfg.segment_weight * size
