"""``segment`` on the real sequences: frames/s, candidates/frame, Neo4j writes apart from compute.

Run:  python bench/bench_segment.py [--data ../shared/data] [--workers 1 2]
Stage times are measured in this process (one worker), the end-to-end runs through ``segment``.
Reference on this machine: ultrack 0.8's ``segment`` took 13-17 s for the 65 frames of SIM+/01
with one worker (from precomputed foreground and contours).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from neotrack import Store, server
from neotrack.candidates import frame_candidates, segment
from neotrack.config import Config
from neotrack.imgproc import Inputs

SEQUENCES = {  # the area range brackets each dataset's nuclei (README of the shared data)
    "Fluo-N2DH-SIM+": (400, 4000),
    "Fluo-N2DH-GOWT1": (500, 6000),
}


def stages(inputs: Inputs, config: Config) -> dict[str, float]:
    """Seconds per stage over all frames, one process."""
    seconds = {"read": 0.0, "preprocess": 0.0, "hierarchy": 0.0}
    for t in range(inputs.shape[0]):
        t0 = time.perf_counter()
        assert inputs.images is not None
        inputs.images.frame(t)
        t1 = time.perf_counter()
        maps = inputs.maps(t)  # reads again: subtract the read
        t2 = time.perf_counter()
        frame_candidates(maps.foreground, maps.boundaries, t, config.segmentation, maps.intensity)
        t3 = time.perf_counter()
        seconds["read"] += t1 - t0
        seconds["preprocess"] += (t2 - t1) - (t1 - t0)
        seconds["hierarchy"] += t3 - t2
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("NEOTRACK_SHARED_DATA", "../shared/data"))
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--uri", default=None)
    args = parser.parse_args()
    uri = args.uri or server.start().uri
    with Store(uri=uri) as store:
        for name, (min_area, max_area) in SEQUENCES.items():
            images = args.data / name / "01"
            config = Config()
            config.data.working_dir = Path("bench/results")
            config.segmentation.min_area, config.segmentation.max_area = min_area, max_area
            inputs = Inputs.open(config, images=images)
            n = inputs.shape[0]
            s = stages(inputs, config)
            print(
                f"{name}/01: {n} frames {inputs.shape[1:]}; one process: read {s['read']:.1f} s, "
                f"preprocess {s['preprocess']:.1f} s, hierarchy+features {s['hierarchy']:.1f} s"
            )
            for workers in args.workers:
                config.data.n_workers = workers
                t0 = time.perf_counter()
                result = segment(images, dataset=f"bench-{name}", config=config, store=store, overwrite=True)
                wall = time.perf_counter() - t0
                print(
                    f"  segment, {workers} worker(s): {wall:.1f} s = {n / wall:.1f} frames/s; "
                    f"{result.candidates_per_frame:.0f} candidates/frame; Neo4j writes "
                    f"{result.write_seconds:.1f} s, compute {result.compute_seconds:.1f} s"
                )
            store.delete_dataset(f"bench-{name}")


if __name__ == "__main__":
    main()
