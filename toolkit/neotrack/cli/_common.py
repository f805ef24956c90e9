"""What every command shares: the connection option, logging, and one-line errors."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from neotrack.errors import NeotrackError

F = TypeVar("F", bound=Callable[..., Any])


def uri_option(func: F) -> F:
    """``--uri``: which Neo4j to use (default: NEOTRACK_NEO4J_URI, else the local server)."""
    return click.option(
        "--uri",
        envvar="NEOTRACK_NEO4J_URI",
        default=None,
        metavar="URI",
        help="Neo4j to use, e.g. bolt://host:7687 [env NEOTRACK_NEO4J_URI; default: local server]. "
        "Credentials: NEOTRACK_NEO4J_USER / NEOTRACK_NEO4J_PASSWORD.",
    )(func)


def _load_config(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    from neotrack.config import Config

    try:
        return Config.load(value) if value else Config()
    except NeotrackError as exc:
        raise click.ClickException(str(exc)) from None


def config_option(func: F) -> F:
    """``--config cfg.toml``: the run's settings (default: the defaults); passed as a Config."""
    return click.option(
        "--config",
        "config",
        callback=_load_config,
        metavar="TOML",
        help="Settings file ([data], [preprocessing], [segmentation] ...); see `neotrack config`.",
    )(func)


def _into_config_data(*options: Callable[[F], F]) -> Callable[[F], F]:
    """Options whose values go to the command's ``config.data`` (set_data) before it runs: the
    command takes ``config`` and none of these options' parameters."""

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            set_data(kwargs["config"], **{key: kwargs.pop(key) for key in names})
            return func(*args, **kwargs)

        command: Any = wrapper
        for option in reversed(options):
            command = option(command)
        # click keeps a plain function's options in __click_params__, the last applied last
        names = [param.name for param in command.__click_params__[-len(options) :]]
        return command

    return decorator


working_dir_option = _into_config_data(
    click.option(
        "--working-dir",
        type=click.Path(path_type=Path),
        help="Folder for pixel outputs such as candidate masks [data.working_dir; env "
        "NEOTRACK_WORKING_DIR; default: the store's data home, next to the local server's data].",
    )
)
"""``--working-dir``: where the run's pixel outputs (candidate masks, flow fields) go."""

MAX_DEFAULT_WORKERS = 8


def workers_option(func: F) -> F:
    """``--n-workers``: processes for the per-frame steps. Where neither the option nor the config
    file sets ``data.n_workers``, the command line uses one per core, up to 8 (the library's
    default stays 1: a script without a ``__main__`` guard cannot start worker processes)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        data = kwargs["config"].data
        if "n_workers" not in data.model_fields_set:
            data.n_workers = max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))
        return func(*args, **kwargs)

    option = click.option(
        "--n-workers", type=int, help="Processes [data.n_workers; default here: one per core, up to 8]."
    )
    return _into_config_data(option)(wrapper)  # type: ignore[return-value]


input_options = _into_config_data(
    click.option("--axes", help="Axis order of IMAGES, e.g. tyxc [data.axes]."),
    click.option("--channel", type=int, help="Channel of IMAGES to use [data.channel]."),
    click.option(
        "--frames",
        metavar="START:STOP",
        help="Only these frames, as a Python slice: 2:10, -50: (the last 50), :100 [data.frames]. "
        "The result counts frames from 0.",
    ),
    click.option(
        "--roi",
        metavar="Y0:Y1,X0:X1",
        help="Only this region of every frame, one START:STOP per axis: Y0:Y1,X0:X1 or "
        "Z0:Z1,Y0:Y1,X0:X1 [data.roi].",
    ),
)
"""``--axes --channel --frames --roi``: how to read IMAGES and which part of it (``data.*``)."""


def set_data(config: Any, **options: Any) -> None:
    """Command-line values over ``config.data`` (None: keep the config's); a bad value is one line
    naming its option."""
    from pydantic import ValidationError

    for key, value in options.items():
        if value is None:
            continue
        try:
            setattr(config.data, key, value)
        except ValidationError as exc:
            message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
            raise click.ClickException(f"--{key.replace('_', '-')} {value}: {message}") from None


def one_line_errors(func: F) -> F:
    """Show the toolkit's errors as ``Error: ...`` and exit 1, without a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NeotrackError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def setup_logging(verbosity: int) -> None:
    """neotrack's own messages at INFO (what it is doing), other libraries' at WARNING.

    ``verbosity``: -1 quiet (warnings only), 0 default, 1 or more debug.
    """
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("neotrack: %(message)s"))
    package = logging.getLogger("neotrack")
    package.handlers[:] = [handler]
    package.setLevel(level)
    package.propagate = False
    logging.getLogger("neo4j").setLevel(logging.DEBUG if verbosity > 1 else logging.WARNING)


def open_store(uri: str | None) -> Any:
    from neotrack.store import Store

    return Store(uri=uri)
