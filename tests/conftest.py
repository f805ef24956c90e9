"""Fixtures: the real local Neo4j (started here when not running), stores and throwaway datasets."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from neotrack.server import ServerSettings, start, status, stop
from neotrack.store import Store

SHARED_DATA = Path(
    os.environ.get("NEOTRACK_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
)


@pytest.fixture(autouse=True)
def working_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own pixel home (``NEOTRACK_WORKING_DIR``), so none writes into the checkout."""
    folder = tmp_path / "working-dir"
    monkeypatch.setenv("NEOTRACK_WORKING_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def server() -> Iterator[ServerSettings]:
    """The local Neo4j of the environment's settings; started (and stopped) here if not running."""
    settings = ServerSettings.from_env()
    started_here = not status(settings).running
    if started_here:
        start(settings)
    yield settings
    if started_here:
        stop(settings)


@pytest.fixture(scope="session")
def store(server: ServerSettings) -> Iterator[Store]:
    with Store(uri=os.environ.get("NEOTRACK_NEO4J_URI") or server.uri) as s:
        yield s


@pytest.fixture
def dataset(store: Store) -> Iterator[str]:
    """A fresh, empty dataset with a unique name, deleted afterwards."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    store.create_dataset(name, ndim=2, shape=[10, 64, 64])
    yield name
    if store.has_dataset(name):
        store.delete_dataset(name)


@pytest.fixture
def name(store: Store) -> Iterator[str]:
    """A unique dataset name; whatever the test stored under it is deleted afterwards."""
    value = f"test-{uuid.uuid4().hex[:10]}"
    yield value
    if store.has_dataset(value):
        store.delete_dataset(value)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def private_server(tmp_path: Path) -> Iterator[ServerSettings]:
    """Settings for a second, throwaway server (own data dir and port); stopped afterwards."""
    settings = ServerSettings.from_env(
        data_dir=tmp_path / "neo4j", port=free_port(), heap="512m", pagecache="64m"
    )
    yield settings
    stop(settings)
