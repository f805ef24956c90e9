"""``neotrack datasets list|info|delete|relocate``: the datasets stored in Neo4j."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from neotrack.cli._common import one_line_errors, open_store, uri_option
from neotrack.io._crop import format_roi, format_span
from neotrack.store import DatasetInfo


@click.group()
def datasets() -> None:
    """List or delete stored datasets."""


@datasets.command("list")
@uri_option
@one_line_errors
def list_cmd(uri: str | None) -> None:
    """One line per dataset, with its number of segments."""
    with open_store(uri) as store:
        table = store.list_datasets()
    table = table.astype(object).where(table.notna(), "")
    click.echo(table.to_string(index=False) if len(table) else "(no datasets)")


@datasets.command("info")
@click.argument("name")
@uri_option
@one_line_errors
def info_cmd(name: str, uri: str | None) -> None:
    """What the graph records about dataset NAME: its movie, crop, pixels and stages."""
    with open_store(uri) as store:
        info = store.info(name)
    rows: dict[str, Any] = {
        "name": info.name,
        "uid": info.uid,
        "shape": info.shape,
        "voxel_size": info.voxel_size,
        "source": info.source,
        "crop": _crop(info),
        "pixels_dir": info.pixels_dir or "(the store's data home)",
        **{str(s.stage): s.status or "-" for s in (info.segment, info.link, info.solve)},
    }
    width = max(map(len, rows))
    click.echo("\n".join(f"{k:<{width}}  {'-' if v is None else v}" for k, v in rows.items()))


def _crop(info: DatasetInfo) -> str:
    """``frames 2:5 of 12, roi 10:60,20:80 of (128, 128)``; ``none`` for a whole movie."""
    shape, full, offset = info.shape, info.source_shape, info.frame_offset
    if shape is None or full is None:
        return "-"
    origin = info.roi_origin or (0,) * (len(shape) - 1)
    parts = []
    if offset or shape[0] != full[0]:
        parts.append(f"frames {format_span((offset, offset + shape[0]))} of {full[0]}")
    if any(origin) or tuple(shape[1:]) != tuple(full[1:]):
        region = format_roi([(o, o + n) for o, n in zip(origin, shape[1:], strict=True)])
        parts.append(f"roi {region} of {tuple(full[1:])}")
    return ", ".join(parts) or "none"


@datasets.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@uri_option
@one_line_errors
def delete_cmd(name: str, yes: bool, uri: str | None) -> None:
    """Delete dataset NAME, everything in it and its pixels; other datasets are untouched."""
    with open_store(uri) as store:
        if not store.has_dataset(name):
            store.dataset(name)  # raises the not-found error with its hint
        if not yes:
            click.confirm(f"delete dataset {name!r}, all its segments and its masks?", abort=True)
        n = store.delete_dataset(name)
    click.echo(f"deleted {name!r} ({n} segments)")


@datasets.command("relocate")
@click.argument("name")
@click.option(
    "--working-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="The folder that now holds the dataset's pixel folder (named by its id).",
)
@uri_option
@one_line_errors
def relocate_cmd(name: str, working_dir: Path, uri: str | None) -> None:
    """Record that dataset NAME's pixels (candidate masks) were moved to WORKING_DIR."""
    with open_store(uri) as store:
        folder = store.relocate_pixels(name, working_dir)
    click.echo(f"dataset {name!r}: pixels in {folder}")
