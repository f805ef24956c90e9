"""Exports and imports on real files: h5 layout snapshot, round trips, CTC import of real results."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import SHARED_DATA
from neotrack.config import Config
from neotrack.datasets import simulate, write_ctc
from neotrack.errors import DatasetExistsError
from neotrack.export import (
    import_ctc,
    import_h5_events,
    objects_table,
    to_csv,
    to_ctc,
    to_h5_events,
    to_napari,
    to_networkx,
)
from neotrack.store import Lineage, Store
from neotrack.track import track

LAYOUT = Path(__file__).resolve().parents[1] / "schema" / "h5-layout.md"


@pytest.fixture
def solved(store: Store, name: str, tmp_path: Path) -> str:
    """A tracked generated scene with divisions."""
    scene = simulate(n_frames=12, n_cells=10, division_rate=0.15, seed=41)
    write_ctc(scene, tmp_path / "movie")
    config = Config()
    config.data.working_dir = tmp_path
    config.segmentation.min_area, config.segmentation.max_area = 60, 600
    track(tmp_path / "movie" / "01", tmp_path / "res", config=config, dataset=name, store=store)
    assert len(Lineage(store, name).divisions()) > 0
    return name


def documented_layout() -> dict[str, tuple[str, str]]:
    rows = re.findall(r"^\| `([^`]+)` \| (\w+) \|[^|]*\| ([^|]*) \|", LAYOUT.read_text(), flags=re.M)
    return {path: (dtype, fmt.strip()) for path, dtype, fmt in rows}


def test_h5_files_follow_the_documented_layout(store: Store, solved: str, tmp_path: Path) -> None:
    out = to_h5_events(solved, tmp_path / "h5", store)
    layout = documented_layout()
    seen: set[str] = set()
    for path in sorted(out.glob("*.h5")):
        with h5py.File(path) as f:

            def check(name: str, obj: h5py.HLObject, path: Path = path) -> None:
                key = "/" + name
                key = "/tracking/<event>-Energy" if key.endswith("-Energy") else key
                key = (
                    "/tracking/ResolvedMergers/<id>" if key.startswith("/tracking/ResolvedMergers/") else key
                )
                if isinstance(obj, h5py.Group) and key not in layout:
                    return  # intermediate groups (/objects, /segmentation)
                assert key in layout, f"{path.name}: {key} is not documented"
                dtype, fmt = layout[key]
                if isinstance(obj, h5py.Dataset):
                    assert obj.dtype == np.dtype(dtype), (path.name, key)
                    assert obj.attrs.get("Format", "—") == fmt, (path.name, key)
                    if key.startswith("/tracking/") and obj.ndim == 2:
                        assert np.all(np.diff(obj[:, 0].astype(np.int64)) <= 0)  # descending
                seen.add(key)

            f.visititems(check)
            labels = f["segmentation/labels"][:]
            assert labels.ndim == 3 and labels.shape[2] == 1 and labels.shape[:2] == (256, 256)
            assert np.array_equal(f["objects/meta/id"][:], np.unique(labels)[1:])
            if path.name == "00000.h5":
                assert len(f["tracking"]) == 0  # the first file holds no events
            else:  # every id refers to this file's labels or the previous file's
                for event in ("Moves", "Splits", "Appearances"):
                    if event in f["tracking"]:
                        assert np.isin(f["tracking"][event][:, -1], f["objects/meta/id"][:]).all()
    assert {"/tracking/Moves", "/tracking/Splits", "/segmentation/labels"} <= seen


def test_h5_round_trip_gives_the_same_lineages(store: Store, solved: str, tmp_path: Path) -> None:
    to_h5_events(solved, tmp_path / "h5", store)
    back = f"{solved}-h5"
    try:
        import_h5_events(tmp_path / "h5", back, store)
        a, b = Lineage(store, solved), Lineage(store, back)
        assert a.tracks().equals(b.tracks())
        assert (
            a.divisions().drop(columns="parent_segment").equals(b.divisions().drop(columns="parent_segment"))
        )
        with pytest.raises(DatasetExistsError, match="previous result"):
            to_h5_events(solved, tmp_path / "h5", store)
    finally:
        if store.has_dataset(back):
            store.delete_dataset(back)


def test_ctc_round_trip_gives_the_same_lineages(store: Store, solved: str, tmp_path: Path) -> None:
    back = f"{solved}-ctc"
    try:
        import_ctc(tmp_path / "res", back, store=store)
        a, b = Lineage(store, solved), Lineage(store, back)
        assert a.tracks().drop(columns="lineage_id").equals(b.tracks().drop(columns="lineage_id"))
        assert len(a.divisions()) == len(b.divisions())
    finally:
        if store.has_dataset(back):
            store.delete_dataset(back)


def test_tables_napari_and_networkx(store: Store, solved: str, tmp_path: Path) -> None:
    objects = objects_table(solved, store)
    assert list(objects.columns[:6]) == [
        "frame",
        "labelimageId",
        "trackId",
        "lineageId",
        "parentTrackId",
        "mergerLabelId",
    ]
    out = to_csv(solved, tmp_path / "csv", store)
    divisions = (out / "divisions.csv").read_text().splitlines()
    assert divisions[0] == "timestep_parent,track_id_parent,track_id_child1,track_id_child2"
    assert len(divisions) - 1 == len(Lineage(store, solved).divisions())
    children = set(objects.trackId[objects.parentTrackId > 0])
    tracks, graph = to_napari(solved, store)
    assert set(graph) == children and list(tracks.columns) == ["track_id", "t", "y", "x"]
    g = to_networkx(solved, store)
    assert g.number_of_nodes() == len(objects) and max(d for _, d in g.out_degree()) == 2


@pytest.mark.realdata
@pytest.mark.skipif(not (SHARED_DATA / "bacteria-vanvliet").exists(), reason="shared data absent")
def test_imported_real_result_and_ground_truth_score_as_published(
    store: Store, name: str, tmp_path: Path
) -> None:
    from ctc_metrics import evaluate_sequence

    data = SHARED_DATA / "bacteria-vanvliet"
    gt_name = f"{name}-gt"
    try:
        import_ctc(data / "01_RES", name, store=store)
        import_ctc(data / "01_GT" / "TRA", gt_name, store=store)
        to_ctc(name, tmp_path / "res", store)
        to_ctc(gt_name, tmp_path / "gt" / "TRA", store)
        for path in (tmp_path / "gt" / "TRA").iterdir():  # a CTC ground-truth folder's names
            path.rename(path.with_name(path.name.replace("mask", "man_track").replace("res_", "man_")))
        with contextlib.redirect_stdout(io.StringIO()):
            scores = evaluate_sequence(
                str(tmp_path / "res"), str(tmp_path / "gt"), metrics=["DET", "TRA", "LNK"], threads=1
            )
        assert scores["DET"] == 1.0
        assert round(scores["TRA"], 4) == 0.9977 and round(scores["LNK"], 4) == 0.9827
        assert len(Lineage(store, gt_name).divisions()) == 356
    finally:
        if store.has_dataset(gt_name):
            store.delete_dataset(gt_name)


def test_ctc_options_margin_dilation_first_frame(store: Store, solved: str, tmp_path: Path) -> None:
    import tifffile

    def masks(folder: Path) -> np.ndarray:
        return np.stack([tifffile.imread(p) for p in sorted(folder.glob("mask*.tif"))])

    plain = masks(to_ctc(solved, tmp_path / "plain", store))
    grown = masks(to_ctc(solved, tmp_path / "grown", store, dilation=2))
    assert (grown > 0).sum() > (plain > 0).sum() and np.array_equal(grown[plain > 0], plain[plain > 0])
    inner = masks(to_ctc(solved, tmp_path / "inner", store, margin=20))
    assert not inner[:, :20].any() and not inner[:, :, -20:].any() and inner.any()
    # keep only the lineages of two cells marked in frame 0
    first = Lineage(store, solved).alive_at(0).head(2)
    markers = np.zeros(plain.shape[1:], np.uint16)
    for label, (y, x) in enumerate(first[["y", "x"]].to_numpy(), start=1):
        markers[int(y) - 2 : int(y) + 2, int(x) - 2 : int(x) + 2] = label
    chosen = to_ctc(solved, tmp_path / "chosen", store, first_frame=markers)
    lines = np.loadtxt(chosen / "res_track.txt", dtype=int, ndmin=2)
    roots = lines[lines[:, 3] == 0]
    assert len(roots) == 2 and (roots[:, 1] == 0).all()
    assert len(np.unique(masks(chosen)[0])) == 3  # background and the two chosen cells


def test_zarr_labels_and_geff(store: Store, solved: str, tmp_path: Path) -> None:
    import geff

    from neotrack.export import to_geff, to_zarr

    volume = to_zarr(solved, tmp_path / "tracks.zarr", store)
    objects = objects_table(solved, store)
    assert volume.shape[0] == 12 and set(np.unique(volume[5])) - {0} == set(
        objects.trackId[objects.frame == 5]
    )
    path = to_geff(solved, tmp_path / "lineage.geff", store)
    geff.validate_structure(str(path))
    graph, meta = geff.read(str(path))
    assert graph.number_of_nodes() == len(objects) and [a.name for a in meta.axes] == ["t", "y", "x"]
    with pytest.raises(DatasetExistsError):
        to_geff(solved, path, store)


@pytest.mark.realdata
@pytest.mark.skipif(not (SHARED_DATA / "bacteria-vanvliet").exists(), reason="shared data absent")
def test_evaluate_cli_prints_the_official_scores() -> None:
    from click.testing import CliRunner

    from neotrack.cli import main

    data = SHARED_DATA / "bacteria-vanvliet"
    result = CliRunner().invoke(
        main, ["evaluate", "--gt", str(data / "01_GT"), "--res", str(data / "01_RES")]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["DET", "1.0000", "TRA", "0.9977", "LNK", "0.9827"]
