"""``neotrack demo``: the main job on generated data."""

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
    default=None,
    help="Where images and results go [<user data dir>/neotrack/demo, e.g. ~/.local/share/neotrack/demo].",
)
@click.option("--dataset", default="demo", show_default=True)
@click.option("--frames", type=int, default=30, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@uri_option
@one_line_errors
def demo(out_dir: Path | None, dataset: str, frames: int, seed: int, uri: str | None) -> None:
    """Generate a 2D+t time-lapse with known lineages, track it, and query the lineages.

    Without --uri the local Neo4j is started (and built, the first time).
    """
    from neotrack import server
    from neotrack.demo import demo as run_demo
    from neotrack.store import Store

    if uri is None:
        uri = server.start().uri
    if out_dir is None:
        from neotrack._system import user_data_dir

        out_dir = user_data_dir() / "demo"
    with Store(uri=uri) as store:
        r = run_demo(store, out_dir, dataset=dataset, n_frames=frames, seed=seed)
    t = r.tracked
    click.echo(f"generated {frames} frames with known lineages in {r.raw_dir} (ground truth in 01_GT)")
    click.echo(
        f"tracked dataset {t.dataset!r} in {uri}: {t.segmented.n_candidates} candidates, "
        f"{t.linked.n_links} candidate links, {t.solved.n_tracks} tracks"
    )
    click.echo(f"CTC result in {t.out_dir}")
    if r.scores:
        click.echo(
            "scores against the ground truth: " + ", ".join(f"{k} {v:.3f}" for k, v in r.scores.items())
        )
    click.echo(f"divisions found by Cypher: {len(r.divisions)} (true: {r.true_divisions})")
    if len(r.divisions):
        click.echo(r.divisions.drop(columns="parent_segment").to_string(index=False))
    click.echo(f"next: neotrack lineage tracks --dataset {t.dataset}")
