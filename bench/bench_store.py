"""Bulk-write N candidate segments and 3N links, then read back 10-frame windows.

Prints nodes/s, relationships/s and window-read ms per pass; the first pass after a server start
includes the JVM's warm-up, so the warm median is over the later passes. Speed is measured here,
not in tests. Run:  python bench/bench_store.py [--frames 100] [--per-frame 2000] [--passes 3]
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
    parser.add_argument("--passes", type=int, default=3, help="write/read/delete passes")
    parser.add_argument("--repeats", type=int, default=5, help="window reads per pass")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--uri", default=None)
    args = parser.parse_args()

    uri = args.uri or server.start().uri
    segments, links = make_tables(args.frames, args.per_frame)
    kwargs = {"batch_size": args.batch_size} if args.batch_size else {}
    rng = np.random.default_rng(1)
    rows = []
    with Store(uri=uri, writers=args.writers, **kwargs) as store:
        name = "bench-store"
        for _ in range(args.passes):
            store.create_dataset(name, overwrite=True)
            t0 = time.perf_counter()
            store.write_segments(name, segments)
            t_nodes = time.perf_counter() - t0
            t0 = time.perf_counter()
            store.write_links(name, links)
            t_links = time.perf_counter() - t0
            reads = []
            for _ in range(args.repeats):
                start = int(rng.integers(0, args.frames - args.window + 1))
                t0 = time.perf_counter()
                window = store.read_window(name, start, start + args.window)
                reads.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            store.delete_dataset(name)
            t_delete = time.perf_counter() - t0
            rows.append(
                (
                    len(segments) / t_nodes,
                    len(links) / t_links,
                    statistics.median(reads) * 1e3,
                    len(segments) / t_delete,
                )
            )

    print(
        f"{len(segments):,} segments, {len(links):,} links; windows of {args.window} frames = "
        f"{len(window.segments):,} segments + {len(window.links):,} links"
    )
    print(f"{'pass':>4} {'nodes/s':>10} {'rels/s':>10} {'window ms':>10} {'deleted segments/s':>19}")
    for i, (nodes, rels, ms, deleted) in enumerate(rows, 1):
        print(f"{i:>4} {nodes:>10,.0f} {rels:>10,.0f} {ms:>10.0f} {deleted:>19,.0f}")
    if len(rows) > 1:
        warm = rows[1:]
        print(
            f"warm median: {statistics.median(r[0] for r in warm):,.0f} nodes/s, "
            f"{statistics.median(r[1] for r in warm):,.0f} relationships/s, "
            f"{statistics.median(r[2] for r in warm):.0f} ms per window"
        )


if __name__ == "__main__":
    main()
