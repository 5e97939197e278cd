"""A scenario's program built once and re-solved warm: change an assumption, see the schedule move.

Both programs are kept between solves with one persistent HiGHS interface. The core program (no
endogenous capability, ``capability: {}``) is one LP, re-solved warm. With endogenous capability
(the bundled baseline) the model keeps the outer loop's program
(:class:`allocopt.optimize.slp_program.SlpProgram`: built once, its linearization point in
mutable Params), and each solve runs the outer loop on it, warm from HiGHS's last basis, starting
from the last converged schedule when there is one (the first solve, and the first after a
rebuild, start at full speed as :func:`allocopt.solve` does; so does a loop after a restart that
did not converge).

``Model.update`` changes the model's mutable Params in place when the change leaves the program's
structure alone — what building it read directly from the inputs (:func:`allocopt.model.structure`,
recorded by the build): budgets and budget multipliers, velocity-hit caps and weights, the
acceleration threshold, the timeline shift, hazards and hazard multipliers, resource intensities,
``max_effort``, safety floors, residual floors (the bounds of ``residual`` and its tangents),
staff growth and re-assignment rates reach the program only through mutable Params; anything
else the families read (horizon, intervention set or mode, lead times, depreciation, saturation,
effects, cut counts, turning the safety floor on or off, the initial safety share, capability
settings the rows read such as the influence half-life or the frontier shares, turning
endogenous capability on or off) rebuilds the model; settings
that only move the outer loop's linearization point (``ai_multiplier_max``, ``slp.*``) are in
place. For the core program both paths give the result a fresh :func:`allocopt.solve`
gives. With endogenous capability the restarted loop finds a local optimum near the last one;
tests/optimize/test_session.py checks that it matches a fresh solve (exact risk reduction within
5e-4 relative, a sixth of the tangent cuts' approximation gap; docs/explore.md).

>>> model = Model(load_scenario("models/magma_baseline.yaml"))  # doctest: +SKIP
>>> model.update({"velocity.hit_cap_post_acceleration": 0.1})  # doctest: +SKIP
'in_place'
>>> result = model.solve()  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from allocopt.errors import SolverError
from allocopt.model import FAMILIES, build_model, evaluate, structure
from allocopt.model.family import Family
from allocopt.model.linearization import Linearization, around, full_speed, reference
from allocopt.model.sets import set_param_values
from allocopt.numeric.inputs import Inputs, prepare
from allocopt.numeric.simulate import Schedule
from allocopt.optimize.duals import DualRows
from allocopt.optimize.finish import add_timings
from allocopt.optimize.highs.options import cold_algorithm
from allocopt.optimize.highs.runner import HighsRunner
from allocopt.optimize.pipeline import NO_ANSWER, one_plan, report, solve_outer
from allocopt.optimize.slp_program import SlpProgram
from allocopt.results.result import Result
from allocopt.results.status import Status
from allocopt.scenario.load import as_scenario
from allocopt.scenario.schema import Scenario

logger = logging.getLogger(__name__)
# how a failed restart is recovered, logged at DEBUG (``allocopt -v``): nothing for a user to act on
RECOVERY = (
    "solving again from full speed, as allocopt.solve does (a normal recovery: the result is a "
    "fresh solve's, checked as any; this only costs time)"
)

UpdateKind = Literal["in_place", "rebuild"]
# Warm re-solves: dual simplex from the last basis, with Devex pricing (steepest-edge weights would
# be recomputed from scratch after every change, which costs more than the iterations it saves);
# cold and warm solves keep allocopt.solve's dual feasibility tolerance (DUAL_TOLERANCE, 1e-9).
COLD_OPTIONS = {"simplex_dual_edge_weight_strategy": -1}  # HiGHS's default, for a first solve
WARM_OPTIONS = {"solver": "simplex", "simplex_dual_edge_weight_strategy": 1}


class Model:
    """The program of one scenario, kept between solves with one persistent HiGHS interface
    ``run``: the core program (:attr:`model`), or with endogenous capability the outer loop's
    :attr:`program` (whose Pyomo model is :attr:`model` too). ``families``: the constraint
    families of the core program (default :data:`allocopt.model.FAMILIES`). ``builds`` counts
    Pyomo builds; ``start`` is the schedule the next endogenous solve starts from (the last
    converged one; ``None``: full speed). ``scenario`` is a :class:`Scenario` or the path of a
    scenario file (``str`` or ``os.PathLike``, loaded as :func:`allocopt.load_scenario` loads it
    with its defaults; another type raises TypeError). A scenario with a ``tree:`` block raises
    ScenarioError (:func:`~allocopt.optimize.pipeline.one_plan`)."""

    def __init__(
        self, scenario: Scenario | str | os.PathLike[str], families: Sequence[Family] = FAMILIES
    ) -> None:
        scenario = as_scenario(scenario, "Model")
        one_plan(scenario)
        self.scenario = scenario
        self.families = tuple(families)
        self.builds = 0
        self.program: SlpProgram | None = None
        self.start: Schedule | None = None
        t0 = time.perf_counter()
        inp = prepare(scenario)
        self._timings = {"prepare": time.perf_counter() - t0}  # phases since the last solve
        self._build(inp)

    @property
    def endogenous(self) -> bool:
        """True when solves run the outer loop on :attr:`program`."""
        return self.program is not None

    def _build(self, inp: Inputs) -> None:
        """Build the program of ``inp`` with a fresh HiGHS interface (an outer loop's interface
        tracks its Params itself, see :meth:`HighsRunner.track_parameters`)."""
        t0 = time.perf_counter()
        solver = self.scenario.solver
        self.run = HighsRunner(solver.time_limit_seconds, solver.threads)
        self.inputs = inp
        self.start = None
        if inp.capability.endogenous:
            self.program = SlpProgram(inp, self.run, reference(inp))
            self.model = self.program.model
        else:
            self.program = None
            self.model = build_model(inp, families=self.families)
            self._rows = DualRows.of(self.model)
            self.run.set_options({**COLD_OPTIONS, "solver": cold_algorithm(self.model)})
        self.builds += 1
        self._timings["build"] = time.perf_counter() - t0

    def update(self, changes: Mapping[str, Any]) -> UpdateKind:
        """Apply dotted scenario ``changes`` (as :meth:`Scenario.with_updates`); return whether the
        model was changed in place or rebuilt (also logged). Raises ScenarioError on bad input."""
        return self.set_scenario(self.scenario.with_updates(dict(changes)), ", ".join(changes))

    def set_scenario(self, scenario: Scenario, why: str = "new scenario") -> UpdateKind:
        """Make the model that of ``scenario``: in place when its structure is unchanged, else
        rebuilt; ``why`` names the change in the log."""
        t0 = time.perf_counter()
        inp = prepare(scenario)
        self._timings = {"prepare": time.perf_counter() - t0}
        self.scenario = scenario
        self.run.apply(scenario.solver)
        if inp.capability.endogenous != self.endogenous:
            now = "on" if inp.capability.endogenous else "off"
            logger.info("rebuilding the model: endogenous capability turned %s (%s)", now, why)
            self._build(inp)
            return "rebuild"
        old, new = structure(self.model, self.inputs), structure(self.model, inp)
        if old != new:
            what = ", ".join(k for k in new if new[k] != old[k])
            logger.info("rebuilding the model: %s changed (%s)", what, why)
            self._build(inp)
            return "rebuild"
        t1 = time.perf_counter()
        if self.program is not None:
            self.program.inputs = inp
        count = set_param_values(self.model, inp, self._first_point(inp))
        self.inputs = inp
        self._timings["build"] = time.perf_counter() - t1  # the in-place update of the model
        logger.debug("updated %d parameter values in place (%s)", count, why)
        return "in_place"

    def _first_point(self, inp: Inputs) -> Linearization:
        """Where the next solve linearizes first: the reference point of the core program; for
        the outer loop, the exact trajectory of :attr:`start` (full speed when ``None``) under
        ``inp`` within the initial trust radius, as :func:`successive_lp` starts."""
        if self.program is None:
            return reference(inp)
        start = self.start if self.start is not None else full_speed(inp)
        return around(start, evaluate(inp, start), inp.capability.trust_region_years)

    def solve(self, allow_nonoptimal: bool = False) -> Result:
        """Solve warm and return the :class:`Result`, checked by the exact simulator as
        :func:`allocopt.solve` checks it; raises SolverError when HiGHS has no solution or,
        unless ``allow_nonoptimal``, when the result is not ``optimal`` (``check_failed``
        included). With endogenous capability the outer loop runs from :attr:`start` (a restart
        that does not converge, e.g. stuck at a schedule that exceeds a staff limit the loop's
        merit does not price, or that raises, e.g. because the program linearized at a start far
        outside the new budgets is infeasible, is followed by a loop from full speed, logged; a
        loop from full speed that HiGHS ends in numerical trouble is run once more on a rebuilt
        program; each logged at DEBUG, :data:`RECOVERY`); the schedule it converges to becomes
        the next start.
        ``Result.timings`` holds the phases since the last solve (``build``: the build or the
        in-place update, plus the outer loop's moves of the point)."""
        if self.program is not None:
            timings, self._timings = self._timings, {}
            rebuilt = False
            while True:  # at most a restart, a loop from full speed, one on a rebuilt program
                restart = self.start is not None
                try:
                    return self._solve_outer(timings, allow_nonoptimal)
                except SolverError as exc:
                    if restart:
                        logger.debug("the restart failed (%s): %s", exc, RECOVERY)
                        self.start = None
                    elif exc.status == Status.NUMERICAL_TROUBLE and not rebuilt:
                        logger.debug(
                            "rebuilding the program: a warm re-solve failed (%s); %s", exc, RECOVERY
                        )
                        self._build(self.inputs)
                        add_timings(timings, self._timings)
                        self._timings = {}
                        rebuilt = True
                    else:
                        raise
        solved = self.run.solve(self.model)
        if solved.objective is None or solved.status in NO_ANSWER:
            raise SolverError(solved.status, solved.message)
        if solved.status.is_optimal:
            self.run.set_options(WARM_OPTIONS)
        timings, self._timings = {**self._timings, **solved.timings}, {}
        return report(
            self.model,
            self.inputs,
            self.scenario,
            solved,
            self._rows,
            timings,
            allow_nonoptimal,
        )

    def _solve_outer(self, timings: dict[str, float], allow_nonoptimal: bool) -> Result:
        """The outer loop on :attr:`program` from :attr:`start` (then from full speed if that
        restart does not converge); a converged schedule becomes the next start."""
        if self.start is not None:
            restart = [("last_converged", self.start)]
            result = solve_outer(self.program, self.scenario, timings, True, restart)
            if result.is_local_optimum:
                self.start = result.schedule
                return result
            logger.debug(
                "the restart from the last converged schedule ended %s after %d outer "
                "iterations: %s",
                result.status,
                result.summary["outer_iterations"],
                RECOVERY,
            )
        result = solve_outer(self.program, self.scenario, timings, allow_nonoptimal)
        if result.is_local_optimum:
            self.start = result.schedule
        return result
