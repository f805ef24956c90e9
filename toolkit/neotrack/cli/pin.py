"""``neotrack pin``: force segments or transitions in or out of the next solution."""

from __future__ import annotations

import click
import pandas as pd

from neotrack.cli._common import one_line_errors, open_store, uri_option


@click.command()
@click.option("--dataset", required=True)
@click.option("--segment", "segments", type=int, multiple=True, help="A segment id (repeatable).")
@click.option("--link", "links", multiple=True, metavar="SOURCE:TARGET", help="A candidate link.")
@click.option("--in", "state", flag_value="in", help="Must be in the solution.")
@click.option("--out", "state", flag_value="out", help="Must not be in the solution.")
@click.option("--clear", "state", flag_value="clear", help="Remove the pin.")
@uri_option
@one_line_errors
def pin(
    dataset: str, segments: tuple[int, ...], links: tuple[str, ...], state: str | None, uri: str | None
) -> None:
    """Pin segments or links (manual corrections); `neotrack solve` then respects them."""
    if state is None:
        raise click.UsageError("say --in, --out or --clear")
    value = {"in": True, "out": False, "clear": None}[state]
    try:
        pairs = pd.DataFrame(
            [tuple(int(v) for v in text.split(":")) for text in links], columns=["source", "target"]
        )
    except ValueError:
        raise click.BadParameter("links are SOURCE:TARGET segment ids", param_hint="--link") from None
    with open_store(uri) as store:
        n = store.pin_segments(dataset, segments, value) if segments else 0
        m = store.pin_links(dataset, pairs, value) if len(pairs) else 0
    click.echo(f"pinned {n} segment(s) and {m} link(s) {state}")
