"""Solve a scenario: prepare → build → HiGHS (→ outer loop) → :func:`allocopt.optimize.finish.to_result`."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from allocopt.errors import InfeasibleError, ScenarioError, SolverError
from allocopt.model import build_model
from allocopt.model.family import families_of
from allocopt.model.linearization import Linearization, reference
from allocopt.numeric.inputs import Inputs, prepare
from allocopt.numeric.simulate import Schedule
from allocopt.optimize.diagnose import diagnose
from allocopt.optimize.duals import FIXED_MILP, DualRows
from allocopt.optimize.finish import add_timings, to_result
from allocopt.optimize.highs.runner import HighsRunner, Solved, run_highs
from allocopt.optimize.local_duals import SAMPLE, RowShifts, local_duals
from allocopt.optimize.outer import Iteration, SolveAt, successive_lp
from allocopt.optimize.slp_program import SlpProgram
from allocopt.optimize.smooth import smoothest, smoothest_converged, unsmoothed
from allocopt.optimize.starts import FULL_SPEED, best_start, starting_schedules, starts_table
from allocopt.results.result import Result
from allocopt.results.status import Status
from allocopt.scenario.load import as_scenario
from allocopt.scenario.schema import Scenario
from allocopt.scenario.tables import RESOURCES

LOGGER = logging.getLogger(__name__)
# ends where even a feasible point is no answer: the model itself is wrong or HiGHS failed
NO_ANSWER = frozenset({Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED, Status.SOLVER_ERROR})


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
        return rows.table(run)
    domains = [(v, v.domain, v.fixed) for v in integers]
    for v in integers:
        v.fix(round(v.value))
        v.domain = pyo.Reals
    try:
        fixed = HighsRunner(run.time_limit, run.options["threads"])
        fixed(m)
        return rows.table(fixed, FIXED_MILP)
    finally:
        for v, domain, was_fixed in domains:
            v.domain = domain
            if not was_fixed:
                v.unfix()


def report(
    m: pyo.ConcreteModel,
    inp: Inputs,
    scenario: Scenario,
    solved: Solved,
    rows: DualRows,
    timings: dict[str, float],
    allow_nonoptimal: bool = False,
) -> Result:
    """The :class:`Result` of the core program ``m`` of ``scenario`` just ``solved`` (a
    feasible point loaded): its schedule, shadow prices of ``rows`` when HiGHS proved an
    optimum, checked and tabulated by :func:`to_result` (which raises as it says). A proven
    optimum is replaced by the smoothest schedule within ``solver.smooth_tolerance`` of it
    (:func:`allocopt.optimize.smooth.smoothest`; the duals are the first program's)."""
    t0 = time.perf_counter()
    duals = shadow_prices(m, solved.runner, rows) if solved.status.is_optimal else None
    schedule = extract_schedule(m, inp)
    timings["report"] = time.perf_counter() - t0
    tolerance = scenario.solver.smooth_tolerance
    if tolerance is None or not solved.status.is_optimal:
        tie = unsmoothed(inp, schedule, "off" if tolerance is None else "unsmoothed: no optimum")
    else:
        t1 = time.perf_counter()
        tie = smoothest(m, inp, solved.runner, tolerance, schedule, extract_schedule)
        timings["smooth"] = time.perf_counter() - t1
    kept = tie.objective(float(solved.objective), lambda smooth: float(smooth.objective))
    gap = None if solved.bound is None else abs(solved.bound - kept)
    return to_result(
        inp,
        scenario,
        tie.schedule,
        solved.status,
        kept,
        timings,
        message=solved.message,
        allow_nonoptimal=allow_nonoptimal,
        objective_bound=solved.bound,
        relative_gap=None if gap is None else gap / max(1.0, abs(kept)),
        duals=duals,
        families=families_of(m),
        tie_break=tie.summary(),
    )


def solve_program(
    inp: Inputs,
    scenario: Scenario,
    lin: Linearization | None,
    timings: dict[str, float] | None = None,
) -> tuple[pyo.ConcreteModel, Solved]:
    """Build the core program (at ``lin``, default the reference point) and solve it; raise
    with a diagnosis when it is infeasible and with the status when HiGHS has no answer. The
    seconds of each phase (``build``, ``handover``, ``highs``, ``highs_clock``) are added to
    ``timings``."""
    timings = {} if timings is None else timings
    t0 = time.perf_counter()
    m = build_model(inp, lin)
    add_timings(timings, {"build": time.perf_counter() - t0})
    solved = run_highs(m, scenario.solver.time_limit_seconds, scenario.solver.threads)
    add_timings(timings, solved.timings)
    if solved.status is Status.INFEASIBLE:
        raise InfeasibleError(diagnose(m, inp, solved.runner))
    if solved.objective is None or solved.status in NO_ANSWER:
        raise SolverError(solved.status, f"{solved.message}; no solution to report")
    return m, solved


def solve_at(program: SlpProgram, timings: dict[str, float], diagnosed: bool = True) -> SolveAt:
    """The outer loop's step: move ``program`` to a point and solve it warm; return the model's
    risk reduction and schedule, adding each phase's seconds to ``timings``. Raises
    InfeasibleError with a diagnosis when the program (whose trust rows are elastic) is
    infeasible: then the scenario is, and SolverError unless HiGHS proves an optimum. With
    ``diagnosed`` false (a loop from a given start schedule) an infeasible program raises
    SolverError without a diagnosis: the program linearized around a start far from the
    scenario's schedules (the last converged one of other inputs) may be infeasible where the
    scenario is not, and its IIS can take HiGHS minutes."""

    def step(lin: Linearization) -> tuple[float, Schedule]:
        t0 = time.perf_counter()
        solved = program.solve(lin)
        spent = time.perf_counter() - t0 - solved.timings["highs"] - solved.timings["handover"]
        add_timings(timings, {"build": spent})  # moving the point in place
        add_timings(timings, solved.timings)
        if solved.status is Status.INFEASIBLE:
            if not diagnosed:
                raise SolverError(
                    solved.status, "the program linearized at the start is infeasible"
                )
            raise InfeasibleError(diagnose(program.model, program.inputs, solved.runner))
        if not solved.status.is_optimal:
            raise SolverError(solved.status, solved.message)
        t1 = time.perf_counter()
        schedule = extract_schedule(program.model, program.inputs)
        program.held = schedule
        add_timings(timings, {"report": time.perf_counter() - t1})
        return program.risk_reduction(solved), schedule

    return step


def one_plan(scenario: Scenario) -> None:
    """Refuse ``scenario`` when it has a ``tree:`` block, which a deterministic solve would
    not read (it would answer for the tables' single future, never the tree's): raises
    ScenarioError naming the ways to solve it."""
    if scenario.tree is not None:
        raise ScenarioError(
            f"scenario '{scenario.name}': tree: a deterministic solve, compare, sweep or report "
            "does not read this block; solve the tree with allocopt solve FILE --out DIR (its "
            "tables and tree_plan.png; allocopt.analyses.tree.solve_tree), or drop it with --set "
            "tree=null"
        )


def solve(
    scenario: Scenario | str | os.PathLike[str],
    allow_nonoptimal: bool = False,
    starts: int = 1,
    on_iteration: Callable[[str, Iteration], object] | None = None,
    local_duals: bool = True,
) -> Result:
    """Solve ``scenario`` and return its :class:`Result`.

    ``scenario`` is a :class:`Scenario` or the path of a scenario file (``str`` or
    ``os.PathLike``), loaded as :func:`allocopt.load_scenario` loads it with its defaults;
    any other type raises TypeError.

    With endogenous capability the program is re-linearized in an outer loop
    (:func:`allocopt.optimize.outer.successive_lp`) until the trajectory stops moving: one
    program (:class:`allocopt.optimize.slp_program.SlpProgram`) moved from point to point and
    re-solved warm; ``Result.timings["per_iteration"]`` is the loop's time per iteration. A
    converged loop is ``locally_optimal``: the program is nonconvex. ``starts`` runs the loop
    from that many starting schedules (:mod:`allocopt.optimize.starts`) and returns the best;
    ``Result.starts`` has one row per start and the summary its spread. ``on_iteration(start,
    iteration)`` is called after each outer iteration (the CLI's progress line). The core
    program (``capability: {}``) is an LP whose optimum is global: ``starts`` is ignored there.
    With endogenous capability ``Result.duals`` holds the confirmed local shadow prices
    (:mod:`allocopt.optimize.local_duals`); ``local_duals=False`` skips their check (one to a few
    warm LP re-solves per checked row) and leaves ``Result.duals`` empty.

    Raises :class:`InfeasibleError` (with the conflicting constraints as data) when no
    allocation is feasible, and :class:`SolverError` when HiGHS stops without a solution or the
    model is unbounded. Any other end that is not an optimum, proven or local (time limit,
    numerical trouble, an outer loop that did not converge, an optimum the simulator finds
    violating a constraint: ``check_failed``) raises too, unless ``allow_nonoptimal``: then the
    best solution found is returned and ``Result.status`` says what it is. ``Result.timings``
    has the seconds of every phase, summed over the outer loop's iterations
    (:data:`allocopt.optimize.finish.PHASES`). A scenario with a ``tree:`` block raises
    :class:`ScenarioError` (:func:`one_plan`).
    """
    scenario = as_scenario(scenario, "solve")
    one_plan(scenario)
    t0 = time.perf_counter()
    inp = prepare(scenario)
    timings = {"prepare": time.perf_counter() - t0}
    if not inp.capability.endogenous:
        if starts > 1:
            LOGGER.warning("the core program is an LP with a global optimum: starts ignored")
        m, solved = solve_program(inp, scenario, None, timings)
        return report(m, inp, scenario, solved, DualRows.of(m), timings, allow_nonoptimal)
    t1 = time.perf_counter()
    named = starting_schedules(inp, starts)
    run = HighsRunner(scenario.solver.time_limit_seconds, scenario.solver.threads)
    program = SlpProgram(inp, run, reference(inp))
    shifts = RowShifts(program) if local_duals else None
    add_timings(timings, {"build": time.perf_counter() - t1})
    return solve_outer(program, scenario, timings, allow_nonoptimal, named, on_iteration, shifts)


def solve_outer(
    program: SlpProgram,
    scenario: Scenario,
    timings: dict[str, float],
    allow_nonoptimal: bool = False,
    named: Sequence[tuple[str, Schedule | None]] | None = None,
    on_iteration: Callable[[str, Iteration], object] | None = None,
    shifts: RowShifts | None = None,
) -> Result:
    """Run the outer loop on ``program`` (built for ``scenario``) from each named start schedule
    (default: only :data:`FULL_SPEED`; ``None`` and the start named :data:`FULL_SPEED` are full
    speed with no safety work, whose
    first solution is accepted whatever its merit; :func:`allocopt.optimize.outer.successive_lp`)
    and return the best as a :class:`Result` through :func:`to_result`, with its local shadow
    prices when ``shifts`` were attached to the program before its first solve, and a
    converged schedule replaced by the smoothest within ``solver.smooth_tolerance``
    (:func:`allocopt.optimize.smooth.smoothest_converged`); ``timings`` holds the phases so far.
    Raises as :func:`solve` says."""
    inp = program.inputs
    named = named or ((FULL_SPEED, None),)
    starts = len(named)
    t2 = time.perf_counter()
    outcomes = []
    for name, schedule in named:
        told = None if on_iteration is None else partial(on_iteration, name)
        first = None if name == FULL_SPEED else schedule
        step = solve_at(program, timings, diagnosed=first is None)
        outcomes.append(successive_lp(inp, step, first, told))
        last = outcomes[-1]
        LOGGER.log(
            logging.INFO if starts > 1 else logging.DEBUG,
            "start %s: %s after %d outer iterations, exact risk reduction %.6f",
            name,
            last.status,
            len(last.iterations),
            last.evaluation.risk_reduction(inp),
        )
    best = best_start(outcomes, inp)
    outcome = outcomes[best]
    status = Status(outcome.status)
    count = sum(len(o.iterations) for o in outcomes)
    per_iteration = (time.perf_counter() - t2) / max(1, count)
    which = f" from start {named[best][0]}, the best of {starts}" if starts > 1 else ""
    duals = None
    if status.is_local_optimum and shifts is not None:
        local = local_duals(inp, program, shifts, outcome, solve_at(program, {}), SAMPLE)
        duals, timings["duals"] = local.table, local.seconds
    tolerance = scenario.solver.smooth_tolerance
    if tolerance is None or not status.is_local_optimum:
        tie = unsmoothed(inp, outcome.schedule, "off" if tolerance is None else "unsmoothed")
        objective = outcome.objective_model
    else:
        t3 = time.perf_counter()
        tie, objective = smoothest_converged(program, outcome, tolerance, extract_schedule)
        timings["smooth"] = time.perf_counter() - t3
    return to_result(
        inp,
        scenario,
        tie.schedule,
        status,
        objective,
        timings,
        message=f"the outer loop stopped after {len(outcome.iterations)} iterations{which} "
        f"({status})",
        allow_nonoptimal=allow_nonoptimal,
        iterations=outcome.iterations,
        per_iteration=per_iteration,
        duals=duals,
        starts=starts_table([n for n, _ in named], outcomes, inp, best),
        tie_break=tie.summary(),
    )
