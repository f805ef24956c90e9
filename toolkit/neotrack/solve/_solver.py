"""The MIP solver behind the program: HiGHS (through ``highspy``, the whole matrix passed at once),
CBC or Gurobi (through python-mip).

``tracking.solver = "auto"`` takes Gurobi when it is installed and licensed, else HiGHS, else CBC.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import glob
import importlib.util
import logging
import os
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, NoReturn

import mip
import numpy as np
import scipy.sparse as sp

from neotrack.config import TrackingConfig
from neotrack.errors import SolveError
from neotrack.solve._bases import BASIC, LOWER, UPPER
from neotrack.solve._problem import TrackingProblem

if TYPE_CHECKING:
    import highspy

log = logging.getLogger(__name__)

MAX_AROUND = 0.25
"""The share of the columns around an LP's fractions up to which a small integer program around
them is tried before branch and bound over the whole window (tracking LPs are fractional in a few
places; when the fractions are everywhere, branch and bound is the faster way)."""


@dataclasses.dataclass(frozen=True)
class Optimum:
    """A solved program: each column's value, the objective, the relative gap to the best bound
    (0 when the LP relaxation was integral), the solver's name; with ``keep_basis``, the
    statuses of the columns and rows in the LP relaxation's optimal basis (HiGHS only)."""

    x: np.ndarray
    objective: float
    gap: float
    solver: str
    basis: tuple[np.ndarray, np.ndarray] | None = None


def optimize(
    p: TrackingProblem,
    cfg: TrackingConfig,
    where: str,
    *,
    lp_first: bool = True,
    relax: bool = False,
    start: np.ndarray | None = None,
    basis: tuple[np.ndarray, np.ndarray] | None = None,
    keep_basis: bool = False,
) -> Optimum:
    """Solve; raises SolveError naming ``where`` without a solution.

    With ``lp_first`` the LP relaxation is solved first: when it is integral it is the optimum
    (its bound is its value), and no branch and bound is needed; otherwise the integer program is
    solved, in what is left of ``time_limit``. ``relax``: the LP relaxation only (benches).
    Where HiGHS solves the LP, it starts from ``basis`` (statuses of the columns and rows, as
    ``keep_basis`` returns them, of this or an overlapping program: ``_bases.py``), else from a
    basis made of ``start`` (column values of a solution near the optimum); CBC and Gurobi
    ignore both. Only the time depends on them.
    """
    name = solver_name(cfg)
    if name == "HiGHS":
        return _highs(p, cfg, where, lp_first, relax, start, basis, keep_basis)
    return _python_mip(p, cfg, where, name, lp_first, relax)


def solver_name(cfg: TrackingConfig) -> str:
    """The solver ``cfg.solver`` stands for on this machine: ``Gurobi``, ``HiGHS`` or ``CBC``."""
    if cfg.solver in ("auto", "GUROBI"):
        problem = _gurobi_absent() or _unusable(mip.GUROBI)
        if problem is None:
            return "Gurobi"
        if cfg.solver == "GUROBI":
            raise SolveError(
                f"Gurobi was asked for but cannot be used ({problem}): install and "
                "license gurobipy, or set tracking.solver = 'HIGHS' or 'CBC'"
            )
    if cfg.solver in ("auto", "HIGHS"):
        problem = _highspy_missing()
        if problem is None:
            return "HiGHS"
        if cfg.solver == "HIGHS":
            raise SolveError(
                f"HiGHS was asked for but cannot be used ({problem}): pip install highspy, "
                "or set tracking.solver = 'CBC'"
            )
        log.debug("HiGHS cannot be used (%s): CBC solves", problem)
    return "CBC"


@functools.cache
def _gurobi_absent() -> str | None:
    """Why Gurobi is not even installed: neither ``gurobipy``, nor ``GUROBI_HOME``, nor a
    ``libgurobi`` on ``LD_LIBRARY_PATH`` (where python-mip looks). Checked first because
    python-mip's own search probes dozens of library names (0.7 s, in every process); a library
    registered with ldconfig only is not seen: set ``GUROBI_HOME`` as Gurobi's installer says."""
    if "GUROBI_HOME" in os.environ or importlib.util.find_spec("gurobipy") is not None:
        return None
    for folder in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep):
        if folder and glob.glob(os.path.join(folder, "libgurobi*")):
            return None
    return "neither gurobipy, GUROBI_HOME nor a libgurobi on LD_LIBRARY_PATH is installed"


@functools.cache
def _unusable(solver: str) -> str | None:
    """Why python-mip cannot make a model of ``solver`` here (None: it can)."""
    try:
        mip.Model(solver_name=solver)
    except Exception as exc:  # not installed, not licensed: python-mip raises various kinds
        return str(exc) or type(exc).__name__
    return None


@functools.cache
def _highspy_missing() -> str | None:
    try:
        import highspy  # noqa: F401
    except ImportError as exc:
        return str(exc)
    return None


def _highs(
    p: TrackingProblem,
    cfg: TrackingConfig,
    where: str,
    lp_first: bool,
    relax: bool,
    start: np.ndarray | None,
    basis: tuple[np.ndarray, np.ndarray] | None,
    keep_basis: bool,
) -> Optimum:
    import highspy

    a, row_lo, row_hi = p.matrix()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", float(cfg.solution_gap))
    h.setOptionValue("time_limit", float(cfg.time_limit))
    if cfg.n_threads > 0:
        h.setOptionValue("threads", int(cfg.n_threads))
    integer = np.full(p.n_cols, int(highspy.HighsVarType.kInteger), dtype=np.int32)
    continuous = np.zeros(p.n_cols, dtype=np.int32)
    h.passModel(
        p.n_cols,
        a.shape[0],
        a.nnz,
        int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMaximize),
        0.0,
        p.cost,
        p.lower,
        p.upper,
        np.where(np.isinf(row_lo), -highspy.kHighsInf, row_lo),
        np.where(np.isinf(row_hi), highspy.kHighsInf, row_hi),
        a.indptr.astype(np.int32),
        a.indices.astype(np.int32),
        a.data.astype(float),
        continuous if (lp_first or relax) else integer,
    )
    status = highspy.HighsModelStatus
    started = time.perf_counter()
    kept = None
    if lp_first or relax:  # HiGHS's presolve costs these LPs more than it saves (about a third)
        h.setOptionValue("presolve", "off")
        if hasattr(highspy.HighsBasis(), "alien"):  # older highspy: a cold start
            if basis is not None:
                h.setBasis(_alien(*basis))
            elif start is not None:
                h.setBasis(_basis_near(a, row_lo, row_hi, np.clip(start, p.lower, p.upper)))
    h.run()
    lp = h.getSolution() if (lp_first or relax) and h.getModelStatus() == status.kOptimal else None
    if keep_basis and lp is not None:
        kept = _optimal_statuses(lp, p, row_hi)
    h.setOptionValue("presolve", "choose")
    if lp_first or relax:
        lp_status = h.getModelStatus()
        if lp_status in (status.kInfeasible, status.kUnboundedOrInfeasible) or (
            relax and lp_status != status.kOptimal
        ):
            _no_solution(where, lp_status.name)
        h.changeColsIntegrality(p.n_cols, np.arange(p.n_cols, dtype=np.int32), integer.astype(np.uint8))
        rounded = None
        if lp is not None:
            x = np.asarray(lp.col_value)
            bound = h.getInfo().objective_function_value
            if relax:
                return Optimum(x, bound, 0.0, "HiGHS", kept)
            if _integral(x):
                log.debug("%s: the LP relaxation is integral", where)
                return Optimum(np.round(x), bound, 0.0, "HiGHS", kept)
            near = _around_fractions(a, x)
            log.debug(
                "%s: the LP relaxation is fractional: %d variables around the fractions", where, near.sum()
            )
            if near.mean() <= MAX_AROUND:  # else the small program would be most of the whole one
                _time_left(h, cfg, started)
                rounded = _round_around(h, p, x, near, bound, cfg.solution_gap)
                if rounded is not None and rounded.gap <= cfg.solution_gap:
                    return dataclasses.replace(rounded, basis=kept)
                h.changeColsBounds(p.n_cols, np.arange(p.n_cols, dtype=np.int32), p.lower, p.upper)
        log.debug("%s: branch and bound over the whole program", where)
        if rounded is not None:
            h.setSolution(p.n_cols, np.arange(p.n_cols, dtype=np.int32), rounded.x)
        _time_left(h, cfg, started)
        h.run()
    info = h.getInfo()
    if info.primal_solution_status != 2:  # 2: a feasible solution
        _no_solution(where, h.getModelStatus().name)
    gap = abs(info.mip_dual_bound - info.objective_function_value) / max(
        abs(info.objective_function_value), 1e-9
    )
    if h.getModelStatus() != status.kOptimal:
        log.warning("%s: stopped at the time limit with gap %.3g (tracking.time_limit)", where, gap)
    return Optimum(
        np.round(np.asarray(h.getSolution().col_value)), info.objective_function_value, gap, "HiGHS", kept
    )


def _time_left(h: highspy.Highs, cfg: TrackingConfig, started: float) -> None:
    """``time_limit`` is per window: the next run gets what the earlier ones left (at least 1 s)."""
    h.setOptionValue("time_limit", max(float(cfg.time_limit) - (time.perf_counter() - started), 1.0))


def _optimal_statuses(
    solution: highspy.HighsSolution, p: TrackingProblem, row_hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The statuses of an optimal LP's columns and rows (0 at the lower bound, 1 basic, 2 at the
    upper), read off its primal and dual values: a column strictly between its bounds, or with a
    zero reduced cost, is basic, else at the bound its value sits on; a row's slack is basic
    unless its dual is nonzero. In these degenerate LPs that is not always HiGHS's own basis, but
    a start from it takes as few iterations, and reading HiGHS's basis into Python costs 25 ms a
    window (a list of objects per status) where this costs 2."""
    tol = 1e-9
    x, reduced = np.asarray(solution.col_value), np.asarray(solution.col_dual)
    activity, dual = np.asarray(solution.row_value), np.asarray(solution.row_dual)
    at_upper = x >= p.upper - tol
    inside = (x > p.lower + tol) & ~at_upper
    cols = np.where(
        inside | (np.abs(reduced) <= tol), BASIC, np.where(at_upper & (p.upper > p.lower), UPPER, LOWER)
    )
    rows = np.where(np.abs(dual) <= tol, BASIC, np.where(np.abs(activity - row_hi) <= tol, UPPER, LOWER))
    return cols.astype(np.int8), rows.astype(np.int8)


def _alien(col_status: np.ndarray, row_status: np.ndarray) -> highspy.HighsBasis:
    """A starting basis of the given statuses, which HiGHS repairs where they do not make one
    (too few basic, or dependent: an *alien* basis)."""
    import highspy

    kinds = np.array(
        [highspy.HighsBasisStatus.kLower, highspy.HighsBasisStatus.kBasic, highspy.HighsBasisStatus.kUpper],
        dtype=object,
    )
    basis = highspy.HighsBasis()
    basis.col_status = kinds[np.where(col_status > UPPER, LOWER, col_status)].tolist()  # others: a bound
    basis.row_status = kinds[np.where(row_status > UPPER, LOWER, row_status)].tolist()
    basis.alien = True
    basis.valid = False
    return basis


def _basis_near(
    a: sp.csr_matrix, row_lo: np.ndarray, row_hi: np.ndarray, x: np.ndarray
) -> highspy.HighsBasis:
    """A starting basis for the simplex from the 0/1 solution ``x``: its columns at 1 and the
    slacks of the rows it leaves loose are basic, the rest sit at their bounds. It is rarely a
    whole basis (too few basic, or dependent), so it goes as an *alien* basis that HiGHS completes
    with slacks; from it the dual simplex needs about half the iterations of a cold start."""
    ax = a @ x
    at_lo, at_hi = np.isclose(ax, row_lo, atol=1e-9), np.isclose(ax, row_hi, atol=1e-9)
    return _alien(np.where(x > 0.5, BASIC, LOWER), np.where(at_lo, LOWER, np.where(at_hi, UPPER, BASIC)))


def _around_fractions(a: sp.csr_matrix, x: np.ndarray) -> np.ndarray:
    """Columns that share a constraint with a fractional column of ``x`` (themselves included)."""
    fractional = _fractional(x)
    rows = np.unique(a.tocsc()[:, np.flatnonzero(fractional)].indices)
    near = fractional.copy()
    near[a[rows].indices] = True
    return near


def _round_around(
    h: highspy.Highs, p: TrackingProblem, x: np.ndarray, near: np.ndarray, bound: float, gap: float
) -> Optimum | None:
    """The integer program with every column away from the LP's fractions held at its LP value:
    a small program, solved at once. Its solution is feasible for the whole program, and the LP
    objective ``bound`` bounds the whole program's optimum, so the gap it reports is proven. None
    when holding those columns leaves no solution (or none was found in the time left)."""
    held_lo = np.where(near, p.lower, np.round(x))
    held_hi = np.where(near, p.upper, np.round(x))
    h.changeColsBounds(p.n_cols, np.arange(p.n_cols, dtype=np.int32), held_lo, held_hi)
    h.setOptionValue("mip_rel_gap", float(gap) / 2)
    h.run()
    h.setOptionValue("mip_rel_gap", float(gap))
    info = h.getInfo()
    if info.primal_solution_status != 2:  # none found (held columns that leave none, or no time)
        return None
    objective = info.objective_function_value
    proven = max(bound - objective, 0.0) / max(abs(objective), 1e-9)
    return Optimum(np.round(np.asarray(h.getSolution().col_value)), objective, proven, "HiGHS")


def _python_mip(
    p: TrackingProblem, cfg: TrackingConfig, where: str, name: str, lp_first: bool, relax: bool
) -> Optimum:
    """CBC or Gurobi: python-mip takes the program column by column and row by row."""
    model = mip.Model(sense=mip.MAXIMIZE, solver_name=mip.GUROBI if name == "Gurobi" else mip.CBC)
    model.verbose = 0
    model.max_mip_gap = cfg.solution_gap
    model.threads = cfg.n_threads
    x = [
        model.add_var(lb=lo, ub=hi, obj=c, var_type=mip.BINARY if hi <= 1 else mip.INTEGER)
        for lo, hi, c in zip(p.lower.tolist(), p.upper.tolist(), p.cost.tolist(), strict=True)
    ]
    a, row_lo, row_hi = p.matrix()
    for r in range(a.shape[0]):
        lo, hi = a.indptr[r], a.indptr[r + 1]
        expr = mip.xsum(
            c * x[j] for j, c in zip(a.indices[lo:hi].tolist(), a.data[lo:hi].tolist(), strict=True)
        )
        if row_lo[r] == row_hi[r]:
            model += expr == float(row_hi[r])
        else:
            if np.isfinite(row_hi[r]):
                model += expr <= float(row_hi[r])
            if np.isfinite(row_lo[r]):
                model += expr >= float(row_lo[r])
    started = time.perf_counter()
    if lp_first or relax:
        with _quiet(model):  # CBC's LP solver prints its log whatever the model's verbosity
            status = model.optimize(max_seconds=cfg.time_limit, relax=True)
        values = np.array([np.nan if v.x is None else v.x for v in x], dtype=float)
        if status == mip.OptimizationStatus.OPTIMAL and (relax or _integral(values)):
            return Optimum(values if relax else np.round(values), float(model.objective_value), 0.0, name)
        if status == mip.OptimizationStatus.INFEASIBLE or relax:  # no relaxed solution: no integer one
            _no_solution(where, status.name)
        log.debug("%s: the LP relaxation is fractional: branch and bound", where)
    left = max(cfg.time_limit - (time.perf_counter() - started), 1.0)
    with _quiet(model):
        status = model.optimize(max_seconds=left)
    if status not in (mip.OptimizationStatus.OPTIMAL, mip.OptimizationStatus.FEASIBLE):
        _no_solution(where, status.name)
    objective, bound = float(model.objective_value), float(model.objective_bound)
    gap = abs(bound - objective) / max(abs(objective), 1e-9)
    if status == mip.OptimizationStatus.FEASIBLE:
        log.warning("%s: stopped at the time limit with gap %.3g (tracking.time_limit)", where, gap)
    return Optimum(np.round(np.array([v.x for v in x], dtype=float)), objective, gap, name)


def _no_solution(where: str, status: str) -> NoReturn:
    if "time" in status.lower():
        raise SolveError(
            f"{where}: the solver found no solution within tracking.time_limit (status {status}): "
            "raise time_limit, or make windows smaller (tracking.window_candidates)"
        )
    raise SolveError(
        f"{where}: the solver found no solution (status {status}); "
        "check pinned segments and links for contradictions"
    )


def _fractional(x: np.ndarray, tolerance: float = 1e-6) -> np.ndarray:
    """Which values are farther than ``tolerance`` from an integer."""
    return np.abs(x - np.round(x)) > tolerance


def _integral(x: np.ndarray) -> bool:
    """Whether every value is (within the tolerance) an integer."""
    return not _fractional(x).any()


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
