"""Scenes where cells go unseen for a frame: how tracking keeps them through the gap.

Run:  python bench/bench_gaps.py [--seeds 1 2 3] [--frames 40] [--missed 0.02] [--max-gap 1 2 3]
                                 [--set SECTION.KEY=VALUE ...]

Each seed generates a 2D scene (``simulate(missed=...)``: about 20 nuclei of radius 8 px, each cell
in each frame but the first and last left unrendered with probability ``--missed``; the ground
truth has the gaps as CTC does: the cell absent there, seen again a child track of the one before),
writes it in CTC layout to a temporary folder, tracks it end to end as ``bench/evaluate.py`` does
once per ``tracking.max_gap``, and scores each with py-ctcmetrics. Besides TRA, DET and LNK it
counts the gaps *bridged*: of the truth's tracks continued over missing frames, those whose result
track after the gap is the one before it, or its child started there (CTC's parent link across
missing frames); the README reports the table.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import tifffile

from evaluate import dataset_of, print_table, run_one, with_overrides
from neotrack import Config, Store, server
from neotrack.datasets import SyntheticScene, lineage_links, simulate, write_ctc
from neotrack.store import ID_STRIDE, frames_spanned

SCENE = {"shape": (256, 256), "n_cells": 20, "radius": 8.0, "division_rate": 0.01, "appear_rate": 0.1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--missed", type=float, default=0.02)
    parser.add_argument("--max-gap", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="neotrack-gaps-") as tmp, Store(uri=server.start().uri) as store:
        for seed in args.seeds:
            scene = simulate(n_frames=args.frames, seed=seed, missed=args.missed, **SCENE)  # type: ignore[arg-type]
            gaps = truth_gaps(scene)
            print(
                f"seed {seed}: {len(scene.tracks)} tracks, {len(scene.missed)} cells missed in a frame, "
                f"{len(gaps)} tracks continued over missing frames",
                flush=True,
            )
            raw = write_ctc(scene, Path(tmp) / f"gap-scene-{seed}")
            for max_gap in args.max_gap:
                config = with_overrides(Config(), args.overrides)
                config.data.working_dir = Path(tmp)
                config.tracking.max_gap = max_gap
                label = f"max_gap-{max_gap}"
                row = run_one(store, raw, "raw", config, label)
                res = Path(tmp) / f"{raw.parent.name}-{raw.name}-{label}_RES"
                kept = bridged(scene, gaps, res) if res.is_dir() else 0
                rows.append(
                    (f"seed {seed}", str(len(gaps)), str(max_gap), *row[2:5], f"{kept} of {len(gaps)}")
                )
                if store.has_dataset(dataset_of(raw, label)):
                    store.delete_dataset(dataset_of(raw, label))
    print_table(["scene", "gaps in the truth", "max_gap", "TRA", "DET", "LNK", "gaps bridged"], rows)


def truth_gaps(scene: SyntheticScene) -> list[tuple[int, int, int, int]]:
    """(parent label, its last frame, child label, its first frame) of the truth's tracks that
    continue a track over missing frames (a parent link spanning more than a frame)."""
    links = lineage_links(scene.tracks)
    over = links[frames_spanned(links) > 1]
    return [
        (s % ID_STRIDE, s // ID_STRIDE, t % ID_STRIDE, t // ID_STRIDE)
        for s, t in zip(over.source.tolist(), over.target.tolist(), strict=True)
    ]


def bridged(scene: SyntheticScene, gaps: list[tuple[int, int, int, int]], res: Path) -> int:
    """How many of ``gaps`` the result in ``res`` (CTC) carries over: the result's track under the
    child's first frame is the one under the parent's last frame, or that one's child."""
    tracks = np.loadtxt(res / "res_track.txt", dtype=np.int64, ndmin=2)
    parent = {int(r[0]): int(r[3]) for r in tracks}
    kept = 0
    for mother, end, child, begin in gaps:
        before = _under(scene.labels[end] == mother, res / f"mask{end:03d}.tif")
        after = _under(scene.labels[begin] == child, res / f"mask{begin:03d}.tif")
        kept += before > 0 and after > 0 and (after == before or parent.get(after) == before)
    return kept


def _under(where: np.ndarray, mask: Path) -> int:
    """The result label covering most of ``where`` (0: none)."""
    values = tifffile.imread(mask)[where]
    values = values[values > 0]
    return int(np.bincount(values).argmax()) if len(values) else 0


if __name__ == "__main__":
    main()
