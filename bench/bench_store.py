"""Bulk-write N candidate segments and 3N links, then read back 10-frame windows.

Prints nodes/s, relationships/s and window-read ms. Speed is measured here, not in tests.
Run:  python bench/bench_store.py [--frames 100] [--per-frame 2000] [--repeats 5]
Uses the local Neo4j (started if needed) or --uri / NEOTRACK_NEO4J_URI.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from neotrack import server
from neotrack.store import Store, segment_id


def make_tables(n_frames: int, per_frame: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    t = np.repeat(np.arange(n_frames), per_frame)
    k = np.tile(np.arange(1, per_frame + 1), n_frames)
    n = t.size
    y, x = rng.uniform(0, 2000, n), rng.uniform(0, 2000, n)
    lo = np.stack([y, x], 1).astype(np.int64)
    segments = pd.DataFrame(
        {
            "id": segment_id(t, k),
            "t": t,
            "z": np.zeros(n),
            "y": y,
            "x": x,
            "area": rng.integers(100, 3000, n),
            "bbox": list(np.hstack([lo, lo + 40])),
            "frontier": rng.random(n),
            "height": rng.random(n),
        }
    )
    # 3 links per segment of frames 0..T-2 towards random segments of the next frame
    src_t = np.repeat(t[t < n_frames - 1], 3)
    src_k = np.repeat(k[t < n_frames - 1], 3)
    links = pd.DataFrame(
        {
            "source": segment_id(src_t, src_k),
            "target": segment_id(src_t + 1, rng.integers(1, per_frame + 1, src_t.size)),
            "weight": rng.random(src_t.size),
        }
    ).drop_duplicates(["source", "target"], ignore_index=True)
    return segments, links


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--per-frame", type=int, default=2000)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--uri", default=None)
    args = parser.parse_args()

    uri = args.uri or server.start().uri
    segments, links = make_tables(args.frames, args.per_frame)
    kwargs = {"batch_size": args.batch_size} if args.batch_size else {}
    with Store(uri=uri, **kwargs) as store:
        name = "bench-store"
        store.create_dataset(name, overwrite=True)
        t0 = time.perf_counter()
        store.write_segments(name, segments)
        t_nodes = time.perf_counter() - t0
        t0 = time.perf_counter()
        store.write_links(name, links)
        t_links = time.perf_counter() - t0
        times = []
        rng = np.random.default_rng(1)
        for _ in range(args.repeats):
            start = int(rng.integers(0, args.frames - args.window + 1))
            t0 = time.perf_counter()
            window = store.read_window(name, start, start + args.window)
            times.append(time.perf_counter() - t0)
        store.delete_dataset(name)

    print(f"segments written: {len(segments):,} in {t_nodes:.2f} s = {len(segments) / t_nodes:,.0f} nodes/s")
    print(
        f"links written:    {len(links):,} in {t_links:.2f} s = {len(links) / t_links:,.0f} relationships/s"
    )
    print(
        f"window read ({args.window} frames x {args.per_frame} = {len(window.segments):,} "
        f"segments, {len(window.links):,} links): median {statistics.median(times) * 1e3:.0f} ms, "
        f"best {min(times) * 1e3:.0f} ms over {args.repeats}"
    )


if __name__ == "__main__":
    main()
