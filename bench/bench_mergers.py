"""Scenes where nuclei run into each other: how tracking scores through mergers.

Run:  python bench/bench_mergers.py [--seeds 1 2 3] [--frames 40] [--sequence PATH ...]
                                    [--set SECTION.KEY=VALUE ...]

Each seed generates a 2D scene (``simulate(mergers=..., markers=True)``: about 20 nuclei of radius
8 px, two of them at a time one blob for three frames, ground truth as one small marker per cell),
writes it in CTC layout to a temporary folder, tracks it end to end as ``bench/evaluate.py`` does,
once with one cell per segment (the defaults) and once with ``tracking.max_objects_per_merger = 2``
(mergers counted and resolved), and scores each with py-ctcmetrics. A merger that the tracker takes
for one cell shows as a false negative per frame and broken links (AOGM ``NS``, ``FN``, ``EA``); the
README reports the numbers, with each run's solve seconds. With counts, the h5 export is checked
against the true merged objects (a frame of a merger): whether the result tells their cells apart
(each cell's marker under an object of its own: two segments, or one merger's resolved cells),
whether they are found as mergers (a ``Mergers`` row of the frame whose cells, ``ResolvedMergers``,
cover both markers), and whether each ``Mergers`` row is true (its cells cover two markers or
more). ``--sequence`` adds real sequences (a CTC folder with its ``_GT`` beside it), tracked the
same two ways: what counting cells costs where nuclei rarely merge. ``--set`` changes settings of
both runs, as in ``evaluate.py``.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

import numpy as np

from evaluate import dataset_of, print_table, run_one, with_overrides
from neotrack import Config, Store, server
from neotrack.datasets import SyntheticScene, simulate, write_ctc
from neotrack.export import read_h5_events, to_h5_events
from neotrack.store import ID_STRIDE

SCENE = {
    "shape": (256, 256),
    "n_cells": 20,
    "radius": 8.0,
    "division_rate": 0.01,
    "appear_rate": 0.1,
    "mergers": 0.5,
    "merge_frames": 3,
    "markers": True,
}
"""About 20 nuclei; a merger starts every other frame where a pair of neighbours qualifies."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--sequence", type=Path, action="append", default=[], help="A real CTC sequence too.")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE")
    args = parser.parse_args()
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="neotrack-mergers-") as tmp,
        Store(uri=server.start().uri) as store,
    ):
        cases: list[tuple[str, Path, str, SyntheticScene | None]] = []  # (name, raw, merged objects, scene)
        for seed in args.seeds:
            scene = simulate(n_frames=args.frames, seed=seed, **SCENE)  # type: ignore[arg-type]
            merged = scene.mergers.groupby(["t", "merger"]).size()
            print(
                f"seed {seed}: {len(scene.tracks)} tracks, {scene.n_divisions} divisions, "
                f"{scene.mergers.merger.nunique()} mergers over {len(merged)} merged objects "
                f"(frame x merger), {int(merged.sum())} cells in them",
                flush=True,
            )
            raw = write_ctc(scene, Path(tmp) / f"merger-scene-{seed}")
            cases.append((f"seed {seed}", raw, str(len(merged)), scene))
        cases += [(f"{seq.parent.name}/{seq.name}", seq.resolve(), "-", None) for seq in args.sequence]
        for name, raw, merged_objects, scene in cases:
            for cells in (1, 2):
                config = with_overrides(Config(), args.overrides)
                config.data.working_dir = Path(tmp)
                config.tracking.max_objects_per_merger = cells
                label = f"max_objects_per_merger-{cells}"
                row = run_one(store, raw, "raw", config, label)
                solve = re.search(r"solve ([0-9.]+) s", row[-1])  # the stages' seconds
                dataset = dataset_of(raw, label)
                made = store.has_dataset(dataset)  # (a run refused early made none)
                checked = ("-", "-", "-")
                if cells > 1 and scene is not None and made:
                    checked = h5_mergers(store, dataset, scene, Path(tmp) / f"{label}-h5")
                seconds = solve.group(1) if solve else "-"
                rows.append((name, merged_objects, str(cells), *row[2:5], seconds, *checked))
                if made:
                    store.delete_dataset(dataset)
    columns = ["scene", "merged objects", "max_objects_per_merger", "TRA", "DET", "LNK", "solve s"]
    print_table([*columns, "merged objects told apart", "found as mergers", "Mergers rows true"], rows)


def h5_mergers(store: Store, dataset: str, scene: SyntheticScene, out: Path) -> tuple[str, str, str]:
    """The dataset's h5 export against the scene's true merged objects (see the module's
    docstring): true objects whose cells the result tells apart (two objects, or one merger's two
    cells), true objects found as a merger, ``Mergers`` rows that are true; each "n of m"."""
    to_h5_events(dataset, out, store=store, overwrite=True)
    frames, _, mergers = read_h5_events(out)
    truth = [(int(t), set(group.L)) for (t, _), group in scene.mergers.groupby(["t", "merger"])]
    rows = []  # (frame, the true cells whose markers the row's cells cover)
    for merger, parts in zip(mergers.id, mergers.parts, strict=True):
        t = int(merger) // ID_STRIDE
        cells = np.asarray(parts or (merger,)) % ID_STRIDE  # its resolved cells, else itself
        rows.append((t, set(np.unique(scene.labels[t][np.isin(frames[t], cells)]).tolist()) - {0}))

    def under(t: int, cell: int) -> int:  # the result's object on the cell's marker (0: none)
        values = frames[t][scene.labels[t] == cell]
        values = values[values > 0]
        return int(np.bincount(values).argmax()) if len(values) else 0

    apart = sum(len({under(t, c) for c in cells} - {0}) == len(cells) for t, cells in truth)
    found = sum(any(t == frame and cells <= covered for frame, covered in rows) for t, cells in truth)
    true_rows = sum(len(covered) >= 2 for _, covered in rows)
    return f"{apart} of {len(truth)}", f"{found} of {len(truth)}", f"{true_rows} of {len(rows)}"


if __name__ == "__main__":
    main()
