"""``neotrack export``: lineages out of the graph."""

from __future__ import annotations

from pathlib import Path

import click

from neotrack.cli._common import one_line_errors, open_store, uri_option


@click.group()
def export() -> None:
    """Write a solved dataset in another format."""


@export.command("ctc")
@click.option("--dataset", required=True)
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), required=True)
@click.option("--overwrite", is_flag=True, help="Replace the output folder.")
@uri_option
@one_line_errors
def ctc(dataset: str, out_dir: Path, overwrite: bool, uri: str | None) -> None:
    """Cell Tracking Challenge result: maskNNN.tif + res_track.txt."""
    from neotrack.export import to_ctc

    with open_store(uri) as store:
        out = to_ctc(dataset, out_dir, store, overwrite=overwrite, progress=True)
    click.echo(f"wrote {out}")
