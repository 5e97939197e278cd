"""Solve a scenario: prepare → build → HiGHS (→ outer loop) → tidy result checked by the simulator."""

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
from allocopt.model.linearization import Linearization
from allocopt.result import Result, build_result
from allocopt.scenario import Scenario
from allocopt.simulate import Schedule, evaluate
from allocopt.slp import successive_lp

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
AUTO_UPDATES_OFF = (  # a re-solve of the same model only pushes changed mutable Param values
    "check_for_new_or_removed_constraints",
    "check_for_new_or_removed_vars",
    "check_for_new_or_removed_params",
    "check_for_new_objective",
    "update_constraints",
    "update_vars",
    "update_named_expressions",
    "update_objective",
)


def cold_algorithm(m: pyo.ConcreteModel) -> str:
    """HiGHS algorithm for a first solve of ``m``: HiGHS's choice (dual simplex for an LP) for
    small models, interior point (with crossover, so duals and the warm-start basis stay clean)
    from IPM_FROM_COLUMNS columns."""
    return "ipm" if m.nvariables() >= IPM_FROM_COLUMNS else "choose"


class HighsRunner:
    """One persistent HiGHS interface (output off). A new model is handed over whole; a re-solve
    of the same model after changing its mutable Params only pushes the changed values (no
    re-scan of the model) and starts from HiGHS's last basis (warm start)."""

    def __init__(
        self, time_limit: float | None = None, threads: int = 1, algorithm: str = "choose"
    ) -> None:
        self.solver = Highs()
        self.solver.config.load_solutions = False
        self.solver.config.raise_exception_on_nonoptimal_result = False
        self.solver.config.time_limit = time_limit
        self.solver.config.solver_options.update(
            {"threads": threads, "output_flag": False, "solver": algorithm}
        )
        updates = self.solver.config.auto_updates
        for option in AUTO_UPDATES_OFF:
            setattr(updates, option, False)
        updates.update_parameters = True

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


def shadow_prices(m: pyo.ConcreteModel, run: HighsRunner, rows: DualRows) -> pd.DataFrame:
    """The duals table of ``m`` just solved by ``run``; for a MILP, those of the LP left when
    its integer decisions are fixed at their optimal values (re-solved apart, labelled as such)."""
    integers = [v for v in m.component_data_objects(pyo.Var) if not v.is_continuous()]
    if not integers:
        return rows.table(run.solver)
    domains = [(v, v.domain, v.fixed) for v in integers]
    for v in integers:
        v.fix(round(v.value))
        v.domain = pyo.Reals
    try:
        options = run.solver.config
        fixed = HighsRunner(options.time_limit, options.solver_options["threads"])
        fixed(m)
        return rows.table(fixed.solver, FIXED_MILP)
    finally:
        for v, domain, was_fixed in domains:
            v.domain = domain
            if not was_fixed:
                v.unfix()


def report(
    m: pyo.ConcreteModel,
    inp: Inputs,
    run: HighsRunner,
    rows: DualRows,
    objective: float,
    timings: dict[str, float],
) -> Result:
    """The :class:`Result` of the core program ``m`` just solved to optimality by ``run``:
    schedule, exact evaluation and shadow prices of ``rows``."""
    t0 = time.perf_counter()
    schedule = extract_schedule(m, inp)
    ev = evaluate(inp, schedule)
    duals = shadow_prices(m, run, rows)
    timings = {**timings, "report": time.perf_counter() - t0}
    return build_result(inp, schedule, ev, "optimal", objective, timings, duals=duals)


def solve(scenario: Scenario) -> Result:
    """Solve ``scenario`` and return its :class:`Result`.

    With endogenous capability the program is re-linearized in an outer loop
    (:func:`allocopt.slp.successive_lp`) until the trajectory stops moving; such a result has no
    duals table (see docs/explore.md). Raises :class:`SolverError` (status ``infeasible``,
    ``unbounded``, ``time_limit``, ...) when HiGHS does not prove an optimum.
    """
    t0 = time.perf_counter()
    inp = prepare(scenario)
    options = scenario.solver
    if not inp.capability.endogenous:
        m = build_model(inp)
        run = HighsRunner(options.time_limit_seconds, options.threads, cold_algorithm(m))
        t1 = time.perf_counter()
        objective = run(m)
        timings = {"build": t1 - t0, "solve": time.perf_counter() - t1}
        return report(m, inp, run, DualRows.of(m), objective, timings)

    run = HighsRunner(options.time_limit_seconds, options.threads)

    def solve_at(lin: Linearization) -> tuple[float, Schedule]:
        m = build_model(inp, lin)
        return run(m), extract_schedule(m, inp)

    t1 = time.perf_counter()
    outcome = successive_lp(inp, solve_at)
    timings = {"build": t1 - t0, "solve": time.perf_counter() - t1}
    return build_result(
        inp,
        outcome.schedule,
        outcome.evaluation,
        outcome.status,
        outcome.objective_model,
        timings,
        outcome.iterations,
    )
