"""Scenario trees over endogenous capability: the outer loop over the extensive form, and the
tree's values (WS, EEV) by the same loops.

The expected scenario's own loop runs first, from full speed (on a branch program of its
structure, else a program of its own; the likeliest branch stands in for it when a branch sets
a field that is not a number). The stochastic plan (RP) is
:func:`allocopt.optimize.outer.successive_lp` run on
:class:`~allocopt.optimize.extensive_slp.TreeProgram` with
:class:`~allocopt.optimize.extensive_slp.TreeExact` from that plan in every branch (a
non-anticipative start near every branch's optimum: measured on ``magma_tree``, 5 outer
iterations of the extensive form instead of 28 from full speed, docs/model.md). Wait and see
(WS) runs each branch's own loop on its program, restarted from the branch's stochastic plan;
EEV holds the expected scenario's decisions before the first reveal in every branch and runs the
tree's loop again from the stochastic plan. Every loop ends ``locally_optimal`` when it
converges: these values are between local optima (docs/model.md, "Scenario trees").
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np

from allocopt.errors import SolverError
from allocopt.model import structure
from allocopt.model.linearization import reference
from allocopt.numeric.inputs import Inputs, prepare
from allocopt.numeric.simulate import Schedule
from allocopt.optimize.extensive import Extensive
from allocopt.optimize.extensive_rows import TreeSettings, risk_measure
from allocopt.optimize.extensive_slp import Plan, TreeExact, TreeProgram
from allocopt.optimize.highs.runner import HighsRunner
from allocopt.optimize.outer import Outcome, successive_lp
from allocopt.optimize.pipeline import solve_at
from allocopt.optimize.slp_program import SlpProgram
from allocopt.scenario.config import Solver, Tree
from allocopt.scenario.schema import Scenario

Rows = dict[str, tuple[float, float]]  # value name -> (model, exact)


def solve_endogenous(
    inputs: Sequence[Inputs],
    probability: np.ndarray,
    node: Sequence[Sequence[str]],
    tree: Tree,
    solver: Solver,
    names: Sequence[str],
    mean: Scenario | None,
    reveal: int,
    values: bool = True,
) -> tuple[Extensive, Rows, dict[str, float]]:
    """The stochastic plan of the endogenous branches ``inputs`` (:class:`Extensive`: status
    ``locally_optimal`` or ``not_converged``), started from the expected scenario ``mean``'s
    own plan (the likeliest branch's when ``mean`` is None); with ``values`` (which needs
    ``mean``) the values' rows (module docstring; EEV holds decisions before period
    ``reveal``); and the seconds of each step. Raises SolverError / InfeasibleError as the
    loop's solves do."""
    t1 = time.perf_counter()
    settings = TreeSettings.of(probability, node, tree, solver)
    program = TreeProgram(inputs, settings)
    exact = TreeExact(inputs, settings, names)
    t2 = time.perf_counter()
    centre = prepare(mean) if mean is not None else inputs[int(np.argmax(probability))]
    ev = _mean_loop(program, centre, solver)
    start = Plan(tuple(ev.schedule for _ in inputs), np.full(len(inputs), math.nan))
    t3 = time.perf_counter()
    rp = successive_lp(inputs[0], program.solve, start=start, exact=exact)
    timings = {
        "branches_alone": t2 - t1,  # the branch programs built and handed to HiGHS
        "expected_scenario": t3 - t2,  # its own loop: the start
        "extensive_form": time.perf_counter() - t3,
        "stochastic": time.perf_counter() - t1,
    }
    ex = _extensive(rp, program, exact, timings)
    rows: Rows = {}
    if values:
        t3 = time.perf_counter()
        measure = lambda v: risk_measure(v, probability, tree.objective, tree.cvar_alpha)  # noqa: E731
        alone = [
            _own_loop(program.programs[g], inp, schedule)
            for g, inp, schedule in zip(program.group, inputs, rp.schedule.schedules, strict=True)
        ]
        ws_model = np.array([o.objective_model for o in alone])
        ws_exact = np.array(
            [o.evaluation.risk_reduction(i) for o, i in zip(alone, inputs, strict=True)]
        )
        rows["wait_and_see"] = (measure(ws_model), measure(ws_exact))
        rows["deterministic_expected_scenario"] = (
            ev.objective_model,
            ev.evaluation.risk_reduction(centre),  # in its own world
        )
        program.fix(ev.schedule, reveal)
        try:
            eev = successive_lp(
                inputs[0], program.solve, start=rp.schedule, accept_first=True, exact=exact
            )
            rows["expected_value_plan"] = (eev.objective_model, exact.value(eev.evaluation))
        except SolverError:
            rows["expected_value_plan"] = (-math.inf, -math.inf)  # infeasible in some branch
        finally:
            program.fixed = None
        timings["values"] = time.perf_counter() - t3
    return ex, rows, timings


def _extensive(
    outcome: Outcome, program: TreeProgram, exact: TreeExact, timings: dict[str, float]
) -> Extensive:
    """The loop's answer as an :class:`Extensive` (as the core program's form reports)."""
    plan = outcome.schedule
    size = {
        "branches": len(program.inputs),
        "branch_variables": sum(int(c.size) for c in program.column),
        **program.size,
        "simplex_iterations": program.simplex_iterations,
        "highs_runs": program.highs_runs,  # the extensive form's runs solved by HiGHS
        "interior_point_runs": program.interior_runs,  # by PIQP (allocopt.optimize.interior)
        # every PIQP iteration, of the runs it solved and of those it handed to HiGHS
        "interior_point_iterations": program.interior_iterations,
        "outer_iterations": len(outcome.iterations),
        "tangent_rows_left_out": 0,
        "row_generation_rounds": 0,
        "tangent_rows_added": 0,
    }
    seconds = {**program.seconds, "outer_loop": timings["extensive_form"]}
    return Extensive(
        outcome.status, outcome.objective_model, plan.values, list(plan.schedules), size, seconds
    )


def _own_loop(program: SlpProgram, inp: Inputs, start: Schedule | None) -> Outcome:
    """The outer loop of ``inp`` alone on ``program`` (of its structure), from ``start``
    (None: full speed)."""
    program.stand_for(inp)
    return successive_lp(inp, solve_at(program, {}), start=start)


def _mean_loop(program: TreeProgram, inp: Inputs, solver: Solver) -> Outcome:
    """The expected scenario ``inp``'s own loop from full speed: on a branch program of its
    structure, else on a new program."""
    for prog in program.programs:
        if structure(prog.model, prog.inputs) == structure(prog.model, inp):
            return _own_loop(prog, inp, None)
    fresh = SlpProgram(inp, HighsRunner(solver.time_limit_seconds, solver.threads), reference(inp))
    return successive_lp(inp, solve_at(fresh, {}))
