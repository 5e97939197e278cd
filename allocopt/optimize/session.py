"""A scenario's program built once and re-solved warm: change an assumption, see the schedule move.

This applies to the core program (no endogenous capability, ``capability: {}``). A scenario with
endogenous capability is solved by the outer loop, which builds a fresh model at every
linearization point: for it ``Model.update`` only records the change (it returns ``"rebuild"``)
and ``Model.solve`` runs :func:`allocopt.solve` afresh.

For the core program ``Model.update`` changes the model's mutable Params in place when the change
leaves the program's structure alone — what building it read directly from the inputs
(:func:`allocopt.model.structure`, recorded by the build): budgets and budget multipliers,
velocity-hit caps and weights, the acceleration threshold, hazards and hazard multipliers,
resource intensities, ``max_effort``, safety floors, staff growth and re-assignment rates reach
the program only through mutable Params; anything else the families read (horizon, intervention
set or mode, lead times, depreciation, saturation, effects, residual floors, cut counts, turning
the safety floor on or off, the initial safety share, endogenous capability) rebuilds the model.
Both paths give the result a fresh :func:`allocopt.solve` gives.

>>> base = load_scenario("models/magma_baseline.yaml")  # doctest: +SKIP
>>> model = Model(base.with_updates({"capability": {}}))  # doctest: +SKIP
>>> model.update({"velocity.hit_cap_post_acceleration": 0.1})  # doctest: +SKIP
'in_place'
>>> result = model.solve()  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from allocopt.errors import SolverError
from allocopt.model import FAMILIES, build_model, structure
from allocopt.model.family import Family
from allocopt.model.linearization import reference
from allocopt.model.sets import set_param_values
from allocopt.numeric.inputs import Inputs, prepare
from allocopt.optimize.duals import DualRows
from allocopt.optimize.highs import HighsRunner, cold_algorithm
from allocopt.optimize.pipeline import NO_ANSWER, report, solve
from allocopt.results.result import Result
from allocopt.scenario.schema import Scenario

logger = logging.getLogger(__name__)

UpdateKind = Literal["in_place", "rebuild"]
# Warm re-solves: dual simplex from the last basis, with Devex pricing (steepest-edge weights would
# be recomputed from scratch after every change, which costs more than the iterations it saves);
# cold and warm solves keep allocopt.solve's dual feasibility tolerance (DUAL_TOLERANCE, 1e-9).
COLD_OPTIONS = {"simplex_dual_edge_weight_strategy": -1}  # HiGHS's default, for a first solve
WARM_OPTIONS = {"solver": "simplex", "simplex_dual_edge_weight_strategy": 1}


class Model:
    """The program of one scenario, kept between solves with one persistent HiGHS interface
    (core program); a scenario with endogenous capability keeps only the scenario. ``families``:
    the constraint families of the core program (default :data:`allocopt.model.FAMILIES`)."""

    def __init__(self, scenario: Scenario, families: Sequence[Family] = FAMILIES) -> None:
        self.scenario = scenario
        self.families = tuple(families)
        self.run = HighsRunner(scenario.solver.time_limit_seconds, scenario.solver.threads)
        self.builds = 0
        self.model = None
        t0 = time.perf_counter()
        inp = prepare(scenario)
        self._timings = {"prepare": time.perf_counter() - t0}  # phases since the last solve
        self._build(inp)

    @property
    def endogenous(self) -> bool:
        """True when solves run the outer loop (no persistent model, no in-place updates)."""
        return self.inputs.capability.endogenous

    def _build(self, inp: Inputs) -> None:
        t0 = time.perf_counter()
        self.inputs = inp
        if inp.capability.endogenous:
            self.model = None  # the outer loop builds its own model at every iteration
            return
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
        rebuilt (always, with endogenous capability); ``why`` names the change in the log."""
        t0 = time.perf_counter()
        inp = prepare(scenario)
        self._timings = {"prepare": time.perf_counter() - t0}
        self.scenario = scenario
        self.run.apply(scenario.solver)
        if inp.capability.endogenous:
            logger.info(
                "endogenous capability: the next solve runs the outer loop on fresh models (%s)",
                why,
            )
            self._build(inp)
            return "rebuild"
        if self.model is None:
            logger.info("building the core program: capability is no longer endogenous (%s)", why)
            self._build(inp)
            return "rebuild"
        old, new = structure(self.model, self.inputs), structure(self.model, inp)
        if old != new:
            what = ", ".join(k for k in new if new[k] != old[k])
            logger.info("rebuilding the model: %s changed (%s)", what, why)
            self._build(inp)
            return "rebuild"
        t1 = time.perf_counter()
        count = set_param_values(self.model, inp, reference(inp))
        self.inputs = inp
        self._timings["build"] = time.perf_counter() - t1  # the in-place update of the model
        logger.info("updated %d parameter values in place (%s)", count, why)
        return "in_place"

    def solve(self, allow_nonoptimal: bool = False) -> Result:
        """Solve (warm after an in-place update; the outer loop afresh with endogenous capability)
        and return the :class:`Result`, checked by the exact simulator as :func:`allocopt.solve`
        checks it; raises SolverError when HiGHS has no solution or, unless
        ``allow_nonoptimal``, when the result is not ``optimal`` (``check_failed`` included).
        ``Result.timings`` holds the phases since the last solve (``build``: the build or the
        in-place update)."""
        if self.model is None:
            return solve(self.scenario, allow_nonoptimal)
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
