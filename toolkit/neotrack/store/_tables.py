"""Validate tables before they are written, and turn them into columnar query parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from neotrack.errors import InputError
from neotrack.store._vocab import ID_STRIDE

_RESERVED = {"dataset"}


def validate_dataset_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"dataset name must be a non-empty string, got {name!r}")
    if len(name) > 200 or not name.isprintable():
        raise InputError(f"dataset name must be at most 200 printable characters, got {name!r}")
    return name


def to_python(value: Any) -> Any:
    """numpy scalars/arrays and tuples as plain Python values the driver can send."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [to_python(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_python(v) for k, v in value.items()}
    return value


def _frame(table: pd.DataFrame | Mapping[str, Any], what: str) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        return table
    try:
        return pd.DataFrame(dict(table))
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} must be a table of equal-length columns: {exc}") from None


def _require(df: pd.DataFrame, names: tuple[str, ...], what: str) -> None:
    missing = [n for n in names if n not in df.columns]
    if missing:
        raise InputError(f"{what} table lacks column(s) {missing}; it has {list(df.columns)}")


def _ints(df: pd.DataFrame, name: str, what: str) -> np.ndarray:
    values = df[name].to_numpy()
    if values.dtype.kind not in "iu":
        if values.dtype.kind == "f" and np.all(np.isfinite(values)) and np.all(values % 1 == 0):
            return values.astype(np.int64)
        raise InputError(f"{what} column {name!r} must hold integers, got dtype {values.dtype}")
    return values.astype(np.int64)


def _floats(df: pd.DataFrame, name: str, what: str, default: float | None = None) -> np.ndarray:
    if name not in df.columns:
        return np.full(len(df), default, dtype=np.float64)
    try:
        values = df[name].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{what} column {name!r} must hold numbers") from None
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise InputError(f"{what} column {name!r} has NaN or infinite values (row {bad[0]})")
    return values


def _unique(ids: np.ndarray, what: str) -> None:
    uniq, counts = np.unique(ids, return_counts=True)
    if uniq.size != ids.size:
        raise InputError(f"{what} ids must be unique; id {uniq[counts > 1][0]} repeats")


def _extras(df: pd.DataFrame, core: set[str], what: str) -> list[dict[str, Any]] | None:
    """Per-row maps of the columns beyond ``core``; None when there are none."""
    names = [c for c in df.columns if c not in core]
    reserved = _RESERVED.intersection(names)
    if reserved:
        raise InputError(f"{what} column(s) {sorted(reserved)} are reserved by neotrack")
    if not names:
        return None
    records = df[names].to_dict("records")
    return [{str(k): to_python(v) for k, v in r.items()} for r in records]


def segment_columns(
    table: pd.DataFrame | Mapping[str, Any],
) -> tuple[dict[str, list[Any]], list[dict[str, Any]] | None]:
    """Columns id, t, z, y, x, area, bbox, frontier, height as lists, and the other columns."""
    what = "segment"
    df = _frame(table, what)
    _require(df, ("id", "t", "y", "x", "area"), what)
    ids, t = _ints(df, "id", what), _ints(df, "t", what)
    _unique(ids, what)
    if t.size and t.min() < 0:
        raise InputError(f"segment frames must be >= 0, got t={t.min()}")
    wrong = np.flatnonzero(ids // ID_STRIDE != t)
    if wrong.size:
        i = wrong[0]
        raise InputError(
            f"segment id {ids[i]} does not encode its frame t={t[i]}: ids are "
            f"t * {ID_STRIDE:_} + k (see neotrack.store.segment_id)"
        )
    area = _ints(df, "area", what)
    bbox = _bboxes(df, ids.size)
    columns = {
        "id": ids.tolist(),
        "t": t.tolist(),
        "z": _floats(df, "z", what, 0.0).tolist(),
        "y": _floats(df, "y", what).tolist(),
        "x": _floats(df, "x", what).tolist(),
        "area": area.tolist(),
        "bbox": bbox,
        "frontier": _floats(df, "frontier", what, -1.0).tolist(),
        "height": _floats(df, "height", what, -1.0).tolist(),
    }
    core = {"id", "t", "z", "y", "x", "area", "bbox", "frontier", "height"}
    return columns, _extras(df, core, what)


def _bboxes(df: pd.DataFrame, n: int) -> list[list[int]]:
    if "bbox" not in df.columns:
        return [[] for _ in range(n)]
    try:  # the common case: all boxes of one length, converted in one go
        return np.stack(df["bbox"].to_numpy()).astype(np.int64).tolist()
    except (ValueError, TypeError):
        return [[int(v) for v in b] for b in df["bbox"]]


def link_columns(
    table: pd.DataFrame | Mapping[str, Any],
) -> tuple[dict[str, list[Any]], list[dict[str, Any]] | None]:
    """Columns source, target, weight as lists, and the other columns (features)."""
    what = "link"
    df = _frame(table, what)
    _require(df, ("source", "target", "weight"), what)
    source, target = _ints(df, "source", what), _ints(df, "target", what)
    forward = target // ID_STRIDE == source // ID_STRIDE + 1
    if not forward.all():
        i = np.flatnonzero(~forward)[0]
        raise InputError(
            f"link {source[i]} -> {target[i]} does not go from frame t to t+1 "
            f"({source[i] // ID_STRIDE} -> {target[i] // ID_STRIDE})"
        )
    columns = {
        "source": source.tolist(),
        "target": target.tolist(),
        "weight": _floats(df, "weight", what).tolist(),
    }
    return columns, _extras(df, {"source", "target", "weight"}, what)


def hierarchy_columns(table: pd.DataFrame | Mapping[str, Any]) -> dict[str, list[Any]]:
    """Columns parent, child as lists; both ends must lie in the same frame."""
    what = "hierarchy"
    df = _frame(table, what)
    _require(df, ("parent", "child"), what)
    parent, child = _ints(df, "parent", what), _ints(df, "child", what)
    same = parent // ID_STRIDE == child // ID_STRIDE
    if not same.all():
        i = np.flatnonzero(~same)[0]
        raise InputError(f"hierarchy edge {parent[i]} -> {child[i]} joins two different frames")
    return {"parent": parent.tolist(), "child": child.tolist()}


def segment_id(t: int | np.ndarray, k: int | np.ndarray) -> Any:
    """The id of the k-th candidate (k >= 1) of frame t."""
    return np.asarray(t, dtype=np.int64) * ID_STRIDE + np.asarray(k, dtype=np.int64)
