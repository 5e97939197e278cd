"""Solve a scenario: prepare → build → HiGHS → statuses → tidy result checked by the simulator."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.contrib.solver.common.results import TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from allocopt.data import RESOURCES
from allocopt.duals import FIXED_MILP, DualRows
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


IPM_FROM_COLUMNS = 2000  # measured: above this, interior point + crossover beats dual simplex cold


def cold_algorithm(m: pyo.ConcreteModel) -> str:
    """HiGHS algorithm for a first solve of ``m``: HiGHS's choice (dual simplex for an LP) for
    small models, interior point (with crossover, so duals and the warm-start basis stay clean)
    from IPM_FROM_COLUMNS columns."""
    return "ipm" if m.nvariables() >= IPM_FROM_COLUMNS else "choose"


def highs_solver(
    time_limit: float | None = None, threads: int = 1, algorithm: str = "choose"
) -> Highs:
    """A persistent HiGHS interface that, on a re-solve of the same model, only pushes changed
    mutable Param values (no re-scan of the model) and keeps HiGHS's basis as a warm start."""
    solver = Highs()
    solver.config.solver_options["solver"] = algorithm
    solver.config.load_solutions = False
    solver.config.raise_exception_on_nonoptimal_result = False
    solver.config.time_limit = time_limit
    solver.config.solver_options["threads"] = threads
    updates = solver.config.auto_updates
    for option in (
        "check_for_new_or_removed_constraints",
        "check_for_new_or_removed_vars",
        "check_for_new_or_removed_params",
        "check_for_new_objective",
        "update_constraints",
        "update_vars",
        "update_named_expressions",
        "update_objective",
    ):
        setattr(updates, option, False)
    updates.update_parameters = True
    return solver


def run_highs(
    m: pyo.ConcreteModel,
    time_limit: float | None = None,
    threads: int = 1,
    solver: Highs | None = None,
) -> tuple[str, float]:
    """Solve ``m`` with HiGHS; return (status, objective). Raises SolverError unless optimal.

    Pass the same ``solver`` (from :func:`highs_solver`) to re-solve ``m`` after changing its
    mutable Params: HiGHS then starts from the previous basis."""
    solver = solver or highs_solver(time_limit, threads)
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


def shadow_prices(m: pyo.ConcreteModel, solver: Highs, rows: DualRows) -> pd.DataFrame:
    """The duals table of ``m`` just solved by ``solver``; for a MILP, those of the LP left when
    its integer decisions are fixed at their optimal values (re-solved apart, labelled as such)."""
    integers = [v for v in m.component_data_objects(pyo.Var) if not v.is_continuous()]
    if not integers:
        return rows.table(solver)
    domains = [(v, v.domain, v.fixed) for v in integers]
    for v in integers:
        v.fix(round(v.value))
        v.domain = pyo.Reals
    try:
        fixed = highs_solver(solver.config.time_limit, solver.config.solver_options["threads"])
        run_highs(m, solver=fixed)
        return rows.table(fixed, FIXED_MILP)
    finally:
        for v, domain, was_fixed in domains:
            v.domain = domain
            if not was_fixed:
                v.unfix()


def report(
    m: pyo.ConcreteModel,
    inp: Inputs,
    solver: Highs,
    rows: DualRows,
    objective: float,
    timings: dict[str, float],
) -> Result:
    """The :class:`Result` of ``m`` just solved to optimality by ``solver``: schedule, exact
    evaluation and shadow prices of ``rows``."""
    t0 = time.perf_counter()
    schedule = extract_schedule(m, inp)
    ev = evaluate(inp, schedule)
    duals = shadow_prices(m, solver, rows)
    timings = {**timings, "report": time.perf_counter() - t0}
    return build_result(inp, schedule, ev, "optimal", objective, timings, duals)


def solve(scenario: Scenario) -> Result:
    """Solve ``scenario`` to optimality and return its :class:`Result`.

    Raises :class:`SolverError` (status ``infeasible``, ``unbounded``, ``time_limit``, ...) when
    HiGHS does not prove an optimum.
    """
    t0 = time.perf_counter()
    inp = prepare(scenario)
    m = build_model(inp)
    t1 = time.perf_counter()
    options = scenario.solver
    solver = highs_solver(options.time_limit_seconds, options.threads, cold_algorithm(m))
    _, objective = run_highs(m, solver=solver)
    t2 = time.perf_counter()
    return report(m, inp, solver, DualRows.of(m), objective, {"build": t1 - t0, "solve": t2 - t1})
