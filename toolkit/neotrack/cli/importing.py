"""``neotrack import`` and ``neotrack evaluate``: existing results in, scores out."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import click

from neotrack.cli._common import config_option, one_line_errors, open_store, uri_option, working_dir_option
from neotrack.config import Config
from neotrack.errors import InputError


@click.group(name="import")
def import_() -> None:
    """Load an existing result as a solved dataset (then query or export it)."""


@import_.command("ctc")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--dataset", required=True)
@click.option("--images", help="Raw images of the same frames (adds intensity features).")
@config_option
@working_dir_option
@click.option("--overwrite", is_flag=True, help="Replace a dataset of that name.")
@uri_option
@one_line_errors
def ctc(
    folder: Path, dataset: str, images: str | None, config: Config, overwrite: bool, uri: str | None
) -> None:
    """A CTC result (maskNNN.tif + res_track.txt) or ground truth (TRA folder)."""
    from neotrack.export import import_ctc

    with open_store(uri) as store:
        n = import_ctc(folder, dataset, images, store, config=config, overwrite=overwrite)
    click.echo(f"imported {n} objects from {folder} as {dataset!r}")


@import_.command("h5")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--dataset", required=True)
@config_option
@working_dir_option
@click.option("--overwrite", is_flag=True, help="Replace a dataset of that name.")
@uri_option
@one_line_errors
def h5(folder: Path, dataset: str, config: Config, overwrite: bool, uri: str | None) -> None:
    """ilastik (or neotrack) per-frame event files."""
    from neotrack.export import import_h5_events

    with open_store(uri) as store:
        n = import_h5_events(folder, dataset, store, config=config, overwrite=overwrite)
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
    _check_comparable(gt, res)
    try:
        from ctc_metrics import evaluate_sequence
    except ImportError:
        raise click.ClickException("py-ctcmetrics is not installed: pip install py-ctcmetrics") from None
    names = [m.strip() for m in metrics.split(",") if m.strip()]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            scores = evaluate_sequence(str(res), str(gt), metrics=names, threads=1)
    except AssertionError as exc:  # py-ctcmetrics reports inconsistent folders this way
        raise InputError(f"py-ctcmetrics cannot compare {res} with {gt}: {exc}") from None
    for name in names:
        value = scores.get(name)
        click.echo(f"{name} {value:.4f}" if isinstance(value, int | float) else f"{name} {value}")


def _check_comparable(gt: Path, res: Path) -> None:
    """Refuse, in one line, a ground truth and a result that do not cover the same frames."""
    tra = gt / "TRA"
    if not tra.is_dir():
        raise InputError(f"ground truth {gt} has no TRA folder; expected {tra} with man_track.txt and masks")
    if not (tra / "man_track.txt").is_file():
        raise InputError(f"ground truth {tra} has no man_track.txt")
    if not (res / "res_track.txt").is_file():
        raise InputError(
            f"result {res} has no res_track.txt; expected a CTC result (maskNNN.tif, res_track.txt)"
        )
    masks, truth = _frames(res, "mask"), _frames(tra, "man_track")
    if not truth:
        raise InputError(f"ground truth {tra} has no man_trackNNN.tif masks")
    if len(masks) != len(truth):
        raise InputError(
            f"result {res} has {len(masks)} frames ({_span(masks, 'maskNNN.tif')}) but the ground truth "
            f"{tra} has {len(truth)}: they must cover the same frames"
        )
    if list(masks) != list(truth):
        raise InputError(
            f"result {res} covers frames {_span(masks, '')} but the ground truth {tra} covers "
            f"{_span(truth, '')}: they must cover the same frames"
        )


def _frames(folder: Path, prefix: str) -> dict[int, str]:
    """``{frame number: file name}`` of the ``<prefix>NNN.tif`` files in a folder, by frame."""
    found = {int(m.group(1)): p.name for p in folder.glob(f"{prefix}*.tif") if (m := _NUMBER.search(p.name))}
    return dict(sorted(found.items()))


def _span(frames: dict[int, str], pattern: str) -> str:
    names = list(frames.values())
    if not names:
        return f"no {pattern}"
    return names[0] if len(names) == 1 else f"{names[0]}…{names[-1]}"


_NUMBER = re.compile(r"(\d+)\.tif$")
