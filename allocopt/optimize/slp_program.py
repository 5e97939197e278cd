"""The outer loop's program: built once per scenario structure, moved from point to point in place.

The linearization point (every ``*_ref`` and ``*_slope``, ``hiring``, ``delay_end_ref``) and the
trust radius are mutable Params (:data:`allocopt.model.sets.POINT_AXES`). Moving to a new point
assigns the Params; the coefficients, row and column bounds and costs whose value changed are
pushed to HiGHS, and the re-solve is a dual simplex warm from HiGHS's last basis. The trust rows
are elastic (``delay_outside``, ``readiness_outside``), so the program at any point is feasible
when the scenario is: an infeasible solve is the scenario's own infeasibility.

Pyomo's HiGHS interface would re-evaluate every mutable coefficient expression on each re-solve
(about 4,400 on the baseline, 50 ms a move in Python); after the first solve the program asks the
adapter to track them instead (:meth:`allocopt.optimize.highs.runner.HighsRunner.track_parameters`:
compiled once, only changed values pushed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocopt.model import build_model
from allocopt.model.linearization import Linearization
from allocopt.model.objective import TRUST_PENALTY, outside
from allocopt.model.sets import assign, values_at
from allocopt.numeric.inputs import Inputs

if TYPE_CHECKING:
    from allocopt.numeric.simulate import Schedule
    from allocopt.optimize.highs.arrays import LpArrays
    from allocopt.optimize.highs.coefficients import Coefficients
    from allocopt.optimize.highs.runner import HighsRunner, Solved

# re-solves: dual simplex from the last basis (a move changes coefficients, costs and bounds; the
# old basis stays valid), with Devex pricing as allocopt.Model's warm re-solves: measured on the
# baseline, 10% less HiGHS time than steepest edge over the loop, for 20% more simplex iterations
WARM = {"solver": "simplex", "simplex_dual_edge_weight_strategy": 1}


class SlpProgram:
    """The endogenous program of ``inp`` at a movable point, and its persistent HiGHS ``run``.

    ``builds`` counts Pyomo model builds (one per instance); ``pushed`` is how many coefficient
    helpers (a coefficient, a row's or a column's bounds, a cost) the last :meth:`solve` updated
    in HiGHS (``None`` for the first, cold, solve); ``held`` is the schedule read from the
    solution of the last :meth:`solve`, set by its reader (None until then: each move clears
    it), so that the tie-break knows whether HiGHS still holds the program a schedule came from.
    """

    def __init__(self, inp: Inputs, run: HighsRunner, lin: Linearization) -> None:
        self.inputs = inp
        self.model = build_model(inp, lin, mutable_point=True)
        self.builds = 1
        self.run = run
        self.pushed: int | None = None
        self.held: Schedule | None = None
        self._coefficients: Coefficients | None = None

    def solve(self, lin: Linearization) -> Solved:
        """Move the program to ``lin`` and solve it (cold the first time, then warm); the
        solution, if any, is loaded into :attr:`model`."""
        self._move(self.inputs, lin)
        solved = self.run.solve(self.model)
        self._track()
        return solved

    def stand_for(self, inp: Inputs) -> None:
        """Make the program stand for ``inp``, of the same structure as :attr:`inputs`
        (:func:`allocopt.model.structure`; a scenario tree's branches of one structure share a
        program): the next move assigns ``inp``'s Params."""
        self.inputs = inp

    def lp_at(self, inp: Inputs, lin: Linearization) -> LpArrays:
        """The program's LP for ``inp`` (of the same structure as :attr:`inputs`) at ``lin``, as
        HiGHS holds it, without solving it."""
        self._move(inp, lin)
        if self._coefficients is None:
            self.run.hand_over(self.model)
            self._track()
        return self.run.lp()

    def _move(self, inp: Inputs, lin: Linearization) -> None:
        """Assign the Params of ``inp`` at ``lin``; after the first solve, push the changed
        coefficients to HiGHS."""
        self.held = None
        assign(self.model, values_at(self.model, inp, lin))
        if self._coefficients is not None:
            self.pushed = self._coefficients.push()

    def _track(self) -> None:
        """After the first solve: track the Params' coefficients, re-solve warm from now on."""
        if self._coefficients is None:
            self._coefficients = self.run.track_parameters()
            self.run.set_options(WARM)

    def risk_reduction(self, solved: Solved) -> float:
        """The program's risk reduction at the solution ``solved`` loaded: its objective plus
        the trust rows' penalty (the slacks are few; the risk expression is long)."""
        slack = sum(x.value or 0.0 for x in outside(self.model))
        return float(solved.objective) + TRUST_PENALTY * slack
