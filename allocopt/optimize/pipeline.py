"""Solve a scenario: prepare → build → HiGHS (→ outer loop) → tidy result checked by the simulator."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.contrib.solver.solvers.highs import Highs

from allocopt.errors import InfeasibleError, SolverError
from allocopt.model import build_model, evaluate
from allocopt.model.family import families_of
from allocopt.model.linearization import Linearization, reference
from allocopt.numeric.inputs import Inputs, prepare
from allocopt.numeric.simulate import Schedule
from allocopt.optimize.diagnose import diagnose
from allocopt.optimize.duals import FIXED_MILP, DualRows
from allocopt.optimize.outer import Iteration, SolveAt, successive_lp
from allocopt.optimize.slp_program import SlpProgram
from allocopt.results.result import Result, build_result
from allocopt.results.status import Status
from allocopt.scenario.schema import Scenario
from allocopt.scenario.tables import RESOURCES

# HiGHS model status (by name, so statuses added by later HiGHS versions fall to SOLVER_ERROR)
HIGHS_STATUS: dict[str, Status] = {
    "kOptimal": Status.OPTIMAL,
    "kInfeasible": Status.INFEASIBLE,
    "kUnboundedOrInfeasible": Status.INFEASIBLE_OR_UNBOUNDED,
    "kUnbounded": Status.UNBOUNDED,
    "kTimeLimit": Status.TIME_LIMIT,
    "kIterationLimit": Status.ITERATION_LIMIT,
    "kSolutionLimit": Status.ITERATION_LIMIT,
    "kSolveError": Status.NUMERICAL_TROUBLE,
    "kPostsolveError": Status.NUMERICAL_TROUBLE,
    "kUnknown": Status.NUMERICAL_TROUBLE,
}
# ends where even a feasible point is no answer: the model itself is wrong or HiGHS failed
NO_ANSWER = frozenset({Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED, Status.SOLVER_ERROR})
PRIMAL_FEASIBLE = 2  # HighsInfo.primal_solution_status of a feasible point
# HiGHS's default dual feasibility tolerance (1e-7) is absolute, and this model's costs (hazard per
# year x period length x benefit slope) can be ~1e-6: "optimal" then stopped up to ~1% short of
# the optimum on short, low-hazard scenarios (measured); 1e-9 closes that gap at ~20% more time.
DUAL_TOLERANCE = 1e-9


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


def classify(model_status: Any) -> Status:
    """The :class:`Status` of a ``highspy.HighsModelStatus``."""
    return HIGHS_STATUS.get(getattr(model_status, "name", ""), Status.SOLVER_ERROR)


def cold_algorithm(m: pyo.ConcreteModel) -> str:
    """HiGHS algorithm for a first solve of ``m``: HiGHS's choice (dual simplex for an LP) for
    small models, interior point (with crossover, so duals and the warm-start basis stay clean)
    from IPM_FROM_COLUMNS columns."""
    return "ipm" if m.nvariables() >= IPM_FROM_COLUMNS else "choose"


@dataclass(frozen=True)
class Solved:
    """What HiGHS returned for one model; the solution, if any, is loaded into the model."""

    status: Status
    objective: float | None  # of the loaded solution; None when HiGHS found no feasible point
    bound: float | None  # best proven bound on the objective, where HiGHS reports one
    message: str
    solver: Highs = field(repr=False, compare=False)

    @property
    def relative_gap(self) -> float | None:
        """|bound - objective| / max(1, |objective|), where both are known."""
        if self.objective is None or self.bound is None:
            return None
        return abs(self.bound - self.objective) / max(1.0, abs(self.objective))


class HighsRunner:
    """One persistent HiGHS interface (output off). A new model is handed over whole; a re-solve
    of the same model after changing its mutable Params only pushes the changed values (no
    re-scan of the model) and starts from HiGHS's last basis (warm start)."""

    def __init__(
        self,
        time_limit: float | None = None,
        threads: int = 1,
        algorithm: str = "choose",
        options: dict[str, Any] | None = None,
    ) -> None:
        self.solver = Highs()
        self.solver.config.load_solutions = False
        self.solver.config.raise_exception_on_nonoptimal_result = False
        self.solver.config.time_limit = time_limit
        self.solver.config.solver_options.update(
            {
                "threads": threads,
                "output_flag": False,
                "solver": algorithm,
                "dual_feasibility_tolerance": DUAL_TOLERANCE,
                **(options or {}),
            }
        )
        updates = self.solver.config.auto_updates
        for option in AUTO_UPDATES_OFF:
            setattr(updates, option, False)
        updates.update_parameters = True

    def solve(self, m: pyo.ConcreteModel) -> Solved:
        """Solve ``m`` and report how it ended; a feasible solution, optimal or not, is loaded.
        When presolve cannot tell infeasible from unbounded, solve again without presolve."""
        results = self.solver.solve(m)
        highs = self.solver._solver_model
        status = classify(highs.getModelStatus())
        if status is Status.INFEASIBLE_OR_UNBOUNDED:
            self.solver.config.solver_options["presolve"] = "off"
            results = self.solver.solve(m)
            self.solver.config.solver_options.pop("presolve")
            status = classify(highs.getModelStatus())
        info = highs.getInfo()
        objective = bound = None
        if info.primal_solution_status == PRIMAL_FEASIBLE:
            results.solution_loader.load_vars()
            objective = float(pyo.value(m.objective))
            if status is Status.OPTIMAL:
                bound = objective
            elif info.mip_node_count >= 0:
                bound = float(info.mip_dual_bound)
        message = f"HiGHS stopped with '{highs.getModelStatus().name}' on model '{m.name}'"
        return Solved(status, objective, bound, message, self.solver)

    def __call__(self, m: pyo.ConcreteModel) -> float:
        """Solve ``m`` and return its objective; raise SolverError unless HiGHS proves an
        optimum."""
        solved = self.solve(m)
        if not solved.status.is_optimal:
            raise SolverError(solved.status, solved.message)
        return float(solved.objective)


def run_highs(
    m: pyo.ConcreteModel,
    time_limit: float | None = None,
    threads: int = 1,
    options: dict[str, Any] | None = None,
) -> Solved:
    """Solve ``m`` once with a fresh HiGHS (extra HiGHS ``options`` by name); see
    :meth:`HighsRunner.solve`."""
    return HighsRunner(time_limit, threads, options=options).solve(m)


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
        options = solver.config
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
    ev = evaluate(inp, schedule, families_of(m))
    duals = shadow_prices(m, run.solver, rows)
    timings = {**timings, "report": time.perf_counter() - t0}
    return build_result(inp, schedule, ev, Status.OPTIMAL, objective, timings, duals=duals)


def solve_program(
    inp: Inputs, scenario: Scenario, lin: Linearization | None
) -> tuple[pyo.ConcreteModel, Solved]:
    """Build the program at ``lin`` (a fresh model) and solve it; raise with a diagnosis when it
    is infeasible (its trust rows are elastic: then the scenario is) and with the status when
    HiGHS has no answer."""
    m = build_model(inp, lin)
    solved = run_highs(m, scenario.solver.time_limit_seconds, scenario.solver.threads)
    if solved.status is Status.INFEASIBLE:
        raise InfeasibleError(diagnose(m, inp, solved.solver))
    if solved.objective is None or solved.status in NO_ANSWER:
        raise SolverError(solved.status, f"{solved.message}; no solution to report")
    return m, solved


def solve_at(program: SlpProgram) -> SolveAt:
    """The outer loop's step: move ``program`` to a point and solve it warm; return the model's
    risk reduction and schedule. Raises InfeasibleError with a diagnosis when the program (whose
    trust rows are elastic) is infeasible: then the scenario is, and SolverError unless HiGHS
    proves an optimum."""

    def step(lin: Linearization) -> tuple[float, Schedule]:
        solved = program.solve(lin)
        if solved.status is Status.INFEASIBLE:
            raise InfeasibleError(diagnose(program.model, program.inputs, solved.solver))
        if not solved.status.is_optimal:
            raise SolverError(solved.status, solved.message)
        return program.risk_reduction(solved), extract_schedule(program.model, program.inputs)

    return step


def solve(scenario: Scenario, allow_nonoptimal: bool = False) -> Result:
    """Solve ``scenario`` and return its :class:`Result`.

    With endogenous capability the program is re-linearized in an outer loop
    (:func:`allocopt.optimize.outer.successive_lp`) until the trajectory stops moving: one
    program (:class:`allocopt.optimize.slp_program.SlpProgram`) moved from point to point and
    re-solved warm; ``Result.timings["per_iteration"]`` is the loop's time per iteration. Raises
    :class:`InfeasibleError` (with the conflicting constraints as data) when no allocation is
    feasible, and :class:`SolverError` when HiGHS stops without a solution or the model is
    unbounded. Any other non-optimal end (time limit, numerical trouble, an outer loop that did
    not converge, an optimum the simulator finds violating a constraint: ``check_failed``)
    raises too, unless ``allow_nonoptimal``: then the best solution found is returned and
    ``Result.status`` says what it is.
    """
    t0 = time.perf_counter()
    inp = prepare(scenario)
    iterations: tuple[Iteration, ...] = ()
    bound = gap = duals = None
    if inp.capability.endogenous:
        run = HighsRunner(scenario.solver.time_limit_seconds, scenario.solver.threads)
        program = SlpProgram(inp, run, reference(inp))
        t1 = time.perf_counter()
        outcome = successive_lp(inp, solve_at(program))
        schedule, ev, objective = outcome.schedule, outcome.evaluation, outcome.objective_model
        iterations = outcome.iterations
        status = Status(outcome.status)
        message = f"the outer loop stopped after {len(iterations)} iterations ({status})"
    else:
        m, solved = solve_program(inp, scenario, None)
        t1 = time.perf_counter()
        if solved.status.is_optimal:
            duals = shadow_prices(m, solved.solver, DualRows.of(m))
        schedule = extract_schedule(m, inp)
        ev = evaluate(inp, schedule, families_of(m))
        objective, status, message = float(solved.objective), solved.status, solved.message
        bound, gap = solved.bound, solved.relative_gap
    t2 = time.perf_counter()
    if status is Status.OPTIMAL and ev.violations:
        status = Status.CHECK_FAILED
        message = f"HiGHS reported an optimum, but the exact check finds: {ev.violations[0]}"
    if not status.is_optimal and not allow_nonoptimal:
        raise SolverError(status, f"{message} (allow_nonoptimal=True returns the solution found)")
    timings = {"build": t1 - t0, "solve": t2 - t1, "report": time.perf_counter() - t2}
    if iterations:
        timings["per_iteration"] = (t2 - t1) / len(iterations)  # the outer loop's, wall time
    return build_result(
        inp,
        schedule,
        ev,
        status,
        objective,
        timings,
        iterations,
        objective_bound=bound,
        relative_gap=gap,
        duals=duals,
    )
