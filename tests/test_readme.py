"""The README's Python example runs as written (against the test server)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from neotrack.server import ServerSettings
from neotrack.store import Store

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(
    server: ServerSettings, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) == 1
    if store.has_dataset("example"):
        pytest.skip("a dataset named 'example' exists on this server; not touching it")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEOTRACK_NEO4J_URI", store.uri)
    namespace: dict[str, object] = {}
    try:
        exec(compile(blocks[0], "README.md", "exec"), namespace)
        assert (tmp_path / "example" / "01" / "t019.tif").exists()
        assert sorted(set(namespace["window"].segments.t)) == [10, 11, 12, 13, 14]  # type: ignore[attr-defined]
        assert len(namespace["per_frame"]) == 20  # type: ignore[arg-type]
    finally:
        if store.has_dataset("example"):
            store.delete_dataset("example")
