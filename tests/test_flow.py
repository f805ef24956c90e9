"""Flow fields: known motions recovered, candidates shifted by a field link correctly, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi

from neotrack.config import Config
from neotrack.datasets import rotating_flow, simulate
from neotrack.errors import InputError
from neotrack.flow import (
    add_flow,
    advect_from_quasi_random,
    flow_field,
    timelapse_flow,
    tracks_df_movement,
    trajectories_to_tracks,
)
from neotrack.store import Store


def field_at(disp: np.ndarray, points: np.ndarray, factor: int = 4) -> np.ndarray:
    index = np.clip(np.rint(points / factor).astype(int), 0, np.array(disp.shape[1:]) - 1)
    return np.stack([disp[a][tuple(index.T)] for a in range(disp.shape[0])], axis=1)


def test_a_translation_is_recovered() -> None:
    scene = simulate(n_frames=1, shape=(256, 256), n_cells=25, seed=1)
    a = scene.images[0].astype(float)
    b = ndi.shift(a, (6, -9), order=1, mode="nearest")
    disp = flow_field(a, b)
    cells = np.argwhere(scene.labels[0] > 0)
    assert np.allclose(np.median(field_at(disp, cells), axis=0), (6, -9), atol=0.6)


def test_a_fast_rotation_is_recovered() -> None:
    """Nuclei moving ~3 diameters per frame: more than their size, so blur and scales must bridge it."""
    shape = (256, 256)
    scene = simulate(
        n_frames=2,
        shape=shape,
        n_cells=20,
        radius=8,
        speed=0.0,
        division_rate=0.0,
        appear_rate=0.0,
        flow=rotating_flow(shape, 0.35),
        seed=2,
    )
    labels = np.intersect1d(np.unique(scene.labels[0])[1:], np.unique(scene.labels[1])[1:])
    start = np.array(ndi.center_of_mass(scene.labels[0] > 0, scene.labels[0], labels))
    end = np.array(ndi.center_of_mass(scene.labels[1] > 0, scene.labels[1], labels))
    truth = end - start
    assert np.median(np.linalg.norm(truth, axis=1)) > 16  # more than a diameter
    disp = flow_field(scene.images[0].astype(float), scene.images[1].astype(float))
    error = np.linalg.norm(field_at(disp, start) - truth, axis=1)
    assert np.median(error) < 2.0


def test_3d_with_a_short_z_axis() -> None:
    scene = simulate(n_frames=1, shape=(12, 96, 96), n_cells=8, radius=7, seed=3)
    a = scene.images[0].astype(float)
    b = ndi.shift(a, (0, 4, -5), order=1, mode="nearest")
    disp = flow_field(a, b)  # n_scales = 4 does not shrink 12 z-slices below 8: no hand tuning
    cells = np.argwhere(scene.labels[0] > 0)
    assert np.allclose(
        np.median(field_at(disp, cells, factor=np.array([1, 4, 4])), axis=0), (0, 4, -5), atol=0.8
    )


def test_bad_frame_pairs_are_refused() -> None:
    with pytest.raises(InputError, match="different shapes"):
        flow_field(np.zeros((32, 32)), np.zeros((32, 40)))
    bad = np.zeros((32, 32))
    bad[3, 3] = np.nan
    with pytest.raises(InputError, match="target frame contains NaN"):
        flow_field(np.zeros((32, 32)), bad)


def test_shifted_candidates_link_where_unshifted_do_not(store: Store, name: str, tmp_path: Path) -> None:
    from neotrack.candidates import segment
    from neotrack.linking import link
    from neotrack.solve import solve

    shape = (256, 256)
    scene = simulate(
        n_frames=4,
        shape=shape,
        n_cells=15,
        radius=8,
        speed=0.0,
        division_rate=0.0,
        appear_rate=0.0,
        flow=rotating_flow(shape, 0.3),
        seed=4,
    )
    config = Config()
    config.data.working_dir = tmp_path
    field = timelapse_flow(scene.images, tmp_path / "flow.zarr", config)
    assert field.shape[:2] == (4, 2) and not np.asarray(field[3]).any()

    def correct_links() -> float:
        store.delete_dataset(name) if store.has_dataset(name) else None
        segment(labels=scene.labels, dataset=name, config=config, store=store)
        if shifted:
            assert add_flow(name, field, store) == store.time_range(name)[2]
        link(name, config, store)
        solve(name, config, store)
        nxt = store.read_solution(name)[1]
        return float(np.mean(nxt.source % 10**9 == nxt.target % 10**9)) if len(nxt) else 0.0

    shifted = False
    plain = correct_links()  # 15 px search radius, ~25 px moves: often the wrong neighbour
    shifted = True
    assert plain < 0.9 and correct_links() == 1.0


def test_advection_helpers() -> None:

    import zarr

    field = zarr.create_array(store={}, shape=(3, 2, 32, 32), dtype="float32", fill_value=0.0)
    field[0:2, 1] = 5.0  # x moves 5 px per frame
    field.attrs["neotrack"] = {"factor": [4, 4]}
    paths = advect_from_quasi_random(field, (128, 128), n_samples=64)
    assert paths.shape == (64, 3, 2)
    inside = paths[:, 0, 1] < 110
    assert np.allclose(paths[inside, 2, 1] - paths[inside, 0, 1], 10)
    tracks = trajectories_to_tracks(paths)
    assert list(tracks.columns) == ["track_id", "t", "y", "x"] and len(tracks) == 64 * 3
    moves = tracks_df_movement(tracks)
    assert (
        np.allclose(moves.dx[(tracks.t > 0) & np.repeat(inside, 3)], 5)
        and (moves.dx[tracks.t == 0] == 0).all()
    )


def test_add_flow_keeps_shifts_only_beyond_min_shift_radii(store: Store, name: str, tmp_path: Path) -> None:
    """A field of 3 px everywhere: less than a radius-8 nucleus, so by default nothing moves."""
    import zarr

    from neotrack.candidates import segment

    scene = simulate(n_frames=2, shape=(64, 64), n_cells=3, radius=8, speed=0.0, seed=6)
    segment(labels=scene.labels, dataset=name, config=Config(), store=store)
    field = zarr.create_array(store={}, shape=(2, 2, 16, 16), dtype="float32", fill_value=0.0)
    field[0, 1] = 3.0
    field.attrs["neotrack"] = {"factor": [4, 4]}
    add_flow(name, field, store)  # min_shift = 1 radius (~8 px)
    assert (store.read_segments(name, 0, 1, extra=["shift_x"]).shift_x == 0).all()
    add_flow(name, field, store, min_shift=0.25)
    assert np.allclose(store.read_segments(name, 0, 1, extra=["shift_x"]).shift_x, 3.0)
