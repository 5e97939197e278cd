"""The tie-break among near-equal optima: the second LP holds the objective and returns the
smoothest schedule (allocopt/optimize/smooth.py)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pyomo.environ as pyo
import pytest

from allocopt import solve
from allocopt.model import evaluate
from allocopt.model.linearization import around, reference
from allocopt.model.sets import CAPABILITIES
from allocopt.numeric.inputs import prepare
from allocopt.numeric.simulate import Schedule
from allocopt.optimize.highs import HighsRunner
from allocopt.optimize.slp_program import SlpProgram
from allocopt.optimize.smooth import second_lp, variation
from allocopt.scenario.schema import Scenario

BUDGET = np.array([[1.0, 1.0], [2.0, 1.0], [4.0, 1.0]])  # [T, R] compute grows, staff flat
TOTAL = 7.0  # effort over the three periods, however split


def flat_program() -> tuple[pyo.ConcreteModel, SimpleNamespace]:
    """Maximize the total effort of one compute-only activity under a cap on that total: every
    split of TOTAL over the periods is optimal. The smoothest split in budget shares keeps
    effort / budget constant: effort = TOTAL * budget / sum(budget) = (1, 2, 4)."""
    inp = SimpleNamespace(budget=BUDGET, ids=["a"], intensity=np.array([[1.0, 0.0]]))
    m = pyo.ConcreteModel()
    m.PERIODS = pyo.Set(initialize=["p0", "p1", "p2"], ordered=True)
    m.LATER_PERIODS = pyo.Set(initialize=["p1", "p2"], ordered=True)
    m.ACTIVITIES = pyo.Set(initialize=[CAPABILITIES, "a"], ordered=True)
    m.RESOURCES = pyo.Set(initialize=["compute", "staff"], ordered=True)
    m.effort = pyo.Var(m.PERIODS, ["a"], bounds=(0.0, TOTAL))
    m.capabilities = pyo.Var(m.PERIODS, m.RESOURCES, bounds=(0.0, 0.0))
    m.use = pyo.Expression(
        m.PERIODS,
        m.ACTIVITIES,
        m.RESOURCES,
        rule=lambda m, t, a, r: (
            m.capabilities[t, r] if a == CAPABILITIES else float(r == "compute") * m.effort[t, a]
        ),
    )
    m.cap = pyo.Constraint(expr=sum(m.effort.values()) <= TOTAL)
    m.objective = pyo.Objective(expr=sum(m.effort.values()), sense=pyo.maximize)
    return m, inp


def efforts(m: pyo.ConcreteModel) -> np.ndarray:
    return np.array([m.effort[t, "a"].value for t in m.PERIODS])


def schedule_of(m: pyo.ConcreteModel) -> Schedule:
    return Schedule(effort=efforts(m)[:, None], capabilities=np.zeros((3, 2)))


def test_the_second_lp_finds_the_smooth_optimum_known_by_hand() -> None:
    m, inp = flat_program()
    run = HighsRunner()
    assert run.solve(m).objective == pytest.approx(TOTAL)
    solved = second_lp(m, inp, run, 1e-6)
    assert solved.status.is_optimal
    assert efforts(m) == pytest.approx([1.0, 2.0, 4.0], rel=1e-5)
    assert solved.objective >= TOTAL * (1 - 1e-6) - 1e-12
    assert variation(inp, schedule_of(m)) == pytest.approx(0.0, abs=1e-6)


def test_the_first_program_is_restored_after_the_second_lp() -> None:
    m, inp = flat_program()
    run = HighsRunner()
    run.solve(m)
    components = [c.name for c in m.component_objects()]
    second_lp(m, inp, run, 1e-6)
    assert [c.name for c in m.component_objects()] == components  # nothing added to the model
    assert m.objective.active
    assert run.solve(m).objective == pytest.approx(TOTAL)  # the maximization again, warm
    lp = run.lp()
    assert (lp.num_col, lp.num_row) == (3, 1)  # no smoothing column or row left in HiGHS


def test_variation_sums_the_changes_of_budget_shares() -> None:
    inp = SimpleNamespace(budget=BUDGET, ids=["a"], intensity=np.array([[1.0, 0.0]]))
    schedule = Schedule(effort=np.array([[7.0], [0.0], [0.0]]), capabilities=np.zeros((3, 2)))
    assert variation(inp, schedule) == pytest.approx(7.0)  # share 7 -> 0 -> 0


@pytest.fixture(scope="module")
def both(core: Scenario):
    return solve(core.with_updates({"solver.smooth_tolerance": None})), solve(core)


def test_the_core_program_reports_its_smoothest_optimum(both) -> None:
    rough, smooth = both
    assert rough.summary["tie_break"] == "off"
    assert smooth.summary["tie_break"] == "smoothest"
    optimum = rough.summary["risk_reduction_model"]
    assert smooth.summary["risk_reduction_model"] >= optimum * (1 - 1e-6) - 1e-12
    assert smooth.summary["variation_before"] == pytest.approx(rough.summary["variation_after"])
    assert smooth.summary["variation_after"] < smooth.summary["variation_before"]
    assert "tie-break (smoothest)" in smooth.text_summary()


def test_the_endogenous_program_moves_as_a_fresh_one_after_the_second_lp(baseline_result):
    """The tie-break swaps the objective of the outer loop's program and back: moved to another
    point afterwards, it solves as a program built there (its tracked coefficients still push)."""
    inp = prepare(baseline_result.scenario)
    ev = evaluate(inp, baseline_result.schedule)
    near, far = (around(baseline_result.schedule, ev, trust) for trust in (0.01, 0.25))
    program = SlpProgram(inp, HighsRunner(), reference(inp))
    program.solve(near)
    assert second_lp(program.model, inp, program.run, 1e-6).status.is_optimal
    fresh = SlpProgram(inp, HighsRunner(), reference(inp))
    for lin in (far, near):
        assert program.solve(lin).objective == pytest.approx(fresh.solve(lin).objective, rel=1e-9)
