"""A dense displacement field between two frames, estimated coarse to fine with JAX.

For every pixel x of the source frame, ``d(x)`` is where it went in the target frame: the target
sampled at ``x + d(x)`` should look like the source. The loss is a robust (Charbonnier) difference
of the two after warping, plus ``smoothness`` times the field's squared second differences (so
affine motion — drift, rotation, shear, expansion — is not penalised); it is
minimised by Adam steps inside one jit-compiled ``fori_loop`` per scale, from the coarsest scale
to the finest, the field upsampled in between. Scales are chosen per axis, so a short z axis is
simply not reduced further (the ultrack tutorial had to lower ``n_scales`` by hand for that).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from scipy import ndimage as ndi

from neotrack.errors import InputError

_MIN_SIDE = 8  # no axis is reduced below this many pixels


def normalize(image: np.ndarray) -> np.ndarray:
    """Intensities scaled between their 1st and 99.9th percentiles (robust to bright outliers)."""
    low, high = np.percentile(image, [1.0, 99.9])
    return np.clip((image.astype(np.float32) - low) / max(float(high - low), 1e-6), 0, 1.5)


def scale_factors(shape: Sequence[int], reduce: int, n_scales: int) -> list[np.ndarray]:
    """Per-axis reduction factors of each scale, finest first; an axis stops shrinking at 8 px."""
    factors = []
    for s in range(n_scales):
        wanted = reduce * 2**s
        factors.append(np.array([max(1, min(wanted, side // _MIN_SIDE)) for side in shape]))
    return factors


def _reduce(image: np.ndarray, factor: np.ndarray) -> np.ndarray:
    if np.all(factor == 1):
        return image
    smooth = ndi.gaussian_filter(image, sigma=np.maximum(factor / 2.0 - 0.5, 0))
    return ndi.zoom(smooth, 1.0 / factor, order=1, grid_mode=True, mode="nearest")


def _blurred(image: np.ndarray, sigma: float) -> np.ndarray:
    """Scale-space smoothing at one scale, contrast restored: cells that moved farther than their
    size still overlap their next position once blurred, which gives the descent a gradient."""
    if sigma <= 0:
        return image
    smooth = ndi.gaussian_filter(image, sigma, mode="nearest")
    return normalize(smooth)


def _warp(image: jnp.ndarray, disp: jnp.ndarray) -> jnp.ndarray:
    grid = jnp.stack(jnp.meshgrid(*[jnp.arange(n, dtype=jnp.float32) for n in image.shape], indexing="ij"))
    coords = grid + disp
    return jax.scipy.ndimage.map_coordinates(image, list(coords), order=1, mode="nearest")


def _loss(disp: jnp.ndarray, source: jnp.ndarray, target: jnp.ndarray, smoothness: float) -> jnp.ndarray:
    diff = _warp(target, disp) - source
    data = jnp.mean(jnp.sqrt(diff * diff + 1e-6))
    # second differences: translations, rotations, shears and expansions cost nothing
    smooth = sum(jnp.mean(jnp.diff(disp, n=2, axis=a + 1) ** 2) for a in range(source.ndim))
    return data + smoothness * smooth


@partial(jax.jit, static_argnames=("iterations",))
def _descend(
    disp: jnp.ndarray, source: jnp.ndarray, target: jnp.ndarray, lr: float, smoothness: float, iterations: int
) -> jnp.ndarray:
    grad = jax.grad(_loss)

    def step(i: int, state: tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]) -> tuple[jnp.ndarray, ...]:
        d, m, v = state
        g = grad(d, source, target, smoothness)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        k = i + 1.0
        update = (m / (1 - 0.9**k)) / (jnp.sqrt(v / (1 - 0.999**k)) + 1e-8)
        return d - lr * update, m, v

    zeros = jnp.zeros_like(disp)
    out, _, _ = jax.lax.fori_loop(0, iterations, step, (disp, zeros, zeros))
    return out


def flow_field(
    source: np.ndarray,
    target: np.ndarray,
    n_scales: int = 4,
    reduce: int = 4,
    lr: float = 0.1,
    num_iterations: int = 200,
    smoothness: float = 3.0,
    blur: float = 1.0,
) -> np.ndarray:
    """The displacement field source -> target, shape (ndim, *reduced shape), in full-resolution pixels.

    ``reduce`` is the field's resolution (every ``reduce`` pixels per axis, fewer on short axes);
    ``lr`` is Adam's step in pixels of the current scale.
    """
    if source.shape != target.shape:
        raise InputError(f"flow between frames of different shapes: {source.shape} and {target.shape}")
    if source.ndim not in (2, 3):
        raise InputError(f"flow needs 2D or 3D frames, got shape {source.shape}")
    for name, image in (("source", source), ("target", target)):
        if not np.isfinite(image).all():
            raise InputError(f"flow: the {name} frame contains NaN or infinite values")
    src, tgt = normalize(source), normalize(target)
    factors = scale_factors(source.shape, reduce, n_scales)
    disp: jnp.ndarray | None = None
    previous = factors[-1]
    for factor in reversed(factors):  # coarsest first
        s, t = (jnp.asarray(_blurred(_reduce(image, factor), blur)) for image in (src, tgt))
        if disp is None:
            disp = jnp.zeros((source.ndim, *s.shape), jnp.float32)
        else:
            ratio = (previous / factor).reshape(-1, *([1] * source.ndim))  # finer by this, per axis
            disp = jax.image.resize(disp, (source.ndim, *s.shape), "linear") * jnp.asarray(ratio)
        disp = _descend(disp, s, t, lr, smoothness, num_iterations)
        previous = factor
    assert disp is not None
    finest = factors[0]
    return np.asarray(disp) * finest.reshape(-1, *([1] * source.ndim))  # pixels of the full resolution
