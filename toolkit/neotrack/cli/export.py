"""``neotrack export``: lineages out of the graph."""

from __future__ import annotations

from pathlib import Path

import click

from neotrack.cli._common import one_line_errors, open_store, uri_option


@click.group()
def export() -> None:
    """Write a solved dataset in another format."""


@export.command("ctc")
@click.option("--dataset", required=True)
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), required=True)
@click.option("--margin", type=int, default=0, help="Drop cells within this many pixels of the y/x edge.")
@click.option("--dilation", type=int, default=0, help="Grow masks this many pixels into the background.")
@click.option(
    "--first-frame",
    type=click.Path(exists=True, path_type=Path),
    help="Label image of frame 0: keep only the lineages of cells matched to its labels.",
)
@click.option("--overwrite", is_flag=True, help="Replace the output folder.")
@uri_option
@one_line_errors
def ctc(
    dataset: str,
    out_dir: Path,
    margin: int,
    dilation: int,
    first_frame: Path | None,
    overwrite: bool,
    uri: str | None,
) -> None:
    """Cell Tracking Challenge result: maskNNN.tif + res_track.txt."""
    import tifffile

    from neotrack.export import to_ctc

    markers = tifffile.imread(first_frame) if first_frame else None
    with open_store(uri) as store:
        out = to_ctc(
            dataset,
            out_dir,
            store,
            overwrite=overwrite,
            progress=True,
            margin=margin,
            dilation=dilation,
            first_frame=markers,
        )
    click.echo(f"wrote {out}")


@export.command("h5")
@click.option("--dataset", required=True)
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), required=True)
@click.option("--overwrite", is_flag=True, help="Replace the output folder.")
@uri_option
@one_line_errors
def h5(dataset: str, out_dir: Path, overwrite: bool, uri: str | None) -> None:
    """ilastik event files: one 00000.h5, 00001.h5 ... per frame (labels, Moves, Splits, ...)."""
    from neotrack.export import to_h5_events

    with open_store(uri) as store:
        click.echo(f"wrote {to_h5_events(dataset, out_dir, store, overwrite=overwrite, progress=True)}")


@export.command("csv")
@click.option("--dataset", required=True)
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), required=True)
@click.option("--overwrite", is_flag=True, help="Replace existing CSV files.")
@uri_option
@one_line_errors
def csv(dataset: str, out_dir: Path, overwrite: bool, uri: str | None) -> None:
    """ilastik's tables: objects.csv, divisions.csv, mergers.csv."""
    from neotrack.export import to_csv

    with open_store(uri) as store:
        click.echo(f"wrote {to_csv(dataset, out_dir, store, overwrite=overwrite)}")


@export.command("napari")
@click.option("--dataset", required=True)
@click.option(
    "-o",
    "--out",
    "out_file",
    type=click.Path(path_type=Path),
    required=True,
    help="CSV of track_id, t, (z,) y, x, parent_track_id.",
)
@click.option("--overwrite", is_flag=True)
@uri_option
@one_line_errors
def napari(dataset: str, out_file: Path, overwrite: bool, uri: str | None) -> None:
    """A napari tracks table (the parent graph as a parent_track_id column)."""
    from neotrack._outputs import new_path
    from neotrack.export import to_napari
    from neotrack.export._common import dataset_inputs, solved_dataset

    with open_store(uri) as store:
        new_path(out_file, overwrite, inputs=dataset_inputs(store, solved_dataset(store, dataset)))
        tracks, graph = to_napari(dataset, store)
    parent = {k: v[0] for k, v in graph.items()}
    tracks.assign(parent_track_id=tracks.track_id.map(parent).fillna(0).astype(int)).to_csv(
        out_file, index=False
    )
    click.echo(f"wrote {out_file}")


@export.command("networkx")
@click.option("--dataset", required=True)
@click.option("-o", "--out", "out_file", type=click.Path(path_type=Path), required=True, help="GraphML file.")
@click.option("--overwrite", is_flag=True)
@uri_option
@one_line_errors
def networkx(dataset: str, out_file: Path, overwrite: bool, uri: str | None) -> None:
    """The solution as a networkx DiGraph, written as GraphML."""
    import networkx as nx

    from neotrack._outputs import new_path
    from neotrack.export import to_networkx
    from neotrack.export._common import dataset_inputs, solved_dataset

    with open_store(uri) as store:
        new_path(out_file, overwrite, inputs=dataset_inputs(store, solved_dataset(store, dataset)))
        nx.write_graphml(to_networkx(dataset, store), out_file)
    click.echo(f"wrote {out_file}")


@export.command("zarr")
@click.option("--dataset", required=True)
@click.option("-o", "--out", "out_path", type=click.Path(path_type=Path), required=True)
@click.option("--overwrite", is_flag=True)
@uri_option
@one_line_errors
def zarr_(dataset: str, out_path: Path, overwrite: bool, uri: str | None) -> None:
    """A (T, (Z,) Y, X) zarr label volume painted by track id."""
    from neotrack.export import to_zarr

    with open_store(uri) as store:
        to_zarr(dataset, out_path, store, overwrite=overwrite, progress=True)
    click.echo(f"wrote {out_path}")


@export.command("geff")
@click.option("--dataset", required=True)
@click.option("-o", "--out", "out_path", type=click.Path(path_type=Path), required=True)
@click.option("--overwrite", is_flag=True)
@uri_option
@one_line_errors
def geff_(dataset: str, out_path: Path, overwrite: bool, uri: str | None) -> None:
    """The lineage graph in the geff format (zarr)."""
    from neotrack.export import to_geff

    with open_store(uri) as store:
        to_geff(dataset, out_path, store, overwrite=overwrite)
    click.echo(f"wrote {out_path}")
