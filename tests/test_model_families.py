"""One tiny instance per constraint family, each with its optimum worked out by hand; and the
registry: every family declares every part of itself (``audit``), and a toy family added to the
registry is checked by the exact simulator.

Every family in ``allocopt.model.FAMILIES`` must appear in ``COVERED`` (see
``test_every_family_has_a_hand_solved_test``), so a new family cannot land without its own
hand-solved instance.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pyomo.environ as pyo
import pytest

from allocopt import solve
from allocopt.analyses.policies import capabilities_only
from allocopt.model import FAMILIES, build_model, evaluate
from allocopt.model.allocation import FAMILY as ALLOCATION
from allocopt.model.budget import FAMILY as BUDGET
from allocopt.model.objective import FAMILY as OBJECTIVE
from allocopt.model.risk import FAMILY as RISK
from allocopt.model.staff import FAMILY as STAFF
from allocopt.model.stocks import FAMILY as STOCKS
from allocopt.model.variables import FAMILY as VARIABLES
from allocopt.model.velocity import FAMILY as VELOCITY
from allocopt.numeric.curves import benefit, residual
from allocopt.numeric.inputs import prepare
from allocopt.numeric.simulate import Schedule, simulate
from tests.toy_family import TOY

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


@covers(VARIABLES, ALLOCATION, VELOCITY, BUDGET, OBJECTIVE)
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


@covers(BUDGET)
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


@covers(ALLOCATION)
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


@covers(STAFF)
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


@covers(STAFF)
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


@covers(STOCKS)
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


@covers(RISK)
def test_returns_diminish_so_both_interventions_are_funded(tiny):
    # Hand reasoning: two interventions on the same channel with saturation 10 EU; all 20 FTE in
    # one gives benefit slope exp(-2)/10 < 1/10, the first unit of the other; so the optimum funds
    # both, and by symmetry the exact optimum is the even split (the LP may differ within a cut).
    s = tiny([{}, {}], budgets=[(5.0, 200.0)], hazard=[0.2])
    r = solve(s)
    e0, e1 = effort(r, "item0")[0], effort(r, "item1")[0]
    assert e0 + e1 == pytest.approx(20.0, abs=1e-6)
    assert min(e0, e1) > 5.0


@covers(RISK, OBJECTIVE)
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
    untested = [f.name for f in FAMILIES if f not in COVERED]
    assert not untested, f"untested families: {untested}"


def audit(families, inp) -> list[str]:
    """What the registered ``families`` fail to declare about themselves, found by building the
    model of ``inp`` from them: rows, variables or mutable Params no family (or two) claims, an
    undocumented ``add``, rule ranks shared, phrases, price labels or checks that do not run."""
    problems = [f"{f.name}: add has no docstring" for f in families if not (f.add.__doc__ or "")]
    ranks = [r.rank for f in families for r in f.rows if r.rank is not None]
    problems += [f"rank {k} used twice" for k in set(ranks) if ranks.count(k) > 1]
    m = build_model(inp, families=families)
    owners = {
        pyo.Constraint: [r.name for f in families for r in f.rows],
        pyo.Var: [name for f in families for name in f.columns],
        pyo.Param: [p.name for f in families for p in f.params],
    }
    for kind, owned in owners.items():
        for c in m.component_objects(kind, descend_into=True):
            if kind is pyo.Param and not c.mutable:
                continue  # sets and linearization constants (add_sets)
            if owned.count(c.local_name) != 1:
                problems.append(f"{c.local_name}: {owned.count(c.local_name)} families own it")
    for row in (r for f in families for r in f.rows):
        block = m.component(row.name)
        if not isinstance(block, pyo.Constraint):
            continue
        for index in block:
            idx = index if isinstance(index, tuple) else () if index is None else (index,)
            if row.told is not None and not row.told(m, inp, idx, 1.0).phrase:
                problems.append(f"{row.name}: empty phrase")
            if row.price is not None and not all(isinstance(x, str) for x in row.price.label(idx)):
                problems.append(f"{row.name}: price label is not (resource, activity, unit)")
    plan = capabilities_only(inp)
    ev = simulate(inp, plan)
    for f in families:
        found = f.check(inp, plan, ev)
        if not all(isinstance(key, tuple) and isinstance(line, str) for key, line in found):
            problems.append(f"{f.name}: check does not give (order key, message) pairs")
    return problems


@pytest.fixture(scope="module")
def shapes(baseline):
    """Inputs that build every row of the bundled families: endogenous capability (delay rows),
    and the core program with a safety floor and an initial safety share."""
    rules = {"safety_floor_share": {"compute": 0.01}, "staff.initial_safety_share": 0.05}
    return [prepare(baseline), prepare(baseline.with_updates({"capability": {}, **rules}))]


def test_every_registered_family_declares_every_part(shapes):
    for inp in shapes:
        assert audit(FAMILIES, inp) == []


def test_the_audit_catches_a_family_that_leaves_a_part_out(shapes):
    inp = shapes[1]
    assert audit((*FAMILIES, TOY), inp) == []
    assert audit((*FAMILIES, replace(TOY, rows=())), inp) == [
        "safety_compute_cap: 0 families own it"
    ]
    untold = {k: v for k, v in VARIABLES.columns.items() if k != "effort"}
    forgetful = tuple(replace(f, columns=untold) if f is VARIABLES else f for f in FAMILIES)
    assert audit(forgetful, inp) == ["effort: 0 families own it"]
    again = replace(TOY, name="again", add=lambda m, inp: None, params=())
    assert audit((*FAMILIES, TOY, again), inp) == [
        "again: add has no docstring",
        "rank 7 used twice",
        "safety_compute_cap: 2 families own it",
    ]


def test_the_simulator_checks_a_toy_family_after_the_bundled_ones(tiny):
    # two years, compute budget 100, one intervention at 1 kH100e per EU and no staff, velocity
    # on staff only: 5 EU is 5 kH100e of safety compute, within the budget and the velocity cap
    # but over the toy cap of 1% of compute (1 kH100e)
    s = tiny(
        [{"compute_per_effort_kh100e": 1.0, "staff_per_effort_fte": 0.0}],
        budgets=[(100.0, 100.0)] * 2,
        hazard=[0.1, 0.1],
    )
    inp = prepare(s)
    effort = np.full((2, 1), 5.0)
    within = Schedule(effort=effort, capabilities=np.tile([95.0, 100.0], (2, 1)))
    assert evaluate(inp, within).violations == ()
    assert evaluate(inp, within, (*FAMILIES, TOY)).violations == (
        "2025: safety compute 5 exceeds the toy cap",
        "2026: safety compute 5 exceeds the toy cap",
    )
    over = Schedule(effort=effort, capabilities=np.tile([100.0, 100.0], (2, 1)))
    assert evaluate(inp, over, (*FAMILIES, TOY)).violations == (
        "2025: compute used 105 exceeds the budget 100",
        "2026: compute used 105 exceeds the budget 100",
        "2025: safety compute 5 exceeds the toy cap",
        "2026: safety compute 5 exceeds the toy cap",
    )


def test_violations_are_listed_period_by_period_then_bounds_then_staff(tiny):
    # two years, one intervention: year 1 over the compute budget and below the staff floor,
    # effort over max_effort in year 2, and staff that grows faster than the cap allows
    s = tiny(
        [{"compute_per_effort_kh100e": 1.0, "max_effort": 5.0}],
        budgets=[(5.0, 100.0), (5.0, 300.0)],
        hazard=[0.1, 0.1],
        config={
            "safety_floor_share": {"staff": 0.5},
            "staff": {"growth_max_per_year": 0.1, "reassignment_share_per_year": 100.0},
        },
    )
    inp = prepare(s)
    schedule = Schedule(
        effort=np.array([[1.0], [6.0]]), capabilities=np.array([[5.0, 10.0], [0.0, 200.0]])
    )
    assert [v.split(" ")[:3] for v in evaluate(inp, schedule).violations] == [
        ["2025:", "compute", "used"],
        ["2025:", "staff", "to"],
        ["2025:", "velocity", "hit"],
        ["2026:", "compute", "used"],
        ["2026:", "staff", "to"],
        ["2026:", "velocity", "hit"],
        ["2026:", "effort", "on"],
        ["2026:", "employed", "staff"],
    ]
