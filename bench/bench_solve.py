"""Why the solve is fast: each window's LP relaxation, with and without ``edge <= node(source)``.

Run:  python bench/bench_solve.py [--dataset eval-Fluo-N2DL-HeLa-01-defaults] [--windows 3] [--solver CBC]
on a dataset that ``bench/evaluate.py`` left linked in the local store. For the first windows the
solve would use (each on its own, not anchored): the LP relaxation's fractional segments and its gap
to the integer optimum, without and with the constraint; the seconds of the LP-first solve
(``solve_program``) and of plain branch and bound on the same program.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from neotrack import Config, Store, server
from neotrack.solve import solve_program, solve_window
from neotrack.solve._solve import solve_plans, window_program
from neotrack.solve._solver import _quiet


def fractional(values: list[float | None]) -> int:
    x = np.array([np.nan if v is None else v for v in values], dtype=float)
    return int(((x > 1e-6) & (x < 1 - 1e-6)).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="eval-Fluo-N2DL-HeLa-01-defaults")
    parser.add_argument("--windows", type=int, help="How many windows [all].")
    parser.add_argument("--solver", default="auto", choices=["auto", "HIGHS", "CBC", "GUROBI"])
    parser.add_argument(
        "--solve-window",
        metavar="START:STOP",
        help="Instead: time solve_window on these frames of the (solved) dataset, three times, "
        "after pinning out one selected segment in the middle.",
    )
    args = parser.parse_args()
    if args.solve_window:
        time_solve_window(args.dataset, *(int(v) for v in args.solve_window.split(":")))
        return
    cfg = Config().tracking.model_copy(update={"solver": args.solver})
    print("| window | candidates | links | tightened | fractional segments (LP) | LP gap | LP-first | B&B |")
    print("|---|---|---|---|---|---|---|---|")
    totals = {False: [0, 0.0, 0.0], True: [0, 0.0, 0.0]}  # windows without fractions, LP-first s, B&B s
    with Store(uri=server.start().uri) as store:
        info = store.info(args.dataset)
        t_min, t_max, n = store.time_range(args.dataset)
        for plan in solve_plans(cfg, t_min, t_max, n)[: args.windows]:
            for tighten in (False, True):  # each window on its own (no anchor), built twice
                p, again = (
                    window_program(store, args.dataset, cfg, plan, info, t_min, tighten=tighten) for _ in "ab"
                )
                assert p is not None and again is not None, "a window without candidates"
                with _quiet(p.model):  # CBC's LP log
                    p.model.optimize(relax=True)
                lp, n_frac = p.model.objective_value, fractional([v.x for v in p.node])
                started = time.perf_counter()
                best = solve_program(again, cfg)
                lp_first = time.perf_counter() - started
                started = time.perf_counter()
                p.model.optimize()  # branch and bound on the same program
                plain = time.perf_counter() - started
                # both are optimal up to the configured gap
                assert (
                    abs(p.model.objective_value - best.objective)
                    <= cfg.solution_gap * abs(best.objective) + 1e-6
                )
                for i, value in enumerate((n_frac == 0, lp_first, plain)):
                    totals[tighten][i] += value
                print(
                    f"| {plan.start}-{plan.stop - 1} | {len(p.segments)} | {len(p.links)} | {tighten} "
                    f"| {n_frac} | {(lp - best.objective) / abs(best.objective):.2%} "
                    f"| {lp_first:.1f} s | {plain:.1f} s |",
                    flush=True,
                )

    for tighten, (integral, lp_first, plain) in totals.items():
        print(
            f"tightened {tighten}: no fractional segment in {integral} window(s); LP-first {lp_first:.1f} s, "
            f"branch and bound {plain:.1f} s in all ({args.solver} solver)"
        )


def time_solve_window(dataset: str, start: int, stop: int) -> None:
    """solve_window on frames [start, stop): Neo4j reads, the program, the one-transaction write."""
    with Store(uri=server.start().uri) as store:
        selected, _ = store.read_solution(dataset, start, stop)
        middle = selected[selected.t == (start + stop) // 2].id.iloc[0]
        store.pin_segments(dataset, [int(middle)], False)
        try:
            for _ in range(3):
                started = time.perf_counter()
                r = solve_window(dataset, start, stop, store=store)
                took = time.perf_counter() - started
                print(
                    f"solve_window {dataset} frames {start}-{stop - 1}: {took:.2f} s "
                    f"({r.n_selected} segments, {r.n_transitions} transitions, "
                    f"{r.n_retracked} track ids changed downstream; {len(selected)} selected before)"
                )
        finally:
            store.pin_segments(dataset, [int(middle)], None)


if __name__ == "__main__":
    main()
