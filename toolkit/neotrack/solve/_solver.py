"""The MIP solver behind the program: HiGHS (CBC where highspy is missing), or Gurobi when installed
and licensed."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator

import mip

from neotrack.config import TrackingConfig
from neotrack.errors import SolveError

log = logging.getLogger(__name__)


def new_model(cfg: TrackingConfig) -> mip.Model:
    """An empty maximisation model of the configured solver (``auto``: Gurobi when installed and
    licensed, else HiGHS, else CBC)."""
    if cfg.solver in ("auto", "GUROBI"):
        try:
            return _configured(mip.Model(sense=mip.MAXIMIZE, solver_name=mip.GUROBI), cfg)
        except Exception as exc:  # not installed, not licensed: python-mip raises various kinds
            if cfg.solver == "GUROBI":
                raise SolveError(
                    f"Gurobi was asked for but cannot be used ({exc}): install and "
                    "license gurobipy, or set tracking.solver = 'HIGHS' or 'CBC'"
                ) from None
    if cfg.solver in ("auto", "HIGHS"):
        try:
            return _configured(mip.Model(sense=mip.MAXIMIZE, solver_name=mip.HIGHS), cfg)
        except Exception as exc:  # highspy missing or its library not loadable
            if cfg.solver == "HIGHS":
                raise SolveError(
                    f"HiGHS was asked for but cannot be used ({exc}): pip install highspy, "
                    "or set tracking.solver = 'CBC'"
                ) from None
            log.debug("HiGHS cannot be used (%s): CBC solves", exc)
    return _configured(mip.Model(sense=mip.MAXIMIZE, solver_name=mip.CBC), cfg)


def _configured(model: mip.Model, cfg: TrackingConfig) -> mip.Model:
    model.verbose = 0
    model.max_mip_gap = cfg.solution_gap
    # -1 lets the solver choose: CBC reads it so, HiGHS wants 0
    is_highs = model.solver_name.upper() == mip.HIGHS.upper()
    model.threads = max(cfg.n_threads, 0) if is_highs else cfg.n_threads
    return model


def optimize(model: mip.Model, cfg: TrackingConfig, where: str) -> tuple[float, float]:
    """Solve; returns (objective, relative gap). Raises SolveError without a solution.

    The LP relaxation is solved first: when it is integral it is the optimum (its bound is its
    value), and no branch and bound is needed; otherwise the integer program is solved, in what is
    left of ``time_limit``.
    """
    started = time.perf_counter()
    with _quiet(model):  # CBC's LP solver prints its log whatever the model's verbosity
        status = model.optimize(max_seconds=cfg.time_limit, relax=True)
    if status == mip.OptimizationStatus.OPTIMAL and _integral(model):
        log.debug("%s: the LP relaxation is integral", where)
        return float(model.objective_value), 0.0
    if status != mip.OptimizationStatus.INFEASIBLE:  # no relaxed solution: no integer one either
        log.debug("%s: the LP relaxation is fractional: branch and bound", where)
        left = max(cfg.time_limit - (time.perf_counter() - started), 1.0)
        status = model.optimize(max_seconds=left)
    if status not in (mip.OptimizationStatus.OPTIMAL, mip.OptimizationStatus.FEASIBLE):
        raise SolveError(
            f"{where}: the solver found no solution (status {status.name}); "
            "check pinned segments and links for contradictions"
        )
    objective, bound = float(model.objective_value), float(model.objective_bound)
    gap = abs(bound - objective) / max(abs(objective), 1e-9)
    if status == mip.OptimizationStatus.FEASIBLE:
        log.warning("%s: stopped at the time limit with gap %.3g (tracking.time_limit)", where, gap)
    return objective, gap


def _integral(model: mip.Model, tolerance: float = 1e-6) -> bool:
    """Whether every variable of the last solution is within ``tolerance`` of an integer."""
    values = [v.x for v in model.vars]
    return all(x is not None and abs(x - round(x)) <= tolerance for x in values)


@contextlib.contextmanager
def _quiet(model: mip.Model) -> Iterator[None]:
    """Standard output (the file descriptor C libraries write to) sent to /dev/null meanwhile, for
    CBC; a no-op where there is no such descriptor (some notebook kernels)."""
    if model.solver_name.upper() != mip.CBC or model.verbose:
        yield
        return
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
