"""The README's Python example and the notebook run as written (against the test server)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import SHARED_DATA
from neotrack.server import ServerSettings
from neotrack.store import Store

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_python_example_runs(
    server: ServerSettings, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    block = next(b for b in _blocks() if "simulate(" in b)
    if store.has_dataset("example"):
        pytest.skip("a dataset named 'example' exists on this server; not touching it")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEOTRACK_NEO4J_URI", store.uri)
    namespace: dict[str, object] = {}
    try:
        exec(compile(block, "README.md", "exec"), namespace)
        assert (tmp_path / "example" / "01" / "t019.tif").exists()
        assert sorted(set(namespace["window"].segments.t)) == [10, 11, 12, 13, 14]  # type: ignore[attr-defined]
        assert len(namespace["per_frame"]) == 20  # type: ignore[arg-type]
    finally:
        if store.has_dataset("example"):
            store.delete_dataset("example")


@pytest.mark.realdata
@pytest.mark.skipif(not (SHARED_DATA / "Fluo-N2DH-SIM+").exists(), reason="shared data absent")
def test_readme_segment_example_runs(
    server: ServerSettings, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    block = next(b for b in _blocks() if "segment(" in b)
    assert len(_blocks()) == 2
    if store.has_dataset("sim"):
        pytest.skip("a dataset named 'sim' exists on this server; not touching it")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEOTRACK_NEO4J_URI", store.uri)
    namespace: dict[str, object] = {}
    try:
        exec(compile(block.replace("../shared/data", str(SHARED_DATA)), "README.md", "exec"), namespace)
        assert namespace["result"].n_frames == 65  # type: ignore[attr-defined]
        assert namespace["mask"].sum() > 0  # type: ignore[attr-defined]
        assert (tmp_path / "sim.zarr").exists()
    finally:
        if store.has_dataset("sim"):
            store.delete_dataset("sim")


def test_notebook_code_cells_run(
    server: ServerSettings, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = json.loads((README.parent / "notebooks" / "01-graph-store.ipynb").read_text())
    if store.has_dataset("notebook"):
        pytest.skip("a dataset named 'notebook' exists on this server; not touching it")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEOTRACK_NEO4J_URI", store.uri)
    namespace: dict[str, object] = {}
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), "notebook", "exec"), namespace)
    assert len(namespace["divisions"]) == namespace["scene"].n_divisions  # type: ignore[arg-type,attr-defined]
    assert not store.has_dataset("notebook")
