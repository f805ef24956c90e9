"""The ``neotrack`` command line: thin commands over the library functions of the same names."""

from __future__ import annotations

import click

from neotrack import __version__
from neotrack.cli._common import setup_logging
from neotrack.cli.datasets import datasets
from neotrack.cli.db import db
from neotrack.cli.demo import demo
from neotrack.cli.export import export
from neotrack.cli.importing import evaluate, import_
from neotrack.cli.lineage import lineage
from neotrack.cli.pin import pin
from neotrack.cli.query import query
from neotrack.cli.segment import segment
from neotrack.cli.steps import add_flow, flow, link, solve, track

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="neotrack")
@click.option("-v", "--verbose", count=True, help="More detail: -v debug, -vv the driver's too.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
def main(verbose: int, quiet: bool) -> None:
    """neotrack: cell tracking with Neo4j as the store of record."""
    setup_logging(-1 if quiet else verbose)


@main.command("config")
@click.option("-o", "--out", type=click.Path(), help="Write to this file instead of printing.")
def config_cmd(out: str | None) -> None:
    """Print (or write) a TOML file with every setting at its default."""
    from neotrack.config import Config

    if out:
        Config().save(out)
    else:
        import tomli_w

        click.echo(tomli_w.dumps(Config().to_toml_dict()), nl=False)


for command in (
    db,
    datasets,
    query,
    flow,
    add_flow,
    segment,
    link,
    solve,
    track,
    export,
    import_,
    evaluate,
    lineage,
    pin,
    demo,
):
    main.add_command(command)
