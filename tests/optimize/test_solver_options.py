"""Options of a persistent HiGHS reach it exactly, and a time limit applies to each run.

Pyomo's HiGHS interface only sets the options it is given, and HiGHS compares ``time_limit`` with
a run clock that accumulates over the runs of one instance: an option removed kept its old value,
and a limit became a budget for all warm re-solves together (issue 17, items 1 and 2).
"""

from __future__ import annotations

import math

import pyomo.environ as pyo
import pytest

import allocopt
from allocopt import Status
from allocopt.analyses.sweep import Parameter, sweep
from allocopt.optimize.highs.options import NOT_HIGHS, SETTINGS
from allocopt.optimize.highs.runner import HighsRunner
from allocopt.scenario.config import Solver

# two values of each field of the solver: block, and the value HiGHS holds once it is unset
VALUES = {"time_limit_seconds": (30.0, 7.5, None), "threads": (2, 3, 1)}
UNSET = {"time_limit_seconds": math.inf, "threads": 1}


def toy() -> pyo.ConcreteModel:
    """max x + 2y s.t. x + y <= c (c a mutable Param)."""
    m = pyo.ConcreteModel(name="toy")
    m.c = pyo.Param(initialize=4.0, mutable=True)
    m.x = pyo.Var(bounds=(0, 3))
    m.y = pyo.Var(bounds=(0, 2))
    m.cap = pyo.Constraint(expr=m.x + m.y <= m.c)
    m.objective = pyo.Objective(expr=m.x + 2 * m.y, sense=pyo.maximize)
    return m


def test_every_solver_field_is_tested_and_mapped() -> None:
    assert set(VALUES) == set(Solver.model_fields) - NOT_HIGHS == set(SETTINGS)


@pytest.mark.parametrize("name", sorted(VALUES))
def test_each_setting_set_changed_and_unset_is_what_highs_holds(name: str) -> None:
    m, run = toy(), HighsRunner()
    option = SETTINGS[name]
    for value in VALUES[name]:
        run.apply(Solver(**{name: value}))
        m.c = m.c.value + 1  # a warm re-solve of the same HiGHS instance
        assert run.solve(m).status is Status.OPTIMAL
        expected = UNSET[name] if value is None else value
        assert run.held(option) == pytest.approx(expected)
    run.apply(Solver())
    run.solve(m)
    assert run.held(option) == pytest.approx(UNSET[name])


def test_an_option_removed_falls_back_to_the_highs_default() -> None:
    m, run = toy(), HighsRunner(options={"simplex_iteration_limit": 5, "presolve": "off"})
    run.solve(m)
    assert (run.held("simplex_iteration_limit"), run.held("presolve")) == (5, "off")
    run.remove_options(["simplex_iteration_limit", "presolve"])
    m.c = 3.0
    assert run.solve(m).objective == pytest.approx(5.0)
    fresh = HighsRunner()
    fresh.solve(toy())
    for option in ("simplex_iteration_limit", "presolve"):
        assert run.held(option) == fresh.held(option)


def test_a_time_limit_is_set_back_to_none(core) -> None:
    """The issue's example: after a 1e-4 s limit is removed the re-solve is optimal, as a fresh
    solve of the same scenario is."""
    m = allocopt.Model(core)
    m.solve()
    m.update({"solver.time_limit_seconds": 1e-4})
    solved = m.run.solve(m.model)  # what Model.solve runs; it raises when no point is found
    # HiGHS checks its clock only while it iterates: an unchanged model may still finish
    assert solved.status in (Status.TIME_LIMIT, Status.OPTIMAL)
    assert m.run.held("time_limit") == pytest.approx(1e-4)
    changes = {"solver.time_limit_seconds": None, "velocity.hit_cap_post_acceleration": 0.2}
    m.update(changes)
    result = m.solve()
    assert m.run.held("time_limit") == math.inf
    fresh = allocopt.solve(core.with_updates(changes))
    assert result.objective_model == pytest.approx(fresh.objective_model, rel=1e-7)


def test_a_time_limit_applies_to_each_warm_re_solve(core) -> None:
    """Re-solves whose HiGHS runs add up to twice the limit, each within it: none stopped."""
    limit = 1.0
    m = allocopt.Model(core)
    m.solve()  # cold, unlimited: its run clock already counts
    m.update({"velocity.hit_cap_post_acceleration": 0.3})
    m.solve()  # the first re-solve after an interior-point start is a long one
    m.update({"solver.time_limit_seconds": limit})
    spent, k = 0.0, 0
    while spent < 2 * limit and k < 200:  # small moves: each re-solve takes ~0.1-0.3 s
        m.update({"velocity.hit_cap_post_acceleration": 0.3 - 0.002 * (k % 50)})
        result = m.solve(allow_nonoptimal=True)  # raises on a time limit without a point
        assert result.status != Status.TIME_LIMIT  # (check_failed: the simulator's business)
        spent += result.timings["highs_clock"]
        k += 1
    assert spent >= 2 * limit


def test_a_sweep_with_a_time_limit_gives_the_same_table_twice(core) -> None:
    """One chunk of warm re-solves whose runs add up to more than the limit (each run takes
    up to ~2 s on a loaded machine)."""
    limited = core.with_updates({"solver.time_limit_seconds": 4.0})
    params = [Parameter.parse("velocity.hit_cap_post_acceleration=0.1:0.3:20")]
    first, second = (sweep(limited, params, chunk_size=21) for _ in range(2))
    assert not (first["status"] == Status.TIME_LIMIT).any()
    assert first.equals(second)
