"""``neotrack query``: run Cypher with parameters (read-only unless --write) and print a table."""

from __future__ import annotations

import json
from typing import Any

import click

from neotrack.cli._common import one_line_errors, open_store, uri_option


def _parse_param(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise click.BadParameter(f"expected NAME=VALUE, got {text!r}", param_hint="-p/--param")
    name, raw = text.split("=", 1)
    try:
        value = json.loads(raw)  # numbers, booleans, lists, quoted strings
    except json.JSONDecodeError:
        value = raw  # anything else is a plain string
    return name.strip(), value


@click.command()
@click.argument("cypher")
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A query parameter ($NAME in the query); VALUE is JSON or a plain string.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@click.option(
    "--write",
    is_flag=True,
    help="Allow the query to change the graph; without it the query runs read-only.",
)
@uri_option
@one_line_errors
def query(cypher: str, params: tuple[str, ...], fmt: str, write: bool, uri: str | None) -> None:
    """Run CYPHER (values as $parameters, never pasted into the text) and print the rows.

    The query runs read-only by default: CREATE, SET, DELETE, MERGE ... are refused unless --write
    is given.

    Example: neotrack query 'MATCH (s:Segment {dataset: $d}) RETURN s.t AS t, count(*) AS n'
    -p d=demo
    """
    values = dict(_parse_param(p) for p in params)
    with open_store(uri) as store:
        table = store.query(cypher, values, write=write)  # users name parameters freely: a mapping
    if fmt == "csv":
        click.echo(table.to_csv(index=False), nl=False)
    elif fmt == "json":
        click.echo(table.to_json(orient="records", default_handler=str))
    else:
        click.echo(table.to_string(index=False) if len(table) else "(no rows)")
