"""``neotrack lineage``: lineage questions about a solved dataset."""

from __future__ import annotations

import click
import pandas as pd

from neotrack.cli._common import one_line_errors, open_store, uri_option


def _print(table: pd.DataFrame, fmt: str) -> None:
    if fmt == "csv":
        click.echo(table.to_csv(index=False), nl=False)
    else:
        click.echo(table.to_string(index=False) if len(table) else "(none)")


def _lineage_command(name: str, takes: str | None, doc: str) -> click.Command:
    @click.option("--dataset", required=True)
    @click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table")
    @uri_option
    @one_line_errors
    def command(dataset: str, fmt: str, uri: str | None, **args: int) -> None:
        from neotrack.store import Lineage

        with open_store(uri) as store:
            _print(getattr(Lineage(store, dataset), name)(*args.values()), fmt)

    command.__doc__ = doc
    if takes:
        command = click.argument(takes, type=int)(command)
    return click.command(name.replace("_", "-"))(command)


@click.group()
def lineage() -> None:
    """Tracks, divisions, ancestors, descendants, lineage trees, cells alive at a frame, mergers."""


for _name, _takes, _doc in [
    ("tracks", None, "Every track: start, end, length, parent track, lineage."),
    ("divisions", None, "Every division: frame, mother track, daughter tracks."),
    ("descendants", "track_id", "The tracks descending from TRACK_ID."),
    ("ancestors", "track_id", "The tracks TRACK_ID descends from, nearest first."),
    ("lineage", "track_id", "All tracks of TRACK_ID's lineage tree."),
    ("alive_at", "t", "The cells present in frame T."),
    ("mergers", None, "When and where cells merged: frame, merger, cells, position, tracks."),
]:
    lineage.add_command(_lineage_command(_name, _takes, _doc))
