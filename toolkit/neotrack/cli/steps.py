"""``neotrack link | solve | track``: the tracking steps after ``segment``."""

from __future__ import annotations

from pathlib import Path

import click

from neotrack.cli._common import (
    config_option,
    input_options,
    one_line_errors,
    open_store,
    uri_option,
    workers_option,
    working_dir_option,
)
from neotrack.config import Config


@click.command()
@click.option("--dataset", required=True, help="A segmented dataset.")
@config_option
@click.option("--overwrite", is_flag=True, help="Replace existing links (and the solution).")
@uri_option
@one_line_errors
def link(dataset: str, config: Config, overwrite: bool, uri: str | None) -> None:
    """Add candidate transitions t -> t+1 (the [linking] settings)."""
    from neotrack.linking import link as run

    with open_store(uri) as store:
        result = run(dataset, config, store, overwrite=overwrite, progress=True)
    click.echo(f"dataset {dataset!r}: {result.n_links} links in {result.seconds:.1f} s")


@click.command()
@click.option("--dataset", required=True, help="A linked dataset.")
@click.option(
    "--frames",
    metavar="START:STOP",
    help="Solve only these frames of a solved dataset again, anchored on the solution around them "
    "(after a pin); STOP is excluded.",
)
@config_option
@workers_option
@uri_option
@one_line_errors
def solve(dataset: str, frames: str | None, config: Config, uri: str | None) -> None:
    """Choose segments and lineages (the [tracking] settings); replaces the previous solution,
    or, with --frames, that range of it."""
    from neotrack.solve import solve as run
    from neotrack.solve import solve_window

    with open_store(uri) as store:
        if frames is not None:
            start, stop = _range(frames)
            w = solve_window(dataset, start, stop, config, store)
            click.echo(
                f"dataset {dataset!r}, frames {start}-{stop - 1} solved again: {w.n_selected} segments, "
                f"{w.n_transitions} transitions, {w.n_retracked} track ids changed after the range; "
                f"{w.solver}, gap {w.gap:.2g}, {w.seconds:.2f} s"
            )
            return
        r = run(dataset, config, store, progress=True)
    click.echo(
        f"dataset {dataset!r}: {r.n_selected} segments in {r.n_tracks} tracks, {r.n_divisions} "
        f"divisions; {r.solver}, {r.n_windows} window(s), gap {r.gap:.2g}, {r.seconds:.1f} s"
    )


def _range(frames: str) -> tuple[int, int]:
    """``START:STOP`` as two frame numbers, or one line naming the option."""
    from neotrack.io._crop import parse_span

    try:
        start, stop = parse_span(frames)
    except ValueError as exc:
        raise click.BadParameter(f"{frames!r}: {exc}", param_hint="--frames") from None
    if start is None or stop is None:
        raise click.BadParameter(f"{frames!r}: expected START:STOP, both given", param_hint="--frames")
    return start, stop


@click.command()
@click.argument("images", required=False)
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for the CTC result (maskNNN.tif, res_track.txt); new, empty, or a previous result.",
)
@config_option
@click.option("--dataset", help="Dataset name [derived from the IMAGES path].")
@click.option(
    "--labels",
    multiple=True,
    help="Label images of the same frames to use as the segmentation; repeat for an ensemble of hypotheses.",
)
@click.option("--flow", is_flag=True, help="Move candidates along the flow field before linking ([flow]).")
@workers_option
@input_options
@working_dir_option
@click.option(
    "--overwrite", is_flag=True, help="Replace a dataset of that name and a previous result in the folder."
)
@uri_option
@one_line_errors
def track(
    images: str | None,
    out_dir: Path,
    config: Config,
    dataset: str | None,
    labels: tuple[str, ...],
    flow: bool,
    overwrite: bool,
    uri: str | None,
) -> None:
    """Segment, link, solve and write a Cell Tracking Challenge result: IMAGES in, lineages out.

    --frames and --roi crop every input alike; the result is the cropped movie, frames from 0.
    """
    from neotrack.track import track as run

    with open_store(uri) as store:
        r = run(
            images,
            out_dir,
            config=config,
            dataset=dataset,
            labels=list(labels) or None,
            store=store,
            overwrite=overwrite,
            progress=True,
            flow=flow,
        )
    times = ", ".join(f"{k} {v:.1f} s" for k, v in r.seconds.items())
    click.echo(
        f"dataset {r.dataset!r}: {r.solved.n_tracks} tracks, {r.solved.n_divisions} divisions "
        f"({times}); CTC result in {r.out_dir}"
    )


@click.command("flow")
@click.argument("images")
@click.option("-o", "--out", "out_path", type=click.Path(path_type=Path), required=True, help="A zarr path.")
@config_option
@input_options
@click.option("--overwrite", is_flag=True)
@one_line_errors
def flow(
    images: str,
    out_path: Path,
    config: Config,
    overwrite: bool,
) -> None:
    """Estimate the flow field between consecutive frames of IMAGES (the [flow] settings).

    IMAGES is read and cropped as `segment` reads it ([data] settings, --axes ... --roi).
    """
    from neotrack.flow import timelapse_flow

    field = timelapse_flow(images, out_path, config, overwrite=overwrite, progress=True)
    click.echo(f"wrote {out_path}: {field.shape[0] - 1} frame pairs, field of shape {field.shape[2:]}")


@click.command("add-flow")
@click.argument("flow_path", type=click.Path(exists=True, path_type=Path))
@click.option("--dataset", required=True)
@config_option
@uri_option
@one_line_errors
def add_flow(flow_path: Path, dataset: str, config: Config, uri: str | None) -> None:
    """Store each candidate's displacement from FLOW_PATH; `neotrack link` then follows it."""
    from neotrack.flow import add_flow as run

    with open_store(uri) as store:
        n = run(dataset, flow_path, store, config.flow.min_shift)
    click.echo(f"shifted {n} candidates of {dataset!r}; run `neotrack link --overwrite` next")
