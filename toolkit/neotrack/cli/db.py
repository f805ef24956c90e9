"""``neotrack db start|stop|status``: the local Neo4j server."""

from __future__ import annotations

from pathlib import Path

import click

from neotrack.cli._common import one_line_errors
from neotrack.server import ServerSettings, start, status, stop


def _server_options(func):  # type: ignore[no-untyped-def]
    for option in reversed(
        [
            click.option(
                "--data-dir",
                type=click.Path(path_type=Path),
                default=None,
                help="Server home: store, logs [env NEOTRACK_DATA_DIR].",
            ),
            click.option("--port", type=int, default=None, help="Bolt port [env NEOTRACK_NEO4J_PORT; 7687]."),
            click.option(
                "--host",
                default=None,
                help="Listen address [env NEOTRACK_NEO4J_HOST; 127.0.0.1]; others need a password.",
            ),
        ]
    ):
        func = option(func)
    return func


@click.group()
def db() -> None:
    """Manage the local Neo4j server (built from Maven Central on first use)."""


@db.command("start")
@_server_options
@click.option("--heap", default=None, help="JVM heap, e.g. 4g [env NEOTRACK_NEO4J_HEAP; 2g].")
@click.option("--pagecache", default=None, help="Page cache, e.g. 1g [env NEOTRACK_NEO4J_PAGECACHE; 512m].")
@click.option(
    "--password",
    envvar="NEOTRACK_NEO4J_PASSWORD",
    default=None,
    help="Turn auth on with this password for user neo4j [env NEOTRACK_NEO4J_PASSWORD].",
)
@one_line_errors
def start_cmd(
    data_dir: Path | None,
    port: int | None,
    host: str | None,
    heap: str | None,
    pagecache: str | None,
    password: str | None,
) -> None:
    """Start the server in the background and wait until it answers."""
    settings = ServerSettings.from_env(
        data_dir=data_dir, port=port, host=host, heap=heap, pagecache=pagecache, password=password
    )
    state = start(settings)
    click.echo(state.uri)


@db.command("stop")
@_server_options
@one_line_errors
def stop_cmd(data_dir: Path | None, port: int | None, host: str | None) -> None:
    """Stop the server cleanly (checkpoint and close the store)."""
    settings = ServerSettings.from_env(data_dir=data_dir, port=port, host=host)
    click.echo("stopped" if stop(settings) else f"not running (data dir {settings.data_dir})")


@db.command("status")
@_server_options
@one_line_errors
def status_cmd(data_dir: Path | None, port: int | None, host: str | None) -> None:
    """Say whether the server runs and answers; exit code 3 when it does not run."""
    state = status(ServerSettings.from_env(data_dir=data_dir, port=port, host=host))
    click.echo(state.describe())
    if not state.running:
        raise SystemExit(3)
