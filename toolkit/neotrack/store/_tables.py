"""Validate tables before they are written, and turn them into columnar query parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from neotrack.errors import InputError
from neotrack.store._vocab import (
    HIERARCHY_COLUMNS,
    ID_STRIDE,
    LINK_COLUMNS,
    SEGMENT_COLUMNS,
    Column,
)

_RESERVED = {"dataset", "selected", "pin", "track_id", "parent_track_id", "lineage_id", "cells", "merger"}
"""Properties the toolkit owns: a feature column of that name would overwrite a solution or pin."""


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


def _convert(df: pd.DataFrame, column: Column, what: str) -> list[Any]:
    """One column of ``df`` as a list of plain values of the column's kind (its default if absent)."""
    if column.name not in df.columns:
        if column.required:
            raise InputError(f"{what} table lacks column {column.name!r}; it has {list(df.columns)}")
        return [list(column.default) if column.kind == "ints" else column.default] * len(df)
    if column.kind == "int":
        return _ints(df, column.name, what).tolist()
    if column.kind == "float":
        return _floats(df, column.name, what).tolist()
    return _int_lists(df, column.name, what)


def table_columns(
    table: pd.DataFrame | Mapping[str, Any], spec: Sequence[Column], what: str
) -> tuple[pd.DataFrame, dict[str, list[Any]], list[dict[str, Any]] | None]:
    """The table, its ``spec`` columns as lists, and per-row maps of its other columns (or None)."""
    df = _frame(table, what)
    _require(df, tuple(c.name for c in spec if c.required), what)
    columns = {c.name: _convert(df, c, what) for c in spec}
    return df, columns, _extras(df, {c.name for c in spec}, what)


def frame_from_columns(row: Mapping[str, Any], spec: Sequence[Column]) -> pd.DataFrame:
    """A DataFrame of the ``collect()``-ed columns of a read, with the dtypes of ``spec``."""
    dtypes = {"int": np.int64, "float": np.float64}
    return pd.DataFrame(
        {
            c.name: row[c.name] if c.kind == "ints" else np.asarray(row[c.name], dtype=dtypes[c.kind])
            for c in spec
        }
    )


def segment_columns(
    table: pd.DataFrame | Mapping[str, Any],
) -> tuple[dict[str, list[Any]], list[dict[str, Any]] | None]:
    """The ``SEGMENT_COLUMNS`` as lists, and the other columns (features) as per-row maps."""
    what = "segment"
    _, columns, extra = table_columns(table, SEGMENT_COLUMNS, what)
    ids, t = np.asarray(columns["id"], dtype=np.int64), np.asarray(columns["t"], dtype=np.int64)
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
    return columns, extra


def _int_lists(df: pd.DataFrame, name: str, what: str) -> list[list[int]]:
    try:  # the common case: all lists of one length, converted in one go
        return np.stack(df[name].to_numpy()).astype(np.int64).tolist()
    except (ValueError, TypeError):
        try:
            return [[int(v) for v in b] for b in df[name]]
        except (ValueError, TypeError):
            raise InputError(f"{what} column {name!r} must hold lists of integers") from None


def link_columns(
    table: pd.DataFrame | Mapping[str, Any],
) -> tuple[dict[str, list[Any]], list[dict[str, Any]] | None]:
    """The ``LINK_COLUMNS`` as lists, and the other columns (features) as per-row maps."""
    what = "link"
    _, columns, extra = table_columns(table, LINK_COLUMNS, what)
    source = np.asarray(columns["source"], dtype=np.int64)
    target = np.asarray(columns["target"], dtype=np.int64)
    forward = target // ID_STRIDE == source // ID_STRIDE + 1
    if not forward.all():
        i = np.flatnonzero(~forward)[0]
        raise InputError(
            f"link {source[i]} -> {target[i]} does not go from frame t to t+1 "
            f"({source[i] // ID_STRIDE} -> {target[i] // ID_STRIDE})"
        )
    return columns, extra


def hierarchy_columns(table: pd.DataFrame | Mapping[str, Any]) -> dict[str, list[Any]]:
    """The ``HIERARCHY_COLUMNS`` as lists; both ends must lie in the same frame."""
    what = "hierarchy"
    _, columns, _ = table_columns(table, HIERARCHY_COLUMNS, what)
    parent = np.asarray(columns["parent"], dtype=np.int64)
    child = np.asarray(columns["child"], dtype=np.int64)
    same = parent // ID_STRIDE == child // ID_STRIDE
    if not same.all():
        i = np.flatnonzero(~same)[0]
        raise InputError(f"hierarchy edge {parent[i]} -> {child[i]} joins two different frames")
    return columns


def segment_id(t: int | np.ndarray, k: int | np.ndarray) -> Any:
    """The id of the k-th candidate (k >= 1) of frame t."""
    return np.asarray(t, dtype=np.int64) * ID_STRIDE + np.asarray(k, dtype=np.int64)


def frames_spanned(transitions: pd.DataFrame) -> np.ndarray:
    """How many frames each transition (``source, target`` ids) spans: 1 between consecutive
    frames, more over missing ones (a gap closed)."""
    source, target = (transitions[k].to_numpy(dtype=np.int64) for k in ("source", "target"))
    return target // ID_STRIDE - source // ID_STRIDE
