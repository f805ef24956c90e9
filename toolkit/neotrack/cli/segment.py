"""``neotrack segment``: candidate segments of every frame into Neo4j."""

from __future__ import annotations

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
@click.argument("images", required=False)
@click.option("--dataset", required=True, help="Name of the dataset to create, resume or overwrite.")
@config_option
@click.option(
    "--labels",
    multiple=True,
    help="Existing label images (folder/stack/zarr/h5), as the "
    "segmentation; repeat for an ensemble of hypotheses.",
)
@click.option("--foreground", help="A ready foreground map (values above segmentation.threshold).")
@click.option("--boundaries", help="A ready boundary map (high between cells).")
@working_dir_option
@workers_option
@input_options
@click.option("--overwrite", is_flag=True, help="Replace this dataset's candidates.")
@uri_option
@one_line_errors
def segment(
    images: str | None,
    dataset: str,
    config: Config,
    labels: tuple[str, ...],
    foreground: str | None,
    boundaries: str | None,
    overwrite: bool,
    uri: str | None,
) -> None:
    """Compute the candidate hierarchy of every frame of IMAGES and store it as --dataset.

    IMAGES is a CTC folder of TIFFs, a TIFF stack, zarr or HDF5 (file.h5/internal/path). Raw
    intensities are preprocessed per the config's [preprocessing] section; ilastik probability maps
    need preprocessing.foreground = "threshold" and boundaries = "probability". --frames and --roi
    crop IMAGES, --labels, --foreground and --boundaries alike.
    An interrupted run resumes when started again with the same settings.
    """
    from neotrack.candidates import segment as run_segment

    with open_store(uri) as store:
        result = run_segment(
            images,
            dataset=dataset,
            config=config,
            labels=list(labels) or None,
            foreground=foreground,
            boundaries=boundaries,
            store=store,
            overwrite=overwrite,
            progress=True,
        )
    click.echo(
        f"dataset {result.dataset!r}: {result.n_candidates} candidates in {result.n_frames} "
        f"frames ({result.candidates_per_frame:.1f} per frame); masks in {result.leaves_path}"
    )
