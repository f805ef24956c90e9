"""``neotrack import`` and ``neotrack evaluate``: existing results in, scores out."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import click

from neotrack.cli._common import one_line_errors, open_store, uri_option


@click.group(name="import")
def import_() -> None:
    """Load an existing result as a solved dataset (then query or export it)."""


@import_.command("ctc")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--dataset", required=True)
@click.option("--images", help="Raw images of the same frames (adds intensity features).")
@click.option("--overwrite", is_flag=True, help="Replace a dataset of that name.")
@uri_option
@one_line_errors
def ctc(folder: Path, dataset: str, images: str | None, overwrite: bool, uri: str | None) -> None:
    """A CTC result (maskNNN.tif + res_track.txt) or ground truth (TRA folder)."""
    from neotrack.export import import_ctc

    with open_store(uri) as store:
        n = import_ctc(folder, dataset, images, store, overwrite=overwrite)
    click.echo(f"imported {n} objects from {folder} as {dataset!r}")


@import_.command("h5")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--dataset", required=True)
@click.option("--overwrite", is_flag=True, help="Replace a dataset of that name.")
@uri_option
@one_line_errors
def h5(folder: Path, dataset: str, overwrite: bool, uri: str | None) -> None:
    """ilastik (or neotrack) per-frame event files."""
    from neotrack.export import import_h5_events

    with open_store(uri) as store:
        n = import_h5_events(folder, dataset, store, overwrite=overwrite)
    click.echo(f"imported {n} objects from {folder} as {dataset!r}")


@click.command()
@click.option(
    "--gt",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="Ground-truth folder (with TRA/, as NN_GT).",
)
@click.option(
    "--res",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="Result folder (maskNNN.tif, res_track.txt).",
)
@click.option(
    "--metrics",
    default="DET,TRA,LNK",
    show_default=True,
    help="py-ctcmetrics names, comma-separated (e.g. SEG, CT, TF, BC(i), CCA, HOTA).",
)
@one_line_errors
def evaluate(gt: Path, res: Path, metrics: str) -> None:
    """Score a CTC result against ground truth with py-ctcmetrics (the official measures)."""
    try:
        from ctc_metrics import evaluate_sequence
    except ImportError:
        raise click.ClickException("py-ctcmetrics is not installed: pip install py-ctcmetrics") from None
    names = [m.strip() for m in metrics.split(",") if m.strip()]
    with contextlib.redirect_stdout(io.StringIO()):
        scores = evaluate_sequence(str(res), str(gt), metrics=names, threads=1)
    for name in names:
        value = scores.get(name)
        click.echo(f"{name} {value:.4f}" if isinstance(value, int | float) else f"{name} {value}")
