"""The MIP solver behind the program: CBC, or Gurobi when installed and licensed."""

from __future__ import annotations

import logging

import mip

from neotrack.config import TrackingConfig
from neotrack.errors import SolveError

log = logging.getLogger(__name__)


def new_model(cfg: TrackingConfig) -> mip.Model:
    """An empty maximisation model of the configured solver."""
    if cfg.solver in ("auto", "GUROBI"):
        try:
            model = mip.Model(sense=mip.MAXIMIZE, solver_name=mip.GUROBI)
        except Exception as exc:  # not installed, not licensed: python-mip raises various kinds
            if cfg.solver == "GUROBI":
                raise SolveError(
                    f"Gurobi was asked for but cannot be used ({exc}): install and "
                    "license gurobipy, or set tracking.solver = 'CBC'"
                ) from None
            model = mip.Model(sense=mip.MAXIMIZE, solver_name=mip.CBC)
    else:
        model = mip.Model(sense=mip.MAXIMIZE, solver_name=mip.CBC)
    model.verbose = 0
    model.max_mip_gap = cfg.solution_gap
    model.threads = cfg.n_threads
    return model


def optimize(model: mip.Model, cfg: TrackingConfig, where: str) -> tuple[float, float]:
    """Solve; returns (objective, relative gap). Raises SolveError without a solution."""
    status = model.optimize(max_seconds=cfg.time_limit)
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
