"""Solve a scenario: prepare → build → HiGHS (→ outer loop) → tidy result checked by the simulator."""

from __future__ import annotations

import time

import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.solver.common.results import TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from allocopt.data import RESOURCES
from allocopt.errors import SolverError
from allocopt.inputs import Inputs, prepare
from allocopt.model import build_model
from allocopt.model.linearization import Linearization
from allocopt.result import Result, build_result
from allocopt.scenario import Scenario
from allocopt.simulate import Schedule, evaluate
from allocopt.slp import Iteration, successive_lp

STATUS = {
    TerminationCondition.convergenceCriteriaSatisfied: "optimal",
    TerminationCondition.provenInfeasible: "infeasible",
    TerminationCondition.locallyInfeasible: "infeasible",
    TerminationCondition.infeasibleOrUnbounded: "infeasible_or_unbounded",
    TerminationCondition.unbounded: "unbounded",
    TerminationCondition.maxTimeLimit: "time_limit",
    TerminationCondition.iterationLimit: "iteration_limit",
}


class HighsRunner:
    """One persistent HiGHS interface: re-solves after parameter changes reuse it (warm start)."""

    def __init__(self, time_limit: float | None = None, threads: int = 1) -> None:
        self.solver = Highs()
        self.solver.config.load_solutions = False
        self.solver.config.raise_exception_on_nonoptimal_result = False
        self.solver.config.time_limit = time_limit
        self.solver.config.solver_options["threads"] = threads
        self.solver.config.solver_options["output_flag"] = False

    def __call__(self, m: pyo.ConcreteModel) -> float:
        """Solve ``m`` and load its solution; return the objective. Raises SolverError unless
        HiGHS proves an optimum."""
        results = self.solver.solve(m)
        status = STATUS.get(results.termination_condition, "solver_error")
        if status != "optimal":
            raise SolverError(
                status,
                f"HiGHS stopped with '{results.termination_condition.name}' on model '{m.name}'",
            )
        results.solution_loader.load_vars()
        return float(pyo.value(m.objective))


def extract_schedule(m: pyo.ConcreteModel, inp: Inputs) -> Schedule:
    """The solved allocation as arrays in the index order of ``inp``."""
    labels, ids = inp.periods.labels, inp.ids
    effort = np.array([[m.effort[t, i].value or 0.0 for i in ids] for t in labels])
    caps = np.array([[m.capabilities[t, r].value or 0.0 for r in RESOURCES] for t in labels])
    return Schedule(effort=np.clip(effort, 0, None), capabilities=np.clip(caps, 0, None))


def solve(scenario: Scenario) -> Result:
    """Solve ``scenario`` and return its :class:`Result`.

    With endogenous capability the program is re-linearized in an outer loop
    (:func:`allocopt.slp.successive_lp`) until the trajectory stops moving. Raises
    :class:`SolverError` (status ``infeasible``, ``unbounded``, ``time_limit``, ...) when HiGHS
    does not prove an optimum.
    """
    t0 = time.perf_counter()
    inp = prepare(scenario)
    run = HighsRunner(scenario.solver.time_limit_seconds, scenario.solver.threads)
    iterations: tuple[Iteration, ...] = ()
    if inp.capability.endogenous:

        def solve_at(lin: Linearization) -> tuple[float, Schedule]:
            m = build_model(inp, lin)
            return run(m), extract_schedule(m, inp)

        t1 = time.perf_counter()
        outcome = successive_lp(inp, solve_at)
        schedule, ev, objective = outcome.schedule, outcome.evaluation, outcome.objective_model
        status, iterations = outcome.status, outcome.iterations
    else:
        m = build_model(inp)
        t1 = time.perf_counter()
        objective = run(m)
        schedule = extract_schedule(m, inp)
        ev = evaluate(inp, schedule)
        status = "optimal"
    t2 = time.perf_counter()
    timings = {"build": t1 - t0, "solve": t2 - t1}
    return build_result(inp, schedule, ev, status, objective, timings, iterations)
