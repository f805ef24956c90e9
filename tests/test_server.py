"""The local server's lifecycle, each test with a throwaway server of its own (~5 s per start)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import free_port
from neotrack.cli import main
from neotrack.errors import AuthenticationError, ServerError
from neotrack.server import ServerSettings, start, status, stop
from neotrack.store import Store
from scenes import grid_segments

pytestmark = pytest.mark.server


def test_sigkill_then_restart_keeps_committed_data(private_server: ServerSettings) -> None:
    first = start(private_server)
    segments = grid_segments(3, 4)
    with Store(uri=private_server.uri) as store:
        store.create_dataset("survivor")
        store.write_segments("survivor", segments)
    assert first.pid is not None
    os.kill(first.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while status(private_server).running and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not status(private_server).running

    second = start(private_server)
    assert second.pid != first.pid
    with Store(uri=private_server.uri) as store:
        back = store.read_segments("survivor")
    assert back.id.tolist() == sorted(segments.id.tolist())
    assert stop(private_server)
    assert not status(private_server).running


def test_stop_then_start_again_keeps_data(private_server: ServerSettings) -> None:
    start(private_server)
    with Store(uri=private_server.uri) as store:
        store.create_dataset("kept", source="x")
    assert stop(private_server)
    assert not stop(private_server)  # stopping twice is harmless
    start(private_server)
    with Store(uri=private_server.uri) as store:
        assert store.dataset("kept")["source"] == "x"


def test_running_server_is_reported_at_the_port_it_runs_on(private_server: ServerSettings) -> None:
    first = start(private_server)
    elsewhere = private_server.model_copy(update={"port": free_port()})
    assert status(elsewhere).uri == first.uri == private_server.uri
    args = ["--data-dir", str(private_server.data_dir), "--port", str(elsewhere.port)]

    shown = CliRunner().invoke(main, ["db", "status", *args])
    assert shown.exit_code == 0
    assert shown.stdout.startswith(f"running at {private_server.uri}, pid {first.pid}, answering")

    again = CliRunner().invoke(main, ["db", "start", *args])
    assert again.exit_code == 0
    assert again.stdout.strip() == private_server.uri
    assert f"already runs at {private_server.uri} (pid {first.pid}), not at {elsewhere.uri}" in again.stderr
    assert status(private_server).pid == first.pid
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", elsewhere.port))  # no second server took the other port

    private_server.pid_file.write_text(f"{first.pid}\n")  # written before host and port were recorded
    assert status(private_server).running
    assert status(elsewhere).uri == elsewhere.uri  # all it can go by


def test_taken_port_is_one_clear_line(private_server: ServerSettings) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", private_server.port))
        sock.listen()
        with pytest.raises(ServerError, match=f"port {private_server.port} .* already in use"):
            start(private_server)
    assert not status(private_server).running


def test_data_dir_used_by_another_server_is_refused(private_server: ServerSettings) -> None:
    start(private_server)
    hidden = private_server.pid_file.with_suffix(".hidden")
    private_server.pid_file.rename(hidden)  # now the running server is a stranger's
    try:
        other = private_server.model_copy(update={"port": free_port()})
        with pytest.raises(ServerError, match="in use by another Neo4j process"):
            start(other)
    finally:
        hidden.rename(private_server.pid_file)  # so that the fixture stops it


def test_wrong_credentials_are_one_clear_line(private_server: ServerSettings) -> None:
    secured = private_server.model_copy(update={"password": "s3cret-pass"})
    start(secured)
    with pytest.raises(AuthenticationError, match="refused user 'neo4j'") as info:
        Store(uri=secured.uri, password="wrong")
    assert "\n" not in str(info.value)
    with Store(uri=secured.uri, password="s3cret-pass") as store:
        assert store.query("RETURN 1 AS one").one[0] == 1
    stop(secured)


def test_listening_beyond_loopback_needs_a_password(tmp_path: Path) -> None:
    settings = ServerSettings.from_env(data_dir=tmp_path, host="0.0.0.0", port=free_port())
    with pytest.raises(ServerError, match="set a password"):
        start(settings)


def test_missing_java_is_one_clear_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(tmp_path)  # no java (nor anything else) on PATH
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "neotrack",
            "db",
            "start",
            "--data-dir",
            str(tmp_path / "db"),
            "--port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 1
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("Error:")]
    assert errors == [ln for ln in proc.stderr.splitlines() if "Error" in ln or "Trace" in ln]
    assert len(errors) == 1 and "Java not found" in errors[0]


def test_transaction_logs_are_bounded(private_server: ServerSettings) -> None:
    """Neo4j keeps two days of transaction logs by default (for backups a local server has not):
    14 GB after a day of benchmarks. The toolkit's server keeps a bounded amount."""
    start(private_server)
    with Store(uri=private_server.uri) as store:
        rows = store._driver.execute_query(
            "SHOW SETTINGS YIELD name, value WHERE name = $name RETURN value",
            name="db.tx_log.rotation.retention_policy",
        ).records
    assert [r["value"] for r in rows] == ["256M size"]
