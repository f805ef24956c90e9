"""Objective terms (maximised), one function each; each returns a linear expression."""

from __future__ import annotations

import mip
import numpy as np

from neotrack.config import TrackingConfig
from neotrack.solve._problem import TrackingProblem


def relative_areas(p: TrackingProblem) -> np.ndarray:
    """Each segment's area over the window's median candidate area (what size weighting uses)."""
    area = p.segments.area.to_numpy(dtype=float)
    return area / float(np.median(area))


def link_function(weights: np.ndarray, cfg: TrackingConfig) -> np.ndarray:
    """f(w) = sign(w) |w|^power + bias ("power") or w + bias ("identity").

    The sign is kept: ultrack's w**4 turns a bad (negative) transition into a rewarded one.
    """
    if cfg.link_function == "identity":
        return weights + cfg.bias
    return np.sign(weights) * np.abs(weights) ** cfg.power + cfg.bias


def transitions(p: TrackingProblem, cfg: TrackingConfig) -> mip.LinExpr:
    """sum_e f(w_e) s_e edge_e, with s_e = sqrt(area_src area_dst) / median candidate area when
    ``size_weighted`` (else 1)."""
    coef = link_function(p.links.weight.to_numpy(dtype=float), cfg)
    if cfg.size_weighted and len(p.links):
        size = relative_areas(p)
        coef = coef * np.sqrt(size[p.src] * size[p.dst])
    return mip.xsum(float(c) * v for c, v in zip(coef, p.edge, strict=True))


def border_ramp(p: TrackingProblem, cfg: TrackingConfig, frame_shape: tuple[int, ...]) -> np.ndarray:
    """m_i in [0, 1]: 1 away from the image edge, falling linearly to 0 at it within
    ``image_border_size`` (ilastik's border-aware weights); all 1 without a border size."""
    if cfg.image_border_size is None:
        return np.ones(len(p.segments))
    axes = ["z", "y", "x"][-len(frame_shape) :]
    border = np.broadcast_to(np.asarray(cfg.image_border_size, dtype=float), (len(axes),))
    ramp = np.ones(len(p.segments))
    for axis, size, width in zip(axes, frame_shape, border, strict=True):
        if width <= 0:
            continue
        pos = p.segments[axis].to_numpy(dtype=float)
        to_edge = np.minimum(pos, size - 1 - pos)
        ramp = np.minimum(ramp, np.clip(to_edge / width, 0, 1))
    return ramp


def appearances(p: TrackingProblem, cfg: TrackingConfig, ramp: np.ndarray, free_first: bool) -> mip.LinExpr:
    """sum_i a_i appear_i, a_i = appear_weight * m_i; 0 in the window's first frame when that is the
    movie's first frame or an anchor (those tracks began earlier)."""
    coef = cfg.appear_weight * ramp * ~(p.first & free_first)
    return mip.xsum(float(c) * v for c, v in zip(coef, p.appear, strict=True) if c)


def disappearances(p: TrackingProblem, cfg: TrackingConfig, ramp: np.ndarray) -> mip.LinExpr:
    """sum_i d_i disappear_i, d_i = disappear_weight * m_i; 0 in the window's last frame (what
    follows is unknown there)."""
    coef = cfg.disappear_weight * ramp * ~p.last
    return mip.xsum(float(c) * v for c, v in zip(coef, p.disappear, strict=True) if c)


def divisions(p: TrackingProblem, cfg: TrackingConfig) -> mip.LinExpr:
    """division_weight * sum_i divide_i."""
    return cfg.division_weight * mip.xsum(p.divide)


def segments(p: TrackingProblem, cfg: TrackingConfig) -> mip.LinExpr:
    """segment_weight * sum_i a_i node_i, with a_i = area_i / median candidate area when
    ``size_weighted`` (else 1): a cell's fragments share the cell's reward instead of each earning
    one, while each fragment's track still pays its own appearance and disappearance."""
    if not cfg.size_weighted or not len(p.segments):
        return cfg.segment_weight * mip.xsum(p.node)
    coef = cfg.segment_weight * relative_areas(p)
    return mip.xsum(float(c) * v for c, v in zip(coef, p.node, strict=True))
