"""The tracking program: windows of the candidate graph, a MIP per window, lineages written back."""

from neotrack.solve._problem import TrackingProblem
from neotrack.solve._program import ProgramSolution, build_program, solve_program
from neotrack.solve._resolve import WindowResult, solve_window
from neotrack.solve._solve import SolveResult, solve
from neotrack.solve._tracks import assign_tracks
from neotrack.solve._windows import WindowPlan, plan_windows

__all__ = [
    "ProgramSolution",
    "SolveResult",
    "TrackingProblem",
    "WindowPlan",
    "WindowResult",
    "assign_tracks",
    "build_program",
    "plan_windows",
    "solve",
    "solve_program",
    "solve_window",
]
