"""``neotrack datasets list|delete``: the datasets stored in Neo4j."""

from __future__ import annotations

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
    """Delete dataset NAME and everything in it; other datasets are untouched."""
    with open_store(uri) as store:
        if not store.has_dataset(name):
            store.dataset(name)  # raises the not-found error with its hint
        if not yes:
            click.confirm(f"delete dataset {name!r} and all its segments?", abort=True)
        n = store.delete_dataset(name)
    click.echo(f"deleted {name!r} ({n} segments)")
