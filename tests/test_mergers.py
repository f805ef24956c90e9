"""Mergers in the store: counts solved over a generated scene, each merger resolved into its cells
(pixels, segments, transitions), the one-cell solution they leave behind, and solving again."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import zarr

from neotrack.candidates import CandidateMasks, segment
from neotrack.candidates._masks import MASKS, PARTS, write_parts
from neotrack.config import Config
from neotrack.datasets import simulate
from neotrack.errors import InputError
from neotrack.export import import_h5_events, to_csv, to_h5_events
from neotrack.linking import link
from neotrack.solve import solve, solve_window
from neotrack.solve._mergers import resolve_mergers, split_pixels
from neotrack.store import ID_STRIDE, Lineage, Store, segment_id


def disc(shape: tuple[int, int], centre: tuple[float, float], radius: float) -> np.ndarray:
    yy, xx = np.indices(shape)
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius**2


def test_a_blob_is_split_from_where_its_cells_came_from() -> None:
    blob = disc((40, 60), (20, 24), 8) | disc((40, 60), (20, 34), 8)
    coords = np.argwhere(blob).astype(float)
    labels = split_pixels(coords, 2, np.array([[20.0, 40.0], [20.0, 18.0]]))  # right cell seeded first
    right, left = (coords[labels == j].mean(axis=0) for j in (0, 1))
    assert right[1] > 31 and left[1] < 27  # each part about its own nucleus, in the seeds' order
    assert np.bincount(labels).min() > 0.4 * len(coords)
    # a cell that appeared inside: its start is the pixel farthest from the known one
    one = split_pixels(coords, 2, np.array([[20.0, 18.0]]))
    assert coords[one == 1].mean(axis=0)[1] > 31
    # fewer pixels than cells: one pixel each, no failure (ilastik#1344)
    assert sorted(split_pixels(coords[:2], 3, np.zeros((0, 2)))) == [0, 1]


def test_resolution_keeps_each_cell_on_its_side_through_a_merger() -> None:
    # cells A (left) and B (right) run into one blob M at t 1-2 and part at t 3; their order is
    # swapped in the ids at t 3, so only positions can tell which is which
    shape = (40, 60)
    ids = {name: int(segment_id(t, k)) for name, t, k in [("A", 0, 1), ("B", 0, 2), ("M1", 1, 1)]}
    ids |= {"M2": int(segment_id(2, 1)), "A3": int(segment_id(3, 2)), "B3": int(segment_id(3, 1))}
    where = {"A": (20, 15), "B": (20, 45), "M1": (20, 30), "M2": (20, 30), "A3": (20, 16), "B3": (20, 44)}
    masks = {
        ids["M1"]: disc(shape, (20, 25), 7) | disc(shape, (20, 35), 7),
        ids["M2"]: disc(shape, (20, 25), 7) | disc(shape, (20, 35), 7),
    }
    selected = pd.DataFrame(
        [(ids[n], ids[n] // ID_STRIDE, *where[n]) for n in where], columns=["id", "t", "y", "x"]
    )
    pairs = [("A", "M1"), ("B", "M1"), ("M1", "M2"), ("M2", "A3"), ("M2", "B3")]
    transitions = pd.DataFrame([(ids[a], ids[b]) for a, b in pairs], columns=["source", "target"])
    mergers = pd.DataFrame({"id": [ids["M1"], ids["M2"]], "cells": [2, 2]})
    carried = pd.DataFrame({"source": [ids["M1"]], "target": [ids["M2"]], "cells": [2]})

    def mask_of(i: int) -> tuple[np.ndarray, tuple[slice, ...]]:
        return masks[i], (slice(0, shape[0]), slice(0, shape[1]))

    found = resolve_mergers(selected, transitions, mergers, carried, mask_of, shape, {1: 5, 2: 5})
    assert found.mergers == [ids["M1"], ids["M2"]]
    assert set(map(tuple, found.remove.to_numpy())) == {(ids[a], ids[b]) for a, b in pairs}
    parts = found.parts.set_index("id")
    assert len(parts) == 4 and set(parts.merger) == {ids["M1"], ids["M2"]}
    assert set(parts.index % ID_STRIDE) == {5, 6}  # after the frame's candidates
    for t in (1, 2):  # the parts tile the merger, pixel for pixel
        image = np.zeros(shape, int)
        for part in parts.index[parts.t == t]:
            image[tuple(found.pixels[part].T)] += part % ID_STRIDE
        assert ((image > 0) == masks[ids[f"M{t}"]]).all()
        assert set(np.unique(image)) == {0, 5, 6}
    # follow each cell: A -> part -> part -> A3, B likewise, never crossing over
    step = dict(zip(found.add.source, found.add.target, strict=True))
    for cell, end in (("A", "A3"), ("B", "B3")):
        first = step[ids[cell]]
        second = step[first]
        assert step[second] == ids[end]
        side = np.sign(parts.x[[first, second]] - 30)
        assert (side == np.sign(where[cell][1] - 30)).all()


def test_sisters_born_into_one_blob_are_its_two_parts_each_her_daughter() -> None:
    # mother D at t 0 divides into blob S at t 1 (one transition carrying both daughters), which
    # parts at t 2 into L (left) and R (right): S splits in two, each part a daughter of D, and
    # each hands her cell on to the segment on her side
    shape = (40, 60)
    ids = {"D": int(segment_id(0, 1)), "S": int(segment_id(1, 1)), "L": int(segment_id(2, 1))}
    ids["R"] = int(segment_id(2, 2))
    where = {"D": (20, 30), "S": (20, 30), "L": (20, 18), "R": (20, 42)}
    selected = pd.DataFrame(
        [(ids[n], ids[n] // ID_STRIDE, *where[n]) for n in where], columns=["id", "t", "y", "x"]
    )
    pairs = [("D", "S"), ("S", "L"), ("S", "R")]
    transitions = pd.DataFrame([(ids[a], ids[b]) for a, b in pairs], columns=["source", "target"])
    mergers = pd.DataFrame({"id": [ids["S"]], "cells": [2]})
    carried = pd.DataFrame({"source": [ids["D"]], "target": [ids["S"]], "cells": [2]})
    blob = disc(shape, (20, 25), 7) | disc(shape, (20, 35), 7)

    def mask_of(i: int) -> tuple[np.ndarray, tuple[slice, ...]]:
        return blob, (slice(0, shape[0]), slice(0, shape[1]))

    found = resolve_mergers(selected, transitions, mergers, carried, mask_of, shape, {1: 3})
    parts = found.parts.set_index("id")
    assert len(parts) == 2 and np.bincount(parts.index % ID_STRIDE).tolist()[3:] == [1, 1]
    assert (parts.area > 0.4 * blob.sum()).all()  # halves, not the mother's position twice over
    add = set(zip(found.add.source, found.add.target, strict=True))
    assert {(ids["D"], part) for part in parts.index} <= add  # both daughters of D
    for part in parts.index:  # each on to the segment on her side
        assert (part, ids["L"] if parts.x[part] < 30 else ids["R"]) in add
    assert len(add) == 4


def test_a_merger_in_3d_is_split_in_physical_space() -> None:
    # a blob 4 slices deep and 12 pixels wide; with slices 4 pixels apart it is deeper than wide:
    # two cells that appeared inside it are told apart along z, as they would be along y in pixels
    shape = (4, 12, 3)
    merger = int(segment_id(1, 1))
    mask = np.ones(shape, bool)
    selected = pd.DataFrame({"id": [merger], "t": [1], "z": [1.5], "y": [5.5], "x": [1.0]})
    none = pd.DataFrame({"source": [], "target": []}, dtype="int64")
    mergers = pd.DataFrame({"id": [merger], "cells": [2]})
    carried = pd.DataFrame({"source": [], "target": [], "cells": []}, dtype="int64")

    def mask_of(i: int) -> tuple[np.ndarray, tuple[slice, ...]]:
        return mask, tuple(slice(0, n) for n in shape)

    for voxel, axis in (((1.0, 1.0, 1.0), 1), ((4.0, 1.0, 1.0), 0)):
        found = resolve_mergers(selected, none, mergers, carried, mask_of, shape, {1: 5}, voxel)
        halves = [found.pixels[p][:, axis] for p in found.parts.id]
        assert len(halves) == 2 and (halves[0].max() < halves[1].min() or halves[1].max() < halves[0].min())


def assert_same_files(one: Path, two: Path) -> None:
    """Two event folders hold the same files, datasets, values and attributes."""
    assert sorted(p.name for p in one.iterdir()) == sorted(p.name for p in two.iterdir())
    for path in sorted(one.iterdir()):
        with h5py.File(path, "r") as a, h5py.File(two / path.name, "r") as b:
            seen: list[str] = []
            a.visit(seen.append)
            other: list[str] = []
            b.visit(other.append)
            assert seen == other, path.name
            for key in seen:
                assert dict(a[key].attrs) == dict(b[key].attrs), (path.name, key)
                if isinstance(a[key], h5py.Dataset):
                    np.testing.assert_array_equal(a[key][()], b[key][()], err_msg=f"{path.name}: {key}")


def whole_mergers(events: Path, out: Path, whole: set[tuple[int, int]]) -> Path:
    """The same lineage as ilastik writes it: the mergers ``whole`` (frame, label) painted whole
    in the label image, their cells' Moves led to and from them (a merger to the next one once),
    not in ResolvedMergers."""
    out.mkdir()
    before: dict[int, int] = {}
    for path in sorted(events.glob("*.h5")):
        with h5py.File(path, "r") as f, h5py.File(out / path.name, "w") as g:
            tracking = f["tracking"]
            t = int(path.stem)
            resolved = tracking.get("ResolvedMergers", {})
            now = {int(p): int(m) for m, cells in resolved.items() if (t, int(m)) in whole for p in cells[()]}
            labels = np.asarray(f["segmentation/labels"])
            values, inverse = np.unique(labels, return_inverse=True)
            repainted = np.array([now.get(int(v), int(v)) for v in values], dtype=np.uint32)[inverse]
            g["segmentation/labels"] = repainted.reshape(labels.shape)
            g.create_group("tracking")
            if "Mergers" in tracking:
                g["tracking/Mergers"] = tracking["Mergers"][()]
            for m, cells in resolved.items():
                if (t, int(m)) not in whole:
                    g[f"tracking/ResolvedMergers/{m}"] = cells[()]
            if "Moves" in tracking:
                moves = {
                    (before.get(int(a), int(a)), now.get(int(b), int(b))) for a, b in tracking["Moves"][()]
                }
                g["tracking/Moves"] = np.array(sorted(moves), dtype=np.uint32)
            if "Splits" in tracking:
                g["tracking/Splits"] = tracking["Splits"][()]
        before = now
    return out


SCENE = dict(shape=(128, 128), n_cells=8, radius=8.0, division_rate=0.0, appear_rate=0.0)
SCENE |= dict(mergers=1.0, merge_frames=3, markers=True, seed=2)


def test_mergers_are_solved_resolved_exported_and_replaced_by_the_next_solve(
    store: Store, name: str, tmp_path: Path
) -> None:
    scene = simulate(n_frames=12, **SCENE)  # type: ignore[arg-type]
    segment(scene.images, dataset=name, store=store)
    link(name, store=store)
    two = Config.from_dict({"tracking": {"max_objects_per_merger": 2}})
    result = solve(name, two, store)
    mergers, carried = store.read_counts(name)
    parts = store.read_parts(name)
    assert len(mergers) >= 2 and carried.empty  # carried counts are gone once resolved
    assert set(mergers.id // ID_STRIDE) <= set(scene.mergers.t)  # found where nuclei did merge
    assert parts.groupby("merger").size().to_dict() == dict(zip(mergers.id, mergers.cells, strict=True))
    selected, transitions = store.read_solution(name)
    assert not selected.id.isin(mergers.id).any() and parts.id.isin(selected.id).all()
    assert transitions.target.value_counts().max() == 1  # one parent each: mergers are gone
    assert not transitions.source.isin(mergers.id).any() and not transitions.target.isin(mergers.id).any()
    # no cell is lost: the parts continue tracks (each has a parent) and tracks count as in the scene
    assert parts[parts.id // ID_STRIDE > 0].id.isin(transitions.target).all()
    masks = CandidateMasks(store, name)
    for merger, cells in parts.groupby("merger"):
        whole, box = masks.mask(merger)
        tiles = np.zeros(whole.shape, int)
        for part in cells.id:
            mask, part_box = masks.mask(part)
            offset = tuple(
                slice(p.start - b.start, p.stop - b.start) for p, b in zip(part_box, box, strict=True)
            )
            tiles[offset] += mask
        assert (tiles == whole).all()  # the parts tile their merger exactly
    # exports: ilastik's mergers.csv and mergerLabelId, h5 Mergers and ResolvedMergers, CTC masks
    out = tmp_path / "csv"
    to_csv(name, out, store)
    table = pd.read_csv(out / "mergers.csv")
    assert sorted(zip(table.timestep, table.object_id, strict=True)) == sorted(
        (int(m) // ID_STRIDE, int(m) % ID_STRIDE) for m in mergers.id
    )
    assert (table.track_ids.str.count(";") == 1).all()  # two cells each
    objects = pd.read_csv(out / "objects.csv")
    labelled = objects[objects.mergerLabelId > 0]
    assert len(labelled) == len(parts)
    pairs = set(zip(labelled.frame, labelled.mergerLabelId, strict=True))
    assert pairs == set(zip(table.timestep, table.object_id, strict=True))
    h5_dir = to_h5_events(name, tmp_path / "h5", store)
    for merger, cells in zip(mergers.id, mergers.cells, strict=True):
        t, label = int(merger) // ID_STRIDE, int(merger) % ID_STRIDE
        with h5py.File(h5_dir / f"{t:05d}.h5", "r") as f:
            rows = {tuple(r) for r in np.asarray(f["tracking/Mergers"])}
            assert (label, cells) in rows
            own = set(np.asarray(f[f"tracking/ResolvedMergers/{label}"]).tolist())
            assert own == {int(i) % ID_STRIDE for i in parts.id[parts.merger == merger]}
            painted = set(np.unique(f["segmentation/labels"]).tolist())
            assert own <= painted and label not in painted  # the cells are painted, not the merger
    # imported again: our files come back exactly (their cells, not split again) ...
    import_h5_events(h5_dir, f"{name}-h5", store)
    assert store.read_counts(f"{name}-h5")[0].equals(mergers)
    assert_same_files(h5_dir, to_h5_events(f"{name}-h5", tmp_path / "h5-again", store))
    # ... and ilastik's, whose label images hold a merger whole (every other one here: both kinds
    # in one import; ``write_parts`` keeping the first kind in a frame is tested below), as mergers
    # split by their pixels
    whole = {divmod(int(m), ID_STRIDE) for m in mergers.id[::2]}
    import_h5_events(whole_mergers(h5_dir, tmp_path / "ilastik", whole), f"{name}-ilastik", store)
    assert store.read_counts(f"{name}-ilastik")[0].equals(mergers)
    imported_masks = CandidateMasks(store, f"{name}-ilastik")
    for part in store.read_parts(f"{name}-ilastik").id:  # the files' cells kept beside the new ones
        assert imported_masks.mask(part)[0].any()
    with pytest.raises(InputError, match="imported lineage"):  # no candidates to choose from: refused
        solve_window(f"{name}-ilastik", 2, 5, store=store)
    assert (
        store.read_parts(f"{name}-ilastik").merger.value_counts().sort_index().tolist()
        == mergers.cells.tolist()
    )
    _, imported = store.read_solution(f"{name}-ilastik")
    for table in (transitions, imported):  # no division made of a merger's cells parting
        assert table.target.value_counts().max() == 1
    assert (imported.source.value_counts() == 2).sum() == (transitions.source.value_counts() == 2).sum()
    for other in ("h5", "ilastik"):
        store.delete_dataset(f"{name}-{other}")
    asked = Lineage(store, name).mergers()  # the Cypher recipe: when and where cells merged
    assert sorted(asked.merger) == sorted(mergers.id) and (asked.track_ids.map(len) == asked.cells).all()
    # a range of a dataset with mergers is refused by solve_window (for now), before any change
    with pytest.raises(InputError, match="max_objects_per_merger"):
        solve_window(name, 2, 5, store=store)
    assert store.read_solution(name)[0].equals(selected)
    # solving again with one cell per segment drops the parts and every count
    one = solve(name, Config(), store)
    assert one.n_divisions > result.n_divisions  # (the scene has none: false ones, after blobs)
    assert store.read_parts(name).empty and store.read_counts(name)[0].empty
    again, _ = store.read_solution(name)
    assert not again.id.isin(parts.id).any()


def sisters_movie() -> np.ndarray:
    """Label images: a round nucleus (t 0-1) divides into two that segmentation keeps as one object
    (t 2-4: an ellipse twice as long as wide, as two young nuclei side by side are, 1.4 cells'
    area), which then part (t 5-6, 16 px apart); three round nuclei elsewhere give the typical cell."""
    shape, frames = (96, 96), []
    yy, xx = np.indices(shape)
    for t in range(7):
        labels = np.zeros(shape, np.uint16)
        for label, centre in enumerate([(16, 16), (80, 16), (80, 80)], start=1):
            labels[disc(shape, centre, 8)] = label
        if t < 2:
            labels[disc(shape, (48, 48), 8.5)] = 4
        elif t < 5:
            labels[((yy - 48) / 6.5) ** 2 + ((xx - 48) / 14) ** 2 <= 1] = 4
        else:
            labels[disc(shape, (48, 40), 7)], labels[disc(shape, (48, 56), 7)] = 4, 5
        frames.append(labels)
    return np.stack(frames)


def test_sisters_that_stay_one_blob_are_born_into_a_merger_and_exported_as_a_split(
    store: Store, name: str, tmp_path: Path
) -> None:
    segment(labels=sisters_movie(), dataset=name, store=store)
    link(name, store=store)

    def lineage(shape: float) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        cfg = Config.from_dict({"tracking": {"max_objects_per_merger": 2, "merger_shape": shape}})
        solve(name, cfg, store)
        selected, transitions = store.read_solution(name)
        return selected[(selected.y - 48).abs() < 20], transitions, store.read_parts(name)

    selected, transitions, parts = lineage(0.02)  # the default: the blob's shape is two cells'
    assert sorted(parts.id // ID_STRIDE) == [2, 2, 3, 3, 4, 4]  # each blob frame resolved in two
    mother = selected.id[selected.t == 1].item()
    born = transitions.target[transitions.source == mother]
    assert len(born) == 2 and set(born) <= set(parts.id)  # she divides at 1 -> 2, into the blob
    tracks = selected.groupby("track_id").t.agg(["min", "max"])
    assert sorted(map(tuple, tracks.to_numpy())) == [(0, 1), (2, 6), (2, 6)]
    assert (selected.parent_track_id[selected.t >= 2] == selected.track_id[selected.t == 0].item()).all()
    h5_dir = to_h5_events(name, tmp_path / "h5", store)
    with h5py.File(h5_dir / "00002.h5", "r") as f:  # ilastik's Splits: mother, daughter, daughter
        splits = np.asarray(f["tracking/Splits"])
    assert len(splits) == 1 and set(splits[0, 1:]) == set(born % ID_STRIDE)
    import_h5_events(h5_dir, f"{name}-h5", store)  # and back, exactly
    assert_same_files(h5_dir, to_h5_events(f"{name}-h5", tmp_path / "h5-again", store))
    # without shape evidence the tracks cannot tell: she is carried through the blob as one cell
    selected, transitions, parts = lineage(0.0)
    assert parts.empty
    tracks = selected.groupby("track_id").t.agg(["min", "max"])
    assert sorted(map(tuple, tracks.to_numpy())) == [(0, 4), (5, 6), (5, 6)]


def test_cells_written_later_keep_those_stored_before_in_their_frame(store: Store, name: str) -> None:
    scene = simulate(n_frames=2, shape=(64, 64), n_cells=2, seed=1)
    segment(scene.images, dataset=name, store=store)
    first = {ID_STRIDE + 900: np.array([[1, 1], [1, 2]]), ID_STRIDE + 901: np.array([[3, 3]])}
    later = {ID_STRIDE + 902: np.array([[5, 5]])}
    write_parts(store, name, first)
    parts = zarr.open_array(str(store.pixels(store.info(name)) / MASKS / PARTS), mode="r")
    write_parts(store, name, later, keep=[ID_STRIDE + 900])  # 901 no longer stored
    image = np.asarray(parts[1])
    assert (image[1, 1], image[1, 2], image[3, 3], image[5, 5]) == (900, 900, 0, 902)
    assert np.count_nonzero(image) == 3 and not np.asarray(parts[0]).any()
