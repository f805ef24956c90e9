"""ultrack end to end on a CTC sequence, for side-by-side timing (run with a Python that has ultrack).

Run:  /path/to/ultrack-venv/bin/python bench/ultrack_track.py SEQUENCE OUT [--min-area 400]
      [--max-area 4000] [--max-distance 30] [--sigma 80]
The steps of ultrack's tutorial (``../shared/workflows/``): ``detect_foreground`` and
``robust_invert`` on every frame, then ``segment``, ``link``, ``solve`` and ``to_ctc``, with its
SQLite database in a temporary folder. Prints one line: the seconds of each step and in all.
``bench/bench_solve.py end-to-end --ultrack-python ...`` runs it beside ``neotrack track``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sequence", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--min-area", type=int, default=400)
    parser.add_argument("--max-area", type=int, default=4000)
    parser.add_argument("--max-distance", type=float, default=30.0)
    parser.add_argument(
        "--sigma", type=float, default=80.0, help="detect_foreground's background blur [80: SIM+'s nuclei]"
    )
    args = parser.parse_args()

    from ultrack import MainConfig, link, segment, solve, to_ctc
    from ultrack.imgproc import detect_foreground, robust_invert

    seconds: dict[str, float] = {}
    started = clock = time.perf_counter()
    images = np.stack([tifffile.imread(p) for p in sorted(args.sequence.glob("t*.tif"))])
    foreground = np.stack([detect_foreground(frame, sigma=args.sigma) for frame in images])
    boundaries = np.stack([robust_invert(frame, sigma=1.0) for frame in images])
    seconds["maps"], clock = time.perf_counter() - clock, time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = MainConfig()
        cfg.data_config.working_dir = Path(tmp)
        cfg.segmentation_config.min_area = args.min_area
        cfg.segmentation_config.max_area = args.max_area
        cfg.linking_config.max_distance = args.max_distance
        segment(foreground, boundaries, cfg, overwrite=True)
        seconds["segment"], clock = time.perf_counter() - clock, time.perf_counter()
        link(cfg, overwrite=True)
        seconds["link"], clock = time.perf_counter() - clock, time.perf_counter()
        solve(cfg, overwrite=True)
        seconds["solve"], clock = time.perf_counter() - clock, time.perf_counter()
        to_ctc(args.out, cfg, overwrite=True)
        seconds["export"] = time.perf_counter() - clock
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items())
    print(f"ultrack: {time.perf_counter() - started:.1f} s ({steps})")


if __name__ == "__main__":
    main()
