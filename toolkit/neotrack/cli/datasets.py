"""``neotrack datasets list|delete``: the datasets stored in Neo4j."""

from __future__ import annotations

from pathlib import Path

import click

from neotrack.cli._common import one_line_errors, open_store, uri_option


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
