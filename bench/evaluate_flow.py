"""Flow fields: speed per frame pair, and what they buy on fast, coherent motion.

Run:  python bench/evaluate_flow.py [--data ../shared/data]
1. seconds per frame pair at 512x512 and 32x256x256 (CPU, jit warm-up reported apart);
2. a generated scene whose nuclei rotate about the centre, moving 1-4 of their diameters per
   frame: TRA without and with flow (same settings otherwise);
3. Fluo-N2DH-SIM+/01 with and without flow: no loss where cells move little.
Reference: ultrack 0.8's PyTorch flow (3 scales, 1,000 iterations) took 1.8 s per 512x512 pair here.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from neotrack import Config, Store, server
from neotrack.datasets import rotating_flow, simulate, write_ctc
from neotrack.flow import flow_field
from neotrack.track import track

HERE = Path(__file__).resolve().parent


def speed(shape: tuple[int, ...], repeats: int = 3) -> tuple[float, float]:
    scene = simulate(n_frames=2, shape=shape, n_cells=40 if len(shape) == 2 else 12, seed=3)
    a, b = scene.images[0].astype(np.float32), scene.images[1].astype(np.float32)
    t0 = time.perf_counter()
    flow_field(a, b)
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        flow_field(a, b)
        times.append(time.perf_counter() - t0)
    return first, statistics.median(times)


def field_error(scene, **settings: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Median and 90th-percentile error (px) of the field at the nuclei, frames 5 -> 6."""
    a, b = scene.labels[5], scene.labels[6]
    labels = np.intersect1d(np.unique(a)[1:], np.unique(b)[1:])
    start = np.array(ndi.center_of_mass(a > 0, a, labels))
    truth = np.array(ndi.center_of_mass(b > 0, b, labels)) - start
    disp = flow_field(scene.images[5].astype(float), scene.images[6].astype(float), **settings)
    index = np.clip(np.rint(start / 4).astype(int), 0, np.array(disp.shape[1:]) - 1)
    found = np.stack([disp[k][tuple(index.T)] for k in range(2)], axis=1)
    error = np.linalg.norm(found - truth, axis=1)
    return float(np.median(error)), float(np.percentile(error, 90))


def score(res: Path, gt: Path) -> dict[str, float]:
    from ctc_metrics import evaluate_sequence

    with contextlib.redirect_stdout(io.StringIO()):
        return evaluate_sequence(str(res), str(gt), metrics=["DET", "TRA", "LNK"], threads=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("NEOTRACK_SHARED_DATA", "../shared/data"))
    )
    parser.add_argument("--field-only", action="store_true", help="Stop after timing and field errors.")
    args = parser.parse_args()
    for shape in ((512, 512), (32, 256, 256)):
        first, warm = speed(shape)
        print(f"flow, one frame pair {shape}: {warm:.2f} s (first call, with jit compilation: {first:.1f} s)")

    uri = server.start().uri
    work = Path(tempfile.mkdtemp(prefix="neotrack-flow-"))
    shape = (384, 384)
    scene = simulate(
        n_frames=15,
        shape=shape,
        n_cells=25,
        radius=8,
        speed=0.5,
        division_rate=0.0,
        appear_rate=0.0,
        flow=rotating_flow(shape, 0.3),
        seed=7,
    )
    write_ctc(scene, work / "movie")
    moves = [
        np.linalg.norm(
            np.subtract(
                ndi.center_of_mass(scene.labels[t + 1] == lab), ndi.center_of_mass(scene.labels[t] == lab)
            )
        )
        for t in range(scene.n_frames - 1)
        for lab in np.intersect1d(np.unique(scene.labels[t])[1:], np.unique(scene.labels[t + 1])[1:])
    ]
    q = np.percentile(moves, [10, 50, 90]) / 16
    print(
        f"rotating scene: nuclei move {q[0]:.1f} / {q[1]:.1f} / {q[2]:.1f} diameters per frame (10/50/90 %)"
    )
    for label, settings in (("defaults", {}), ("no per-scale blur", {"blur": 0.0})):
        median, p90 = field_error(scene, **settings)
        print(f"  field error at the nuclei, {label}: median {median:.1f} px, 90 % {p90:.1f} px")
    if args.field_only:
        return
    config = Config()
    config.data.working_dir = work
    config.segmentation.min_area, config.segmentation.max_area = 60, 600
    with Store(uri=uri) as store:
        for flow in (False, True):
            r = track(
                work / "movie" / "01",
                work / f"res{int(flow)}",
                config=config,
                dataset=f"flow-bench-{int(flow)}",
                store=store,
                overwrite=True,
                flow=flow,
            )
            m = score(work / f"res{int(flow)}", work / "movie" / "01_GT")
            print(
                f"  {'with' if flow else 'without'} flow: TRA {m['TRA']:.4f} DET {m['DET']:.4f} "
                f"LNK {m['LNK']:.4f} ({', '.join(f'{k} {v:.1f} s' for k, v in r.seconds.items())})"
            )
            store.delete_dataset(r.dataset)
        sim = args.data / "Fluo-N2DH-SIM+"
        sim_config = Config.load(HERE / "configs" / "Fluo-N2DH-SIM+.toml")
        sim_config.data.working_dir = work
        for flow in (False, True):
            r = track(
                sim / "01",
                work / f"sim{int(flow)}",
                config=sim_config,
                dataset=f"flow-bench-sim-{int(flow)}",
                store=store,
                overwrite=True,
                flow=flow,
            )
            m = score(work / f"sim{int(flow)}", sim / "01_GT")
            print(
                f"Fluo-N2DH-SIM+/01 {'with' if flow else 'without'} flow: TRA {m['TRA']:.4f} "
                f"DET {m['DET']:.4f} LNK {m['LNK']:.4f} (flow {r.seconds.get('flow', 0):.1f} s)"
            )
            store.delete_dataset(r.dataset)


if __name__ == "__main__":
    main()
