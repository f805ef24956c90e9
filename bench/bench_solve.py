"""How fast the solve is, and why; how it grows with the movie's length; solve_window's latency.

Run one of (each uses the local Neo4j, started if needed):

  python bench/bench_solve.py windows [--dataset eval-Fluo-N2DL-HeLa-01-defaults] [--windows 3] [--solver CBC]
      For the first windows the solve would use (each on its own, not anchored), on a dataset that
      ``bench/evaluate.py`` left linked in the store: the LP relaxation's fractional segments and its
      gap to the integer optimum, without and with ``edge <= node(source)``; the seconds of the
      LP-first solve (``solve_program``) and of plain branch and bound on the same program.
  python bench/bench_solve.py scaling [--frames 250,500,1000,2000]
      A generated scene (about 100 cells per frame) of each length, segmented and linked once
      (kept as dataset ``bench-scene-<frames>``), then solved with default settings in a process of
      its own: solve seconds per frame and that process's peak memory.
  python bench/bench_solve.py window [--dataset bench-scene-1000] [--range 500:510] [--pins 3]
      ``solve_window`` on those frames of the solved dataset as corrections go: a selected segment
      of the middle frame pinned out and the range solved again, the pin taken back and solved
      again, for ``--pins`` segments in turn (Neo4j reads, the program, the one-transaction write).
  python bench/bench_solve.py end-to-end [--sequence ../shared/data/Fluo-N2DH-SIM+/01] [--runs 2]
                                         [--ultrack-python /path/to/venv/bin/python]
      ``neotrack track`` on the sequence as a user runs it (a whole process, the command line's
      defaults: one worker per core, a new dataset each run, deleted afterwards, untimed), twice:
      wall time, the stages it reports, TRA from py-ctcmetrics; with ``--ultrack-python``,
      ``bench/ultrack_track.py`` alternating with it (a new SQLite database each run).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from neotrack import Config, Store, server
from neotrack.candidates import segment
from neotrack.datasets import simulate
from neotrack.linking import link
from neotrack.solve import solve, solve_program, solve_window
from neotrack.solve._job import read_planned
from neotrack.solve._solve import solve_plans
from neotrack.solve._solver import _fractional, optimize


def fractional(x: np.ndarray) -> int:
    return int(_fractional(x).sum())


HERE = Path(__file__).parent
SCENE = {"shape": (360, 360), "n_cells": 100, "radius": 7.0, "speed": 1.5}
SCENE |= {"division_rate": 0.0015, "appear_rate": 0.25, "seed": 1}
"""About 100 nuclei of ~150 px in each frame (85-120 over 2,000 frames), dividing and entering."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    windows = sub.add_parser("windows", help="LP relaxations and solve times of a dataset's windows")
    windows.add_argument("--dataset", default="eval-Fluo-N2DL-HeLa-01-defaults")
    windows.add_argument("--windows", type=int, help="How many windows [all].")
    windows.add_argument("--solver", default="auto", choices=["auto", "HIGHS", "CBC", "GUROBI"])
    scaling = sub.add_parser("scaling", help="solve time per frame and peak memory against length")
    scaling.add_argument("--frames", default="250,500,1000,2000")
    window = sub.add_parser("window", help="solve_window latency")
    window.add_argument("--dataset", default="bench-scene-1000")
    window.add_argument("--range", default="500:510", metavar="START:STOP")
    window.add_argument("--pins", type=int, default=3)
    e2e = sub.add_parser("end-to-end", help="neotrack track as a whole process, with TRA")
    e2e.add_argument(
        "--sequence",
        type=Path,
        default=Path(os.environ.get("NEOTRACK_SHARED_DATA", "../shared/data")) / "Fluo-N2DH-SIM+" / "01",
    )
    e2e.add_argument("--runs", type=int, default=2)
    e2e.add_argument(
        "--ultrack-python", help="A Python with ultrack: run bench/ultrack_track.py beside, alternating."
    )
    child = sub.add_parser("solve-child")  # the measured process of `scaling`
    child.add_argument("--dataset", required=True)
    args = parser.parse_args()
    if args.command == "windows":
        lp_relaxations(args.dataset, args.windows, args.solver)
    elif args.command == "scaling":
        solve_scaling([int(v) for v in args.frames.split(",")])
    elif args.command == "end-to-end":
        end_to_end(args.sequence, args.runs, args.ultrack_python)
    elif args.command == "window":
        time_solve_window(args.dataset, *(int(v) for v in args.range.split(":")), args.pins)
    else:
        solve_child(args.dataset)


def lp_relaxations(dataset: str, n_windows: int | None, solver: str) -> None:
    cfg = Config().tracking.model_copy(update={"solver": solver})
    print(
        "| window | candidates | links | tightened | build | fractional segments (variables) in the LP "
        "| LP gap | LP-first | B&B |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    totals = {False: [0, 0.0, 0.0], True: [0, 0.0, 0.0]}  # windows without fractions, LP-first s, B&B s
    with Store(uri=server.start().uri) as store:
        info = store.info(dataset)
        counts = store.frame_counts(dataset)
        t_min = int(counts.index.min())
        for plan in solve_plans(cfg, counts)[:n_windows]:
            job = read_planned(store, dataset, cfg, info, plan, t_min)  # each window on its own (no anchor)
            assert not job.window.segments.empty, "a window without candidates"
            for tighten in (False, True):
                started = time.perf_counter()
                p = job.program(tighten)
                p.matrix()  # what the solver receives
                build = time.perf_counter() - started
                relaxed = optimize(p, cfg, "LP", relax=True)
                lp, n_frac, n_frac_all = (
                    relaxed.objective,
                    fractional(relaxed.x[p.col("node")]),
                    fractional(relaxed.x),
                )
                started = time.perf_counter()
                best = solve_program(p, cfg)
                lp_first = time.perf_counter() - started
                started = time.perf_counter()
                bb = solve_program(p, cfg, lp_first=False)  # branch and bound on the same program
                plain = time.perf_counter() - started
                # both are optimal up to the configured gap
                assert abs(bb.objective - best.objective) <= cfg.solution_gap * abs(best.objective) + 1e-6
                for i, value in enumerate((n_frac == 0, lp_first, plain)):
                    totals[tighten][i] += value
                print(
                    f"| {plan.start}-{plan.stop - 1} | {len(p.segments)} | {len(p.links)} | {tighten} "
                    f"| {build:.3f} s | {n_frac} ({n_frac_all} of {p.n_cols}) "
                    f"| {(lp - best.objective) / abs(best.objective):.4%} "
                    f"| {lp_first:.1f} s | {plain:.1f} s |",
                    flush=True,
                )

    for tighten, (integral, lp_first, plain) in totals.items():
        print(
            f"tightened {tighten}: no fractional segment in {integral} window(s); LP-first {lp_first:.1f} s, "
            f"branch and bound {plain:.1f} s in all ({solver} solver)"
        )


def end_to_end(sequence: Path, runs: int, ultrack_python: str | None) -> None:
    from ctc_metrics import evaluate_sequence

    uri = server.start().uri
    walls: dict[str, list[float]] = {"neotrack": [], "ultrack": []}
    gt = str(sequence.parent / f"{sequence.name}_GT")
    with tempfile.TemporaryDirectory() as tmp, Store(uri=uri) as store:
        outs: dict[str, Path] = {}
        for run in range(runs):  # one after the other, alternating; each from scratch, as a user's
            outs = {tool: Path(tmp) / f"{tool}_RES_{run}" for tool in walls}
            dataset = f"bench-end-to-end-{run}"
            if store.has_dataset(dataset):  # left by an interrupted bench: not timed
                store.delete_dataset(dataset)
            commands = {
                "neotrack": [
                    *("neotrack", "track", str(sequence), "-o", str(outs["neotrack"])),
                    *("--dataset", dataset, "--uri", uri),
                ],
                "ultrack": [  # its SQLite database is new at every run too
                    str(ultrack_python),
                    str(HERE / "ultrack_track.py"),
                    str(sequence),
                    str(outs["ultrack"]),
                ],
            }
            for tool in walls if ultrack_python else ["neotrack"]:
                started = time.perf_counter()
                done = subprocess.run(commands[tool], capture_output=True, text=True)
                walls[tool].append(time.perf_counter() - started)
                if done.returncode:
                    raise SystemExit(done.stderr)
                print(
                    f"{tool} run {run + 1}: {walls[tool][-1]:.1f} s; {done.stdout.strip().splitlines()[-1]}",
                    flush=True,
                )
            store.delete_dataset(dataset)  # not timed, as ultrack's temporary folder is not
        for tool, times in walls.items():
            if not times:
                continue
            with contextlib.redirect_stdout(io.StringIO()):
                scores = evaluate_sequence(str(outs[tool]), gt, metrics=["TRA", "DET", "LNK"], threads=1)
            print(
                f"{tool} on {sequence.parent.name}/{sequence.name}: median "
                f"{statistics.median(times):.1f} s of {runs} runs; "
                f"TRA {scores['TRA']:.4f} DET {scores['DET']:.4f} LNK {scores['LNK']:.4f}",
                flush=True,
            )


def prepare_scene(store: Store, n_frames: int) -> str:
    """Dataset ``bench-scene-<n_frames>``, generated, segmented and linked (once: kept)."""
    name = f"bench-scene-{n_frames}"
    if name in set(store.list_datasets().name) and store.info(name).link.done:
        return name
    started = time.perf_counter()
    scene = simulate(n_frames, **SCENE)  # type: ignore[arg-type]
    segment(scene.images, dataset=name, store=store, overwrite=True, progress=True)
    link(name, store=store, overwrite=True, progress=True)
    print(f"{name}: generated, segmented and linked in {time.perf_counter() - started:.0f} s", flush=True)
    return name


def solve_scaling(lengths: list[int]) -> None:
    rows = []
    with Store(uri=server.start().uri) as store:
        names = [prepare_scene(store, n_frames) for n_frames in lengths]  # first, then the timed solves
        for n_frames, name in zip(lengths, names, strict=True):
            t_min, t_max, n_candidates = store.time_range(name)
            out = subprocess.run(
                [sys.executable, __file__, "solve-child", "--dataset", name],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            result = json.loads(out.strip().splitlines()[-1])
            rows.append((n_frames, n_candidates / (t_max - t_min + 1), result))
            print(f"{name}: {result}", flush=True)
    base = rows[0][2]["seconds"] / rows[0][0]
    print("| frames | candidates/frame | windows | solve | per frame | vs first | peak memory |")
    print("|---|---|---|---|---|---|---|")
    for n_frames, per_frame, r in rows:
        each = r["seconds"] / n_frames
        print(
            f"| {n_frames} | {per_frame:.0f} | {r['windows']} | {r['seconds']:.1f} s | {each * 1000:.0f} ms "
            f"| {each / base:.2f}x | {r['peak_mb']:.0f} MB |"
        )


def solve_child(dataset: str) -> None:
    """Solve with default settings; one JSON line: seconds, windows, this process's peak memory."""
    with Store(uri=server.start().uri) as store:
        started = time.perf_counter()
        result = solve(dataset, Config(), store)
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "windows": result.n_windows, "peak_mb": peak_memory_mb()}))


def peak_memory_mb() -> float:
    """This process's peak resident memory. Linux's VmHWM starts afresh at exec; ru_maxrss would
    also count the parent's memory at fork, which a child keeps across exec."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux, bytes on macOS


def time_solve_window(dataset: str, start: int, stop: int, pins: int) -> None:
    """solve_window on frames [start, stop) as a correction goes: one selected segment of the middle
    frame pinned out, the range solved again; the pin taken back, solved again; for ``pins``
    segments in turn. Each time: Neo4j reads, the program, the one-transaction write. The first
    correction starts its LP from the bases the solve kept of those frames (``solve/_bases.py``; a
    dataset solved before bases were kept starts from the stored choice: solve it again), the
    others from the basis the correction before kept, as corrections of one range do."""
    times = []
    with Store(uri=server.start().uri) as store:
        selected, _ = store.read_solution(dataset, start, stop)
        middle = selected[selected.t == (start + stop) // 2].id.iloc[:pins].tolist()
        try:
            for segment, value in itertools.product(middle, (False, None)):  # pinned out, then back
                store.pin_segments(dataset, [int(segment)], value)
                started = time.perf_counter()
                r = solve_window(dataset, start, stop, store=store)
                times.append(time.perf_counter() - started)
                print(
                    f"solve_window {dataset} frames {start}-{stop - 1}, segment {segment} "
                    f"{'pinned out' if value is False else 'unpinned'}: {times[-1]:.2f} s "
                    f"({r.n_selected} segments, {r.n_transitions} transitions, "
                    f"{r.n_retracked} track ids changed downstream; {len(selected)} selected before)"
                )
        finally:  # an interrupted bench leaves no pin on the dataset
            store.pin_segments(dataset, [int(s) for s in middle], None)
    print(
        f"solve_window: median {statistics.median(times):.2f} s, slowest {max(times):.2f} s "
        f"over {len(times)} corrections; the first {times[0]:.2f} s, the others median "
        f"{statistics.median(times[1:] or times):.2f} s (the same frames again: from the last LP basis)"
    )


if __name__ == "__main__":
    main()
