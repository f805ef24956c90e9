"""What every exporter checks first: a solution to export, and nothing to overwrite by accident."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from neotrack.errors import DatasetExistsError, InputError
from neotrack.store import Store


def solved_dataset(store: Store, dataset: str) -> dict[str, Any]:
    """The dataset's attributes; one clear error when it has no solution yet."""
    info = store.dataset(dataset)
    if "solve_finished" not in info:
        raise InputError(f"dataset {dataset!r} has no solution: run `neotrack solve` first")
    return info


def empty_folder(out: Path, overwrite: bool) -> Path:
    """``out``, created, and emptied only when ``overwrite`` allows it."""
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise DatasetExistsError(f"{out} exists and is not empty: choose another folder or --overwrite")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def new_path(path: Path, overwrite: bool) -> Path:
    """``path`` when it does not exist yet, or ``overwrite`` allows replacing it."""
    if path.exists() and not overwrite:
        raise DatasetExistsError(f"{path} exists: choose another path or --overwrite")
    return path
