"""The outer loop's program: built once per scenario structure, moved from point to point in place.

The linearization point (every ``*_ref`` and ``*_slope``, ``hiring``, ``delay_end_ref``) and the
trust radius are mutable Params (:data:`allocopt.model.sets.POINT_AXES`). Moving to a new point
assigns the Params that changed and pushes to HiGHS only the coefficients, row bounds and costs
that read one of them; the re-solve is a dual simplex warm from HiGHS's last basis. The trust rows
are elastic (``delay_outside``, ``readiness_outside``), so the program at any point is feasible
when the scenario is: an infeasible solve is the scenario's own infeasibility.

Pyomo's HiGHS interface re-evaluates every mutable coefficient of the model on each re-solve
(``update_parameters``), thousands of expressions of which a move changes a fraction; this module
turns that off and updates the interface's own coefficient helpers (``_mutable_helpers``,
``_mutable_bounds``, ``_mutable_objective``: private to Pyomo 6.10's
``pyomo.contrib.solver.solvers.highs``) for the Params that changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyomo.core.expr.visitor import identify_mutable_parameters

from allocopt.model import build_model
from allocopt.model.linearization import Linearization
from allocopt.model.objective import TRUST_PENALTY, outside
from allocopt.model.sets import assign, param_values, point_values
from allocopt.numeric.inputs import Inputs

if TYPE_CHECKING:
    from allocopt.optimize.pipeline import HighsRunner, Solved

# re-solves: dual simplex from the last basis (a move changes coefficients, costs and bounds; the
# old basis stays valid and usually near-optimal)
WARM = {"solver": "simplex"}


class SlpProgram:
    """The endogenous program of ``inp`` at a movable point, and its persistent HiGHS ``run``.

    ``builds`` counts Pyomo model builds (one per instance); ``pushed`` is how many coefficient
    helpers the last :meth:`solve` pushed to HiGHS (``None`` for the first, cold, solve).
    """

    def __init__(self, inp: Inputs, run: HighsRunner, lin: Linearization) -> None:
        self.inputs = inp
        self.model = build_model(inp, lin, mutable_point=True)
        self.builds = 1
        self.run = run
        self.pushed: int | None = None
        self._readers: dict[int, list[Any]] | None = None  # id(ParamData) -> helpers reading it

    def solve(self, lin: Linearization) -> Solved:
        """Move the program to ``lin`` and solve it (cold the first time, then warm); the
        solution, if any, is loaded into :attr:`model`."""
        changed = assign(
            self.model, {**param_values(self.inputs, lin), **point_values(self.inputs, lin)}
        )
        if self._readers is not None:
            helpers = {id(h): h for p in changed for h in self._readers.get(id(p), ())}
            for helper in helpers.values():
                helper.update()
            self.pushed = len(helpers)
        solved = self.run.solve(self.model)
        if self._readers is None:
            self._readers = readers(self.run.solver)
            self.run.solver.config.auto_updates.update_parameters = False
            self.run.solver.config.solver_options.update(WARM)
        return solved

    def risk_reduction(self, solved: Solved) -> float:
        """The program's risk reduction at the solution ``solved`` loaded: its objective plus
        the trust rows' penalty (the slacks are few; the risk expression is long)."""
        slack = sum(x.value or 0.0 for x in outside(self.model))
        return float(solved.objective) + TRUST_PENALTY * slack


def readers(solver: Any) -> dict[int, list[Any]]:
    """For each mutable Param datum (by ``id``), the helpers of Pyomo's persistent HiGHS
    interface ``solver`` whose coefficient, bound or cost reads it."""
    helpers: list[tuple[Any, tuple[Any, ...]]] = []
    for row in solver._mutable_helpers.values():
        for h in row:
            exprs = (h.expr,) if hasattr(h, "expr") else (h.lower_expr, h.upper_expr)
            helpers.append((h, exprs))
    for _, h in solver._mutable_bounds.values():
        helpers.append((h, (h.lower_expr, h.upper_expr)))
    objective = solver._mutable_objective
    helpers += [(h, (h.expr,)) for h in (*objective.linear_coefs, objective.constant)]
    found: dict[int, list[Any]] = {}
    for helper, exprs in helpers:
        params = {id(p) for e in exprs for p in identify_mutable_parameters(e)}
        for p in params:
            found.setdefault(p, []).append(helper)
    return found
