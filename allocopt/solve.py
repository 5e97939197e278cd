"""Solve a scenario: prepare → build → HiGHS → statuses → tidy result checked by the simulator."""

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
from allocopt.result import Result, build_result
from allocopt.scenario import Scenario
from allocopt.simulate import Schedule, evaluate

STATUS = {
    TerminationCondition.convergenceCriteriaSatisfied: "optimal",
    TerminationCondition.provenInfeasible: "infeasible",
    TerminationCondition.locallyInfeasible: "infeasible",
    TerminationCondition.infeasibleOrUnbounded: "infeasible_or_unbounded",
    TerminationCondition.unbounded: "unbounded",
    TerminationCondition.maxTimeLimit: "time_limit",
    TerminationCondition.iterationLimit: "iteration_limit",
}


def run_highs(
    m: pyo.ConcreteModel, time_limit: float | None = None, threads: int = 1
) -> tuple[str, float]:
    """Solve ``m`` with HiGHS; return (status, objective). Raises SolverError unless optimal."""
    solver = Highs()
    solver.config.load_solutions = False
    solver.config.raise_exception_on_nonoptimal_result = False
    solver.config.time_limit = time_limit
    solver.config.solver_options["threads"] = threads
    results = solver.solve(m)
    status = STATUS.get(results.termination_condition, "solver_error")
    if status != "optimal":
        raise SolverError(
            status, f"HiGHS stopped with '{results.termination_condition.name}' on model '{m.name}'"
        )
    results.solution_loader.load_vars()
    return status, float(pyo.value(m.objective))


def extract_schedule(m: pyo.ConcreteModel, inp: Inputs) -> Schedule:
    """The solved allocation as arrays in the index order of ``inp``."""
    labels, ids = inp.periods.labels, inp.ids
    effort = np.array([[m.effort[t, i].value or 0.0 for i in ids] for t in labels])
    caps = np.array([[m.capabilities[t, r].value or 0.0 for r in RESOURCES] for t in labels])
    return Schedule(effort=np.clip(effort, 0, None), capabilities=np.clip(caps, 0, None))


def solve(scenario: Scenario) -> Result:
    """Solve ``scenario`` to optimality and return its :class:`Result`.

    Raises :class:`SolverError` (status ``infeasible``, ``unbounded``, ``time_limit``, ...) when
    HiGHS does not prove an optimum.
    """
    t0 = time.perf_counter()
    inp = prepare(scenario)
    m = build_model(inp)
    t1 = time.perf_counter()
    status, objective = run_highs(m, scenario.solver.time_limit_seconds, scenario.solver.threads)
    t2 = time.perf_counter()
    schedule = extract_schedule(m, inp)
    ev = evaluate(inp, schedule)
    timings = {"build": t1 - t0, "solve": t2 - t1, "report": time.perf_counter() - t2}
    return build_result(inp, schedule, ev, status, objective, timings)
