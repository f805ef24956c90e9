"""``neotrack demo``: the example run on generated data."""

from __future__ import annotations

from pathlib import Path

import click

from neotrack.cli._common import one_line_errors, uri_option


@click.command()
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("neotrack-demo"),
    show_default=True,
    help="Where the TIFFs go.",
)
@click.option("--dataset", default="demo", show_default=True)
@click.option("--frames", type=int, default=30, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@uri_option
@one_line_errors
def demo(out_dir: Path, dataset: str, frames: int, seed: int, uri: str | None) -> None:
    """Generate a 2D+t example, store it in Neo4j and show it is there.

    Without --uri the local Neo4j is started (and built, the first time).
    """
    from neotrack import server
    from neotrack.demo import demo as run_demo
    from neotrack.store import Store

    if uri is None:
        uri = server.start().uri
    with Store(uri=uri) as store:
        result = run_demo(store, out_dir, dataset=dataset, n_frames=frames, seed=seed)
    click.echo(f"generated {result.n_frames} frames in {result.raw_dir} (ground truth beside it)")
    click.echo(
        f"stored dataset {result.dataset!r} in {uri}: {result.segments} segments, {result.links} links"
    )
    click.echo(f"divisions found by Cypher: {len(result.divisions)}")
    if len(result.divisions):
        click.echo(result.divisions.to_string(index=False))
    click.echo(
        f"next: neotrack query 'MATCH (s:Segment {{dataset: $d}}) RETURN s.t AS t, "
        f"count(*) AS cells ORDER BY t' -p d={result.dataset}"
    )
