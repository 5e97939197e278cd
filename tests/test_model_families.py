"""One tiny instance per constraint family, each with its optimum worked out by hand.

Every family in ``allocopt.model.FAMILIES`` must appear in ``COVERED`` (see the last test), so a
new family cannot land without its own hand-solved instance.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from allocopt import solve
from allocopt.model import FAMILIES
from allocopt.model.allocation import add_allocation
from allocopt.model.budget import add_budget
from allocopt.model.objective import add_objective
from allocopt.model.risk import add_risk
from allocopt.model.sets import add_sets
from allocopt.model.staff import add_staff
from allocopt.model.stocks import add_stocks
from allocopt.model.variables import add_variables
from allocopt.model.velocity import add_velocity
from allocopt.numeric.curves import benefit, residual

COVERED: set = set()


def covers(*families):
    """Record that the decorated test hand-checks ``families``."""

    def mark(test):
        COVERED.update(families)
        return test

    return mark


def effort(result, activity: str) -> np.ndarray:
    a = result.allocation
    rows = a[(a.activity == activity) & (a.resource == "effort")]
    return rows["value"].to_numpy()


def capabilities(result, resource: str) -> np.ndarray:
    a = result.allocation
    return a[(a.activity == "capabilities") & (a.resource == resource)]["value"].to_numpy()


@covers(add_sets, add_variables, add_allocation, add_velocity, add_budget, add_objective)
def test_velocity_cap_limits_safety_staff(tiny):
    # Hand solution: one period, staff budget 100, velocity measured on staff only, hit cap 10%.
    # Benefit rises with effort, so safety takes exactly the 10 FTE the cap allows (1 FTE per EU)
    # and capabilities keep 90. Risk cut = H * (1 - exp(-1 * (1 - exp(-10/10)))).
    s = tiny([{}], budgets=[(5.0, 100.0)], hazard=[0.2])
    r = solve(s)
    assert effort(r, "item0") == pytest.approx([10.0], abs=1e-6)
    assert capabilities(r, "staff") == pytest.approx([90.0], abs=1e-6)
    exact = 0.2 * (1 - math.exp(-benefit(1.0)))
    assert r.summary["risk_reduction_exact"] == pytest.approx(exact, rel=1e-9)
    assert r.objective_model == pytest.approx(exact, rel=5e-3)  # 40 tangent cuts
    assert r.objective_model >= exact - 1e-12  # outer approximation: never below the exact value


@covers(add_budget)
def test_budget_and_intensity_bind_on_compute(tiny):
    # Hand solution: velocity on compute only with cap 100%, compute budget 6 kH100e, the
    # intervention needs 2 kH100e per EU and no staff: effort = 6 / 2 = 3 EU, capabilities 0.
    s = tiny(
        [{"compute_per_effort_kh100e": 2.0, "staff_per_effort_fte": 0.0}],
        budgets=[(6.0, 100.0)],
        hazard=[0.2],
        config={
            "velocity": {"weights": {"compute": 1.0, "staff": 0.0}, "hit_cap_pre_acceleration": 1.0}
        },
    )
    r = solve(s)
    assert effort(r, "item0") == pytest.approx([3.0], abs=1e-6)
    assert capabilities(r, "compute") == pytest.approx([0.0], abs=1e-6)


@covers(add_allocation)
def test_safety_floor_forces_spending_without_value(tiny):
    # Hand solution: the intervention acts on no channel with hazard (only own_direct has hazard,
    # and its effect there is 0), so it is worth nothing; the 20% compute floor still forces
    # 0.2 * 50 = 10 kH100e into it: effort = 10 EU at 1 kH100e per EU.
    s = tiny(
        [
            {
                "compute_per_effort_kh100e": 1.0,
                "staff_per_effort_fte": 0.0,
                "effect_own_direct": 0.0,
                "effect_others": 1.0,
            }
        ],
        budgets=[(50.0, 100.0)],
        hazard=[0.2],
        config={
            "safety_floor_share": {"compute": 0.2},
            "velocity": {
                "weights": {"compute": 0.5, "staff": 0.5},
                "hit_cap_pre_acceleration": 0.5,
            },
        },
    )
    r = solve(s)
    assert effort(r, "item0") == pytest.approx([10.0], abs=1e-6)


@covers(add_staff)
def test_reassignment_limits_the_ramp_after_the_switch(tiny):
    # Hand solution: year 1 is before acceleration with hit cap 0, so all 100 FTE work on
    # capabilities; year 2 (speed-up 4x >= 3x) allows any hit, but with a flat budget no one is
    # hired and only 20% of staff (20 FTE) may change activity: effort in year 2 = 20 EU.
    s = tiny(
        [{}],
        budgets=[(5.0, 100.0), (5.0, 100.0)],
        hazard=[0.0, 0.5],
        speedup=[1.0, 4.0],
        config={
            "velocity": {"hit_cap_pre_acceleration": 0.0},
            "staff": {"reassignment_share_per_year": 0.2},
        },
    )
    r = solve(s)
    assert effort(r, "item0") == pytest.approx([0.0, 20.0], abs=1e-6)


@covers(add_staff)
def test_staff_growth_caps_employed_staff(tiny):
    # Hand solution: the budget triples (100 -> 300 FTE) but employed staff may grow 50% a year:
    # year-2 staff <= 150. Year 1 is all capabilities (cap 0); in year 2 any hit is allowed and
    # hires (200) may join the intervention, so effort = 150 and capabilities drop to 0.
    s = tiny(
        [{}],
        budgets=[(5.0, 100.0), (5.0, 300.0)],
        hazard=[0.0, 0.5],
        speedup=[1.0, 4.0],
        config={
            "velocity": {"hit_cap_pre_acceleration": 0.0},
            "staff": {"growth_max_per_year": 0.5, "reassignment_share_per_year": 0.0},
        },
    )
    r = solve(s)
    assert effort(r, "item0")[1] == pytest.approx(150.0, abs=1e-6)
    assert capabilities(r, "staff") == pytest.approx([100.0, 0.0], abs=1e-6)


@covers(add_stocks)
def test_stock_has_lead_time_and_depreciation(tiny):
    # Hand solution: lead time 1 year, depreciation 50%/year, hazard only in year 3. Effort in
    # year 1 enters the stock in year 2 (10 EU*yr) and is worth 0.5 * 10 = 5 in year 3; effort in
    # year 2 enters in year 3 at full value (10). With cap 10 FTE each year the stock in year 3 is
    # 5 + 10 = 15 EU*yr, and year-3 effort (entering in year 4) is worth nothing.
    s = tiny(
        [
            {
                "mode": "preparation",
                "lead_time_years": 1.0,
                "depreciation_per_year": 0.5,
                "saturation_effort": 30.0,
            }
        ],
        budgets=[(5.0, 100.0)] * 3,
        hazard=[0.0, 0.0, 0.3],
    )
    r = solve(s)
    st = r.stocks[r.stocks.activity == "item0"]["value"].to_numpy()
    assert st == pytest.approx([0.0, 10.0, 15.0], abs=1e-6)


@covers(add_risk)
def test_returns_diminish_so_both_interventions_are_funded(tiny):
    # Hand reasoning: two interventions on the same channel with saturation 10 EU; all 20 FTE in
    # one gives benefit slope exp(-2)/10 < 1/10, the first unit of the other; so the optimum funds
    # both, and by symmetry the exact optimum is the even split (the LP may differ within a cut).
    s = tiny([{}, {}], budgets=[(5.0, 200.0)], hazard=[0.2])
    r = solve(s)
    e0, e1 = effort(r, "item0")[0], effort(r, "item1")[0]
    assert e0 + e1 == pytest.approx(20.0, abs=1e-6)
    assert min(e0, e1) > 5.0


@covers(add_risk, add_objective)
def test_risk_cut_is_bounded_by_the_floor(tiny):
    # Hand solution: no amount of effort removes the residual floor (30%): with effect 15 e-folds
    # and all staff allowed, the cut tends to (1 - 0.3) * H * dt = 0.7 * 0.4 = 0.28 and never more.
    s = tiny(
        [{"effect_own_direct": 15.0, "saturation_effort": 1.0}],
        budgets=[(5.0, 100.0)],
        hazard=[0.4],
        config={
            "velocity": {"hit_cap_pre_acceleration": 1.0},
            "risk": {
                "residual_floor": {
                    "own_direct": 0.3,
                    "own_proliferation": 0.0,
                    "own_sabotage": 0.0,
                    "own_competition": 0.0,
                    "others": 0.0,
                }
            },
        },
    )
    r = solve(s)
    ceiling = 0.7 * 0.4
    assert r.summary["risk_reduction_exact"] <= ceiling
    assert r.summary["risk_reduction_exact"] == pytest.approx(ceiling, rel=1e-6)
    assert r.objective_model == pytest.approx(ceiling, rel=1e-6)
    hazard = r.risk[r.risk.channel == "own_direct"]["hazard_with_plan"].to_numpy()
    assert hazard == pytest.approx(0.4 * residual(15.0 * benefit(100.0), 0.3), rel=1e-9)


def test_every_family_has_a_hand_solved_test():
    assert set(FAMILIES) <= COVERED, f"untested families: {set(FAMILIES) - COVERED}"
