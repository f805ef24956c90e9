"""How well each foreground method finds the nuclei, frame by frame, also where frames hold few cells.

Run:  python bench/bench_foreground.py [--data ../shared/data] [--every 3]

Per sequence and method, over every ``--every``-th frame: the fraction of ground-truth cells found
(at least half of a cell's, or marker's, pixels are foreground), and the false foreground (the
fraction of the frame's foreground lying in objects that touch no cell), as a mean and as the worst
frame. Sequences: the real ones in ``--data`` (DIC-C2DH-HeLa is left out: no intensity separates its
cells); crops of Fluo-N2DH-SIM+/01 that hold few nuclei (the failure mode of histogram thresholds);
and a generated scene whose cells grow from 1 to many. Methods are ``detect_foreground``'s
``background`` (the default), ``otsu`` and ``triangle``, each frame on its own.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import tifffile
from scipy import ndimage as ndi

from neotrack.datasets import simulate
from neotrack.imgproc import detect_foreground

REAL = ["Fluo-N2DH-SIM+", "Fluo-N2DH-GOWT1", "Fluo-N2DL-HeLa"]
METHODS = ["background", "otsu", "triangle"]
SIM_CROPS = [(slice(180, 380), slice(300, 500)), (slice(180, 380), slice(180, 380))]  # 1-4 nuclei

Frames = Iterator[tuple[np.ndarray, np.ndarray]]  # (raw frame, ground-truth labels)


def real(data: Path, name: str, every: int, crop: tuple[slice, ...] | None = None) -> Frames:
    for path in sorted((data / name / "01").glob("t*.tif"))[::every]:
        t = int(path.stem[1:])
        truth = tifffile.imread(data / name / "01_GT" / "TRA" / f"man_track{t:03d}.tif")
        raw = tifffile.imread(path)
        yield (raw, truth) if crop is None else (raw[crop], truth[crop])


def generated(every: int) -> Frames:
    scene = simulate(n_frames=60, shape=(256, 256), n_cells=1, division_rate=0.08, appear_rate=0.1, seed=3)
    for t in range(0, scene.n_frames, every):
        yield scene.images[t], scene.labels[t]


def score(found: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(fraction of cells found, fraction of the foreground in objects touching no cell)."""
    cells = np.unique(truth[truth > 0])
    if cells.size:
        covered = ndi.mean(found, truth, cells)
        hit = float(np.mean(np.asarray(covered) >= 0.5))
    else:
        hit = 1.0
    objects, n = ndi.label(found)
    if not n:
        return hit, 0.0
    touching = np.zeros(n + 1, bool)
    touching[np.unique(objects[(truth > 0) & found])] = True
    touching[0] = True
    false = float(np.count_nonzero(~touching[objects]) / max(np.count_nonzero(found), 1))
    return hit, false


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("NEOTRACK_SHARED_DATA", "../shared/data"))
    )
    parser.add_argument("--every", type=int, default=3, help="Every n-th frame [3].")
    args = parser.parse_args()
    cases = {name: (lambda name=name: real(args.data, name, args.every)) for name in REAL}
    for i, crop in enumerate(SIM_CROPS):
        cases[f"SIM+/01 few-nuclei crop {i + 1}"] = lambda crop=crop: real(
            args.data, "Fluo-N2DH-SIM+", args.every, crop
        )
    cases["generated, 1 cell -> many"] = lambda: generated(args.every)
    print("| sequence | method | cells found (mean / worst frame) | false foreground (mean / worst frame) |")
    print("|---|---|---|---|")
    for case, frames in cases.items():
        for method in METHODS:
            scores = np.array(
                [score(detect_foreground(raw, method=method), truth) for raw, truth in frames()]
            )
            print(
                f"| {case} | {method} | {scores[:, 0].mean():.3f} / {scores[:, 0].min():.3f} "
                f"| {scores[:, 1].mean():.3f} / {scores[:, 1].max():.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
