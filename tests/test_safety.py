"""Users' files and the graph's state survive name clashes, overwrites, interruptions and races.

Each test reproduces a way the toolkit once destroyed a file or returned a wrong result with exit
code 0; each runs against the real local Neo4j, real files and the real solver.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr
from click.testing import CliRunner

from graphs import assert_valid, sid, store_graph
from neotrack.candidates import MASKS, CandidateMasks, segment
from neotrack.cli import main
from neotrack.config import Config
from neotrack.datasets import simulate, write_ctc
from neotrack.errors import DatasetBusyError, DatasetExistsError, InputError, StoreError
from neotrack.export import to_ctc, to_h5_events, to_zarr
from neotrack.linking import link
from neotrack.solve import solve
from neotrack.store import ID_STRIDE, Lineage, Store

ROOT = Path(__file__).resolve().parents[1]


def config(**segmentation: object) -> Config:
    cfg = Config()
    cfg.segmentation.min_area, cfg.segmentation.max_area = 60, 600
    for key, value in segmentation.items():
        setattr(cfg.segmentation, key, value)
    return cfg


def tree_digest(folder: Path) -> str:
    """A hash of every file's path and bytes under ``folder``."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return h.hexdigest()


@pytest.fixture
def movie(tmp_path: Path) -> Path:
    """A generated CTC movie: ``movie/01`` raw TIFFs (and ``01_GT``)."""
    return write_ctc(simulate(n_frames=6, shape=(128, 128), n_cells=5, seed=3), tmp_path / "movie")


@pytest.fixture
def tracked(store: Store, name: str, movie: Path, tmp_path: Path) -> str:
    from neotrack.track import track

    track(movie, tmp_path / "res", config=config(), dataset=name, store=store)
    return name


# --- 1. an input named like the dataset is never opened for writing ---------------------------
def test_segment_leaves_an_input_named_like_the_dataset_intact(
    store: Store, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = simulate(n_frames=4, shape=(96, 96), n_cells=4, seed=1)
    zarr.create_array(str(tmp_path / f"{name}.zarr"), data=scene.images)
    before = tree_digest(tmp_path / f"{name}.zarr")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEOTRACK_WORKING_DIR")  # the default pixel home, as a user has it
    result = CliRunner().invoke(main, ["segment", f"{name}.zarr", "--dataset", name, "--uri", store.uri])
    assert result.exit_code == 0, result.output
    assert tree_digest(tmp_path / f"{name}.zarr") == before
    assert store.info(name).segment.attrs["candidates"] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{name}.zarr"]  # nothing else written here


# --- 2. names that differ only in odd characters keep their own masks --------------------------
def test_datasets_whose_names_map_to_one_file_name_keep_their_own_masks(
    store: Store, name: str, tmp_path: Path
) -> None:
    a, b = simulate(n_frames=3, n_cells=4, seed=5), simulate(n_frames=3, n_cells=6, seed=6)
    first, second = f"{name} 1", f"{name}_1"
    try:
        segment(labels=a.labels, dataset=first, store=store)
        segment(labels=b.labels, dataset=second, store=store)
        for dataset, scene in ((first, a), (second, b)):
            masks = CandidateMasks(store, dataset)
            ids = store.read_segments(dataset, 1, 2).id.tolist()
            painted = masks.paint(ids, [int(i) % ID_STRIDE for i in ids])
            assert np.array_equal(painted, scene.labels[1])
        assert store.pixels(first) != store.pixels(second)
    finally:
        for dataset in (first, second):
            if store.has_dataset(dataset):
                store.delete_dataset(dataset)


def test_frames_read_ahead_come_in_the_order_asked_each_as_read_alone(store: Store, name: str) -> None:
    scene = simulate(n_frames=6, n_cells=5, seed=3)
    segment(labels=scene.labels, dataset=name, store=store)
    masks = CandidateMasks(store, name)
    order = [4, 0, 5, 2, 2, 1]
    got = list(masks.frames(order, ahead=3))
    assert [f.t for f in got] == order
    for frame in got:
        alone = masks._load_frame(frame.t)
        assert frame.segments.equals(alone.segments) and frame.parent == alone.parent
        assert np.array_equal(frame.leaves, alone.leaves)
        ids = frame.segments.index.tolist()
        assert np.array_equal(frame.paint(ids, [int(i) % ID_STRIDE for i in ids]), scene.labels[frame.t])
    with pytest.raises(InputError, match="not a candidate of frame 0"):  # another frame's segment
        next(masks.frames([0])).mask(ID_STRIDE + 1)


def test_masks_and_graph_must_agree_on_the_dataset_id(store: Store, name: str) -> None:
    segment(labels=simulate(n_frames=2, n_cells=3, seed=7).labels, dataset=name, store=store)
    group = zarr.open_group(str(store.pixels(name) / MASKS), mode="r+")
    group.attrs["neotrack"] = {"dataset": name, "dataset_uid": "someone-else"}
    with pytest.raises(InputError, match="graph and its pixels disagree"):
        CandidateMasks(store, name)


def test_deleting_a_dataset_deletes_its_pixels_and_relocation_finds_moved_ones(
    store: Store, name: str, tmp_path: Path
) -> None:
    cfg = Config()
    cfg.data.working_dir = tmp_path / "first"
    segment(labels=simulate(n_frames=2, n_cells=3, seed=8).labels, dataset=name, config=cfg, store=store)
    folder = store.pixels(name)
    assert folder.parent == tmp_path / "first" and folder.name == store.info(name).uid
    (tmp_path / "second").mkdir()
    folder.rename(tmp_path / "second" / folder.name)
    with pytest.raises(InputError, match="datasets relocate"):
        CandidateMasks(store, name)
    runner = CliRunner()
    args = ["datasets", "relocate", name, "--working-dir", str(tmp_path / "second"), "--uri", store.uri]
    assert runner.invoke(main, args).exit_code == 0
    assert CandidateMasks(store, name).frame(1).leaves.any()
    store.delete_dataset(name)
    assert not (tmp_path / "second" / folder.name).exists()
    assert not list((tmp_path / "second").iterdir())


# --- 3. overwrite only what we wrote; outputs never inside inputs ------------------------------
def test_track_into_its_own_input_is_refused_before_any_work(store: Store, name: str, movie: Path) -> None:
    before = tree_digest(movie)
    for extra in ([], ["--overwrite"]):
        args = ["track", str(movie), "-o", str(movie), "--dataset", name, "--uri", store.uri, *extra]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and "Error:" in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
    assert tree_digest(movie) == before
    assert not store.has_dataset(name)  # refused before segmenting


def test_export_overwrites_only_its_own_files(store: Store, tracked: str, tmp_path: Path) -> None:
    out = tmp_path / "export"
    to_ctc(tracked, out, store)
    (out / "mask099.tif").write_bytes(b"a stale mask of an earlier, longer result")
    to_ctc(tracked, out, store, overwrite=True)  # replaces our own files, stale ones included
    assert not (out / "mask099.tif").exists() and (out / "res_track.txt").exists()
    (out / "notes.txt").write_text("the user's")
    runner = CliRunner()
    for fmt in ("ctc", "h5"):
        args = ["export", fmt, "--dataset", tracked, "-o", str(out), "--overwrite", "--uri", store.uri]
        result = runner.invoke(main, args)
        assert result.exit_code == 1 and ", which neotrack did not write" in result.output
    assert (out / "notes.txt").read_text() == "the user's" and (out / "res_track.txt").exists()
    with pytest.raises(InputError, match="inside the input"):
        to_h5_events(tracked, store.pixels(tracked) / "events", store)
    (tmp_path / "user.zarr").mkdir()
    with pytest.raises(DatasetExistsError, match="neotrack did not write it"):
        to_zarr(tracked, tmp_path / "user.zarr", store, overwrite=True)


# --- 4. stage state never outlives what it describes --------------------------------------------
def test_stage_state_follows_every_replacement(store: Store, tracked: str, tmp_path: Path) -> None:
    assert store.info(tracked).solve.done
    store.clear_solution(tracked)
    with pytest.raises(InputError, match="has no solution"):
        to_ctc(tracked, tmp_path / "a", store)
    with pytest.raises(InputError, match="has no solution"):
        Lineage(store, tracked)
    solve(tracked, config(), store)
    link(tracked, config(), store, overwrite=True)
    info = store.info(tracked)
    assert info.link.done and info.solve.status is None and store.read_solution(tracked)[0].empty
    with pytest.raises(InputError, match="has no solution"):
        to_ctc(tracked, tmp_path / "b", store)
    solve(tracked, config(), store)
    segment(
        labels=simulate(n_frames=6, shape=(128, 128), n_cells=2, seed=9).labels,
        dataset=tracked,
        store=store,
        overwrite=True,
    )
    info = store.info(tracked)
    assert info.segment.done and info.link.status is None and info.solve.status is None
    assert store.read_links(tracked).empty
    with pytest.raises(InputError, match="has no links yet"):
        solve(tracked, config(), store)


def test_an_interrupted_solve_is_refused_by_readers(
    store: Store, tracked: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import neotrack.solve._solve as solving

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(solving, "assign_tracks", interrupted)  # after the windows, before track ids
    with pytest.raises(KeyboardInterrupt):
        solve(tracked, config(), store)
    monkeypatch.undo()
    assert store.info(tracked).solve.interrupted and store.info(tracked).lock_stage is None
    for reader in (lambda: to_ctc(tracked, tmp_path / "x", store), lambda: Lineage(store, tracked)):
        with pytest.raises(InputError, match=r"solve step of dataset .* was interrupted"):
            reader()
    result = CliRunner().invoke(main, ["lineage", "tracks", "--dataset", tracked, "--uri", store.uri])
    assert result.exit_code == 1 and "interrupted" in result.output
    solve(tracked, config(), store)
    assert_valid(store, tracked)


def test_an_interrupted_link_resumes(store: Store, tracked: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import neotrack.linking._link as linking

    reference = store.read_links(tracked, extra=["iou"])
    real = linking.frame_links

    def stop_at_frame_3(a, b, *args):  # type: ignore[no-untyped-def]
        if a.t == 3:
            raise KeyboardInterrupt
        return real(a, b, *args)

    monkeypatch.setattr(linking, "frame_links", stop_at_frame_3)
    small = Store(uri=store.uri, batch_size=1)  # every frame's links are committed at once
    try:
        with pytest.raises(KeyboardInterrupt):
            link(tracked, config(), small, overwrite=True)
        monkeypatch.undo()
        state = store.info(tracked).link
        assert state.interrupted and state.next_frame == 3
        with pytest.raises(InputError, match=r"link step .* was interrupted"):
            solve(tracked, config(), store)
        link(tracked, config(), small)  # no --overwrite needed: it resumes
    finally:
        small.close()
    got = store.read_links(tracked, extra=["iou"])
    assert got[["source", "target"]].equals(reference[["source", "target"]])
    assert np.allclose(got.weight, reference.weight)


def test_a_failed_link_write_stops_the_run_and_keeps_the_resume_point_behind_what_is_stored(
    store: Store, tracked: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = store.read_links(tracked)
    small = Store(uri=store.uri, batch_size=1)  # a batch per frame pair
    real, calls = small.write_links, []

    def fail_on_the_third(dataset, table, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(int(table.source.iloc[0]) // ID_STRIDE)
        if len(calls) == 3:
            raise StoreError("the disk is full")
        return real(dataset, table, *args, **kwargs)

    monkeypatch.setattr(small, "write_links", fail_on_the_third)
    try:
        with pytest.raises(StoreError, match="disk is full"):
            link(tracked, config(), small, overwrite=True)
        monkeypatch.undo()
        state = store.info(tracked).link
        # the resume point lies right behind the last batch stored: the third frame's links are not
        assert state.interrupted and state.next_frame == calls[2]
        stored = store.read_links(tracked)
        assert set(stored.source // ID_STRIDE) == set(calls[:2])
        link(tracked, config(), small)  # resumes there
    finally:
        small.close()
    assert store.read_links(tracked)[["source", "target"]].equals(reference[["source", "target"]])


# --- 5. one writer per dataset, whatever machine it runs on --------------------------------------
def test_a_second_writer_is_refused_and_writes_nothing(store: Store, tracked: str) -> None:
    before = store.read_solution(tracked)
    with Store(uri=store.uri) as other, other.writing(tracked, "solve"):
        with pytest.raises(DatasetBusyError, match=r"being written by `solve` on .* \(pid \d+"):
            solve(tracked, config(), store)
        with pytest.raises(DatasetBusyError):
            store.write_selection(tracked, [int(before[0].id[0])])
        with pytest.raises(DatasetBusyError):
            store.delete_dataset(tracked)
        result = CliRunner().invoke(main, ["solve", "--dataset", tracked, "--uri", store.uri])
        assert result.exit_code == 1 and "being written by `solve`" in result.output
    after = store.read_solution(tracked)
    assert before[0].equals(after[0]) and before[1].equals(after[1])


def test_two_solves_at_once_leave_one_valid_solution(
    store: Store, tracked: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import neotrack.solve._solve as solving

    errors: list[BaseException] = []
    inside, release = threading.Event(), threading.Event()
    real = solving.assign_tracks

    def parked(*args: object) -> object:  # the first solve waits here, its lock held
        inside.set()
        release.wait(60)
        return real(*args)

    monkeypatch.setattr(solving, "assign_tracks", parked)
    before = store.info(tracked).solve.attrs["run"]

    def run() -> None:
        with Store(uri=store.uri) as own:
            try:
                solve(tracked, config(), own)
            except BaseException as exc:
                errors.append(exc)

    first = threading.Thread(target=run)
    first.start()
    assert inside.wait(60), "the first solve did not start"
    second = threading.Thread(target=run)  # certainly while the first one runs
    second.start()
    second.join()
    release.set()
    first.join()
    assert len(errors) <= 1
    assert len(errors) == 1 and isinstance(errors[0], DatasetBusyError), errors
    assert store.info(tracked).solve.done and store.info(tracked).solve.attrs["run"] != before
    assert_valid(store, tracked)


_HOLD_LOCK = """
import sys, time
from neotrack.store import Store
store = Store(uri=sys.argv[1])
with store.writing(sys.argv[2], "solve"):
    print("locked", flush=True)
    time.sleep(600)
"""


def test_a_lock_left_by_a_killed_process_is_taken_over(store: Store, tracked: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, store.uri, tracked], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(DatasetBusyError):
            solve(tracked, config(), store)
        os.kill(proc.pid, signal.SIGKILL)  # kill -9: no chance to release the lock
        proc.wait()
    finally:
        proc.kill()
    assert store.info(tracked).lock_stage == "solve"
    solve(tracked, config(), store)  # same machine, dead pid: the lock is stale at once
    assert store.info(tracked).lock_stage is None and store.info(tracked).solve.done


def _foreign_lock(store: Store, dataset: str, seconds_ago: float) -> None:
    """A lock of a run on another machine whose last heartbeat was ``seconds_ago``."""
    store.query(
        "MATCH (d:Dataset {name: $d}) SET d.lock_owner = 'gone', d.lock_stage = 'solve', "
        "d.lock_host = 'elsewhere', d.lock_pid = 1, d.lock_since = datetime() - duration({hours: 1}), "
        "d.lock_seen = datetime() - duration({seconds: $s})",
        d=dataset,
        s=seconds_ago,
        write=True,
    )


def test_a_lock_without_heartbeat_expires(store: Store, tracked: str) -> None:
    from neotrack.store._connection import LOCK_TIMEOUT

    _foreign_lock(store, tracked, LOCK_TIMEOUT - 10)  # alive: it beat within the timeout
    with pytest.raises(DatasetBusyError, match="elsewhere"):
        solve(tracked, config(), store)
    _foreign_lock(store, tracked, LOCK_TIMEOUT + 10)  # silent for longer than the timeout
    solve(tracked, config(), store)
    assert store.info(tracked).lock_stage is None


def test_a_held_lock_is_kept_alive_by_its_heartbeat(
    store: Store, tracked: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import neotrack.store._catalogue as catalogue

    monkeypatch.setattr(catalogue, "HEARTBEAT_INTERVAL", 0.2)
    with Store(uri=store.uri) as holder, holder.writing(tracked, "solve"):
        first = store.dataset(tracked)["lock_seen"]
        time.sleep(1.0)
        assert store.dataset(tracked)["lock_seen"] > first


# --- 6. resume checks the input and the settings that matter -------------------------------------
def test_resume_refuses_another_movie_of_the_same_shape(store: Store, name: str, tmp_path: Path) -> None:
    first = write_ctc(simulate(n_frames=5, shape=(96, 96), n_cells=4, seed=11), tmp_path / "a")
    second = write_ctc(simulate(n_frames=5, shape=(96, 96), n_cells=4, seed=12), tmp_path / "b")
    segment(first, dataset=name, config=config(), store=store)
    store.update_dataset(name, segment_status="running", segment_next_frame=2)  # as a killed run leaves it
    with pytest.raises(InputError, match="the input files changed"):
        segment(second, dataset=name, config=config(), store=store)
    workers = config()
    workers.data.n_workers = 2  # not a setting of the segmentation: resuming with it is fine
    assert segment(first, dataset=name, config=workers, store=store).resumed_at == 2


# --- windows without candidates ---------------------------------------------------------------
def test_windows_whose_frames_are_all_empty_are_solved(store: Store, name: str) -> None:
    segments = [(t, 1, 50.0, 50.0, 100) for t in (0, 1, 2, 8, 9)]
    links = [((0, 1), (1, 1), 0.9), ((1, 1), (2, 1), 0.9), ((8, 1), (9, 1), 0.9)]
    store_graph(store, name, segments, links)
    cfg = Config.from_dict({"tracking": {"window_size": 4, "overlap_size": 1}})
    result = solve(name, cfg, store)
    assert result.n_selected == 5
    assert {(a, b) for a, b in zip(*store.read_solution(name)[1].to_numpy().T, strict=True)} == {
        (sid(0, 1), sid(1, 1)),
        (sid(1, 1), sid(2, 1)),
        (sid(8, 1), sid(9, 1)),
    }


# --- the repository stays clean ------------------------------------------------------------------
def test_track_from_the_repository_root_leaves_git_status_clean(
    store: Store, name: str, movie: Path, tmp_path: Path
) -> None:
    def status() -> str:
        return subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    before = status()
    env = {k: v for k, v in os.environ.items() if k != "NEOTRACK_WORKING_DIR"}
    cfg = tmp_path / "cfg.toml"
    config().save(cfg)
    started = time.time()
    args = ["track", str(movie), "-o", str(tmp_path / "res"), "--dataset", name, "--config", str(cfg)]
    done = subprocess.run(
        [sys.executable, "-m", "neotrack", *args, "--uri", store.uri],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert status() == before
    assert not [p for p in ROOT.rglob("*.zarr") if p.stat().st_mtime >= started]
    assert store.pixels(name).parent.name in ("pixels", store.store_id)  # the store's data home
    tifffile.imread(tmp_path / "res" / "mask000.tif")


# --- found in review: late errors, lost locks, relative inputs, user folders -------------------
def test_a_writer_that_lost_its_lock_writes_nothing(store: Store, tracked: str) -> None:
    before = store.read_solution(tracked)
    with Store(uri=store.uri) as slow, slow.writing(tracked, "solve"):
        # its lock expired and another run took it over, finished and released it meanwhile
        store.query("MATCH (d:Dataset {name: $d}) REMOVE d.lock_owner", d=tracked, write=True)
        unselected = sorted(set(store.read_segments(tracked).id) - set(before[0].id))[:3]
        with pytest.raises(DatasetBusyError, match="lost the write lock"):
            slow.write_selection(tracked, [int(i) for i in unselected])
        with pytest.raises(DatasetBusyError, match="lost the write lock"):
            slow.clear_solution(tracked)
    after = store.read_solution(tracked)
    assert before[0].equals(after[0]) and before[1].equals(after[1])


def test_track_keeps_a_solved_dataset_when_a_late_step_fails(
    store: Store, name: str, movie: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import neotrack.track as tracking

    def failing_export(*args: object, **kwargs: object) -> None:
        raise InputError("more than 65535 tracks")

    monkeypatch.setattr(tracking, "to_ctc", failing_export)
    with pytest.raises(InputError, match="65535"):
        tracking.track(movie, tmp_path / "res", config=config(), dataset=name, store=store)
    assert store.info(name).solve.done  # hours of work are not thrown away for an export error


def test_overwrite_with_an_unwritable_working_dir_keeps_the_stored_candidates(
    store: Store, name: str, tmp_path: Path
) -> None:
    labels = simulate(n_frames=3, n_cells=4, seed=13).labels
    segment(labels=labels, dataset=name, store=store)
    n = store.time_range(name)[2]
    cfg = Config()
    cfg.data.working_dir = tmp_path / "a-file"
    cfg.data.working_dir.write_text("not a folder")
    with pytest.raises(InputError, match="cannot write pixels"):
        segment(labels=labels, dataset=name, config=cfg, store=store, overwrite=True)
    assert store.time_range(name)[2] == n and store.info(name).segment.done
    assert CandidateMasks(store, name).frame(0).leaves.any()


def test_flow_and_preprocess_never_replace_a_users_folder(tmp_path: Path) -> None:
    from neotrack.flow import timelapse_flow
    from neotrack.imgproc import preprocess

    images = simulate(n_frames=2, shape=(32, 32), n_cells=2, seed=14).images
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep")
    for run in (
        lambda: timelapse_flow(images, folder, overwrite=True),
        lambda: preprocess(images, folder, overwrite=True),
    ):
        with pytest.raises(DatasetExistsError, match="neotrack did not write it"):
            run()
    assert (folder / "notes.txt").read_text() == "keep"


def test_export_keeps_the_previous_result_when_a_check_fails(
    store: Store, tracked: str, tmp_path: Path
) -> None:
    out = tmp_path / "prev"
    to_ctc(tracked, out, store)
    before = tree_digest(out)
    pixels = store.pixels(tracked)
    pixels.rename(pixels.with_name("moved-away"))
    with pytest.raises(InputError, match="are in none of"):
        to_ctc(tracked, out, store, overwrite=True)
    assert tree_digest(out) == before


def test_inputs_are_protected_whatever_the_current_directory(
    store: Store, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from neotrack.export import import_ctc

    gt = write_ctc(simulate(n_frames=4, shape=(96, 96), n_cells=3, seed=15), tmp_path / "m").parent
    monkeypatch.chdir(gt / "01_GT")
    import_ctc("TRA", name, store=store)  # a relative path
    before = tree_digest(gt / "01_GT" / "TRA")
    monkeypatch.chdir(tmp_path)
    (gt / "01_GT" / "TRA" / "res_track.txt").write_text("")  # the folder now looks like a result
    with pytest.raises(InputError, match="is the input"):
        to_ctc(name, gt / "01_GT" / "TRA", store, overwrite=True)
    (gt / "01_GT" / "TRA" / "res_track.txt").unlink()
    assert tree_digest(gt / "01_GT" / "TRA") == before


def test_solve_keeps_an_imported_lineage_and_links_anywhere_are_protected(
    store: Store, name: str, tmp_path: Path
) -> None:
    from neotrack.export import import_ctc

    write_ctc(simulate(n_frames=4, shape=(96, 96), n_cells=3, seed=16), tmp_path / "m")
    import_ctc(tmp_path / "m" / "01_GT" / "TRA", name, store=store)
    with pytest.raises(InputError, match="imported lineage"):
        solve(name, config(), store)
    assert store.info(name).solve.attrs["solver"] == "import"
    other = f"{name}-links"
    try:
        segments = [(t, 1, 50.0, 50.0, 100) for t in range(5)]
        store_graph(store, other, segments, [((3, 1), (4, 1), 0.5)])  # links only in frames 3-4
        store.update_dataset(other, link_status=None)  # written by hand, not by `link`
        with pytest.raises(DatasetExistsError, match="did not make"):
            link(other, config(), store)
        assert len(store.read_links(other)) == 1
    finally:
        if store.has_dataset(other):
            store.delete_dataset(other)
