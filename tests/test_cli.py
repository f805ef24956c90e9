"""The command line over the real server: query with parameters, datasets, demo, db status."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from click.testing import CliRunner

from neotrack.cli import main
from neotrack.server import ServerSettings
from neotrack.store import Store
from scenes import grid_segments


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_query_with_parameters_prints_a_table(store: Store, dataset: str) -> None:
    store.write_segments(dataset, grid_segments(3, 2))
    code, out, _ = _run(
        "query",
        "MATCH (s:Segment {dataset: $d}) WHERE s.t >= $t RETURN s.t AS t, count(*) AS n ORDER BY t",
        "-p",
        f"d={dataset}",
        "-p",
        "t=1",
        "--uri",
        store.uri,
    )
    assert code == 0
    assert out.split() == ["t", "n", "1", "2", "2", "2"]
    code, out, _ = _run(
        "query",
        "RETURN $xs AS xs, $name AS name",
        "-p",
        "xs=[1, 2]",
        "-p",
        "name=it's",
        "--format",
        "json",
        "--uri",
        store.uri,
    )
    assert json.loads(out) == [{"xs": [1, 2], "name": "it's"}]


def test_query_errors_are_one_line(store: Store) -> None:
    code, out, err = _run("query", "MATCH (n RETURN n", "--uri", store.uri)
    assert code == 1 and out == ""
    assert err.startswith("Error: Cypher syntax error") and len(err.strip().splitlines()) == 1
    code, _, err = _run("query", "RETURN 1", "--uri", "nonsense")
    assert code == 1 and "bad Neo4j URI 'nonsense'" in err and len(err.strip().splitlines()) == 1


def test_datasets_list_and_delete(store: Store, dataset: str) -> None:
    store.write_segments(dataset, grid_segments(2, 3))
    code, out, _ = _run("datasets", "list", "--uri", store.uri)
    row = next(ln.split() for ln in out.splitlines() if ln.split()[0] == dataset)
    assert code == 0 and row[2] == "6"  # name, created, segments, ...
    code, out, _ = _run("datasets", "delete", dataset, "--yes", "--uri", store.uri)
    assert code == 0 and "6 segments" in out and not store.has_dataset(dataset)
    code, _, err = _run("datasets", "delete", dataset, "--yes", "--uri", store.uri)
    assert code == 1 and "no dataset" in err


def test_demo_tracks_and_shows(store: Store, tmp_path: Path) -> None:
    name = f"demo-{uuid.uuid4().hex[:8]}"
    try:
        code, out, _ = _run(
            "demo", "-o", str(tmp_path), "--dataset", name, "--frames", "12", "--uri", store.uri
        )
        assert code == 0, out
        assert (tmp_path / "01" / "t011.tif").exists() and (tmp_path / "01_RES" / "res_track.txt").exists()
        n_candidates = store.time_range(name)[2]
        assert f"{n_candidates} candidates" in out and n_candidates > 0
        tra = float(out.split("TRA ")[1].split(",")[0])
        assert tra > 0.9, out
    finally:
        if store.has_dataset(name):
            store.delete_dataset(name)


def test_db_status_of_the_running_server(server: ServerSettings) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "neotrack",
            "db",
            "status",
            "--port",
            str(server.port),
            "--data-dir",
            str(server.data_dir),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0 and "answering" in proc.stdout
    code, out, _ = _run("db", "status", "--data-dir", "/nonexistent/neotrack")
    assert code == 3 and "not running" in out
