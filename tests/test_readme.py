"""The README's Python examples and the notebook run as written (against the test server).

README blocks marked ```python are run; blocks marked ```py are fragments.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import SHARED_DATA
from neotrack.store import Store

ROOT = Path(__file__).resolve().parents[1]


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def run_example(
    code: str, dataset: str, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """Run example code in a scratch folder against the test server; it may create ``dataset``.

    A user's own dataset of that name is never touched (the test is skipped instead); the
    example's is deleted afterwards.
    """
    if store.has_dataset(dataset):
        pytest.skip(f"a dataset named {dataset!r} exists on this server; not touching it")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEOTRACK_NEO4J_URI", store.uri)
    namespace: dict[str, Any] = {}
    try:
        exec(compile(code, "example", "exec"), namespace)
    finally:
        if store.has_dataset(dataset):
            store.delete_dataset(dataset)
    return namespace


def test_readme_python_example_runs(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    block = next(b for b in _blocks() if "simulate(" in b)
    result = run_example(block, "example", store, tmp_path, monkeypatch)
    assert (tmp_path / "example" / "01" / "t019.tif").exists()
    assert sorted(set(result["window"].segments.t)) == [10, 11, 12, 13, 14]
    assert len(result["per_frame"]) == 20


@pytest.mark.realdata
@pytest.mark.skipif(not (SHARED_DATA / "Fluo-N2DH-SIM+").exists(), reason="shared data absent")
def test_readme_segment_example_runs(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, working_dir: Path
) -> None:
    assert len(_blocks()) == 3
    block = next(b for b in _blocks() if "segment(" in b).replace("../shared/data", str(SHARED_DATA))
    result = run_example(block, "sim", store, tmp_path, monkeypatch)
    assert result["result"].n_frames == 65 and result["mask"].sum() > 0
    masks = result["result"].leaves_path  # <pixel home>/<dataset id>/masks.zarr, never the current dir
    assert masks.parent.parent == working_dir.resolve()
    assert not list(tmp_path.glob("*.zarr"))


def test_readme_program_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The window program from DataFrames: no server; the far daughter is a daughter."""
    block = next(b for b in _blocks() if "build_program(" in b)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    exec(compile(block, "example", "exec"), namespace)
    assert sorted(namespace["chosen"].transitions.target) == [10**9 + 1, 2 * 10**9 + 1, 2 * 10**9 + 2]


def test_notebook_code_cells_run(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = json.loads((ROOT / "notebooks" / "01-graph-store.ipynb").read_text())
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    result = run_example(code, "notebook", store, tmp_path, monkeypatch)
    assert len(result["divisions"]) == result["scene"].n_divisions
