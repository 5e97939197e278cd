"""One tiny instance per constraint family, each with its optimum worked out by hand; and the
registry: every family declares every part of itself (``audit``), and a toy family added to the
registry is checked by the exact simulator.

Every family in ``allocopt.model.FAMILIES`` must appear in ``COVERED``, and every endogenous term
of a family (what it adds only when capability is endogenous, and each linearization slope its
rows read: :func:`endogenous_terms`) in ``TERMS_COVERED`` (see the last tests), so a new family or
term cannot land without its own hand-solved instance. The endogenous terms are checked on
minimal models: the family's ``add_*`` on hand-set Params and just the variables it reads
(:func:`minimal`), solved by HiGHS through :func:`allocopt.optimize.pipeline.run_highs`.
"""

from __future__ import annotations

import math
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.core.expr.visitor import identify_mutable_parameters

from allocopt import Status, solve
from allocopt.analyses.policies import capabilities_only
from allocopt.model import FAMILIES, build_model, evaluate
from allocopt.model.allocation import FAMILY as ALLOCATION
from allocopt.model.budget import FAMILY as BUDGET
from allocopt.model.budget import add_budget
from allocopt.model.objective import FAMILY as OBJECTIVE
from allocopt.model.objective import TRUST_PENALTY, add_objective
from allocopt.model.risk import FAMILY as RISK
from allocopt.model.staff import FAMILY as STAFF
from allocopt.model.stocks import FAMILY as STOCKS
from allocopt.model.stocks import add_stocks
from allocopt.model.variables import FAMILY as VARIABLES
from allocopt.model.velocity import FAMILY as VELOCITY
from allocopt.model.velocity import add_velocity
from allocopt.numeric.curves import benefit, residual
from allocopt.numeric.inputs import prepare
from allocopt.numeric.simulate import Schedule, simulate
from allocopt.optimize.pipeline import run_highs
from tests.model.toy_family import TOY

COVERED: set = set()
TERMS_COVERED: set = set()


def covers(*families):
    """Record that the decorated test hand-checks ``families``."""

    def mark(test):
        COVERED.update(families)
        return test

    return mark


def covers_terms(family, *terms: str):
    """Record that the decorated test hand-checks the endogenous ``terms`` of ``family``."""

    def mark(test):
        TERMS_COVERED.update((family, term) for term in terms)
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
            # the item saturates: a smoother schedule lies within the tie-break's tolerance, so
            # the hand solution is the program's own optimum, without the tie-break
            "solver": {"smooth_tolerance": None},
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
            "solver": {"smooth_tolerance": None},  # as in the test above: the item saturates
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


# ---- endogenous terms, on minimal models -------------------------------------------------------

FIXED = SimpleNamespace(  # the capability settings add_velocity, add_budget, add_objective read
    endogenous=False,
    budget_frontier_share=np.zeros(1),
    hazard_follows_delay=False,
    competition_relief=(0.0, 0.0),
    competition_relief_per_doubling=0.0,
    no_return_speedup=None,
    no_return_channels=(),
    tail_years=0.0,
    salvage=False,
)
ALL_ON = SimpleNamespace(
    endogenous=True,
    budget_frontier_share=np.ones(1),
    hazard_follows_delay=True,
    competition_relief=(0.2, 0.2),
    competition_relief_per_doubling=0.1,
    no_return_speedup=2.0,
    no_return_channels=("own_direct", "others"),
    tail_years=1.0,
    salvage=True,
)
DEFAULTS = {  # value of every hand-set Param unless a test gives it
    "dt": 1.0,
    "weight": 1.0,
    "budget": 100.0,
    "resource_scale": 1.0,
    "hit_cap": 1.0,
    "budget_slope": 0.0,
    "capabilities_ref": 0.0,
    "delay_ref": 0.0,
    "trust": 10.0,
    "hazard_full": 0.0,
    "hazard": 0.0,
    "hazard_slope": 0.0,
    "residual_ref": 1.0,
    "postponed_ref": 0.0,
    "postponed_rate": 0.0,
    "delay_end_ref": 0.0,
    "lock_ref": 0.0,
    "lock_slope": 0.0,
    "tail_full": 0.0,
    "tail_piece": 0.0,
    "residual_tail_ref": 1.0,
}
AXES = {
    "weight": "r",
    "budget": "tr",
    "resource_scale": "r",
    "hit_cap": "t",
    "budget_slope": "tr",
    "capabilities_ref": "tr",
    "delay_ref": "t",
    "hazard_full": "tc",
    "hazard": "tc",
    "hazard_slope": "tc",
    "residual_ref": "tc",
    "postponed_ref": "c",
    "postponed_rate": "c",
    "lock_ref": "t",
    "lock_slope": "t",
    "tail_full": "c",
    "tail_piece": "uc",
    "residual_tail_ref": "uc",
}


def minimal(
    periods: int = 1,
    channels: tuple[str, ...] = ("own_direct",),
    floor: float = 0.0,
    tail: int = 1,
    **given,
) -> pyo.ConcreteModel:
    """PERIODS t1..tN, one resource ``staff``, ``channels``, ``tail`` periods past the horizon
    TAIL (T+1, ...); every Param of :data:`DEFAULTS` (mutable, so a test can read which ones a
    row uses), a scalar for all its indices or a list over the labels of its first axis; and the
    variables the three families read: 0 <= capabilities <= budget, delay >= 0,
    floor <= residual <= 1, floor <= residual_tail <= 1, safety_use >= 0."""
    m = pyo.ConcreteModel(name="minimal")
    labels = {
        "t": [f"t{n + 1}" for n in range(periods)],
        "r": ["staff"],
        "c": list(channels),
        "u": [f"T+{n + 1}" for n in range(tail)],
    }
    m.PERIODS = pyo.Set(initialize=labels["t"], ordered=True)
    m.RESOURCES = pyo.Set(initialize=labels["r"], ordered=True)
    m.CHANNELS = pyo.Set(initialize=labels["c"], ordered=True)
    m.TAIL = pyo.Set(initialize=labels["u"], ordered=True)
    sets = {"t": m.PERIODS, "r": m.RESOURCES, "c": m.CHANNELS, "u": m.TAIL}
    for name, default in DEFAULTS.items():
        value, axes = given.pop(name, default), AXES.get(name, "")
        if isinstance(value, list):  # one value per label of the first axis
            first = dict(zip(labels[axes[0]], value, strict=True))
            rest = labels[axes[1]] if len(axes) > 1 else [None]
            value = {(a, b) if b else a: first[a] for a in first for b in rest}
        setattr(m, name, pyo.Param(*(sets[a] for a in axes), mutable=True, initialize=value))
    assert not given, f"unknown Params {given}"
    m.capabilities = pyo.Var(
        m.PERIODS, m.RESOURCES, bounds=lambda m, t, r: (0.0, pyo.value(m.budget[t, r]))
    )
    m.delay = pyo.Var(m.PERIODS, domain=pyo.NonNegativeReals)
    m.residual = pyo.Var(m.PERIODS, m.CHANNELS, bounds=(floor, 1.0))
    m.residual_tail = pyo.Var(m.TAIL, m.CHANNELS, bounds=(floor, 1.0))
    m.safety = pyo.Var(m.PERIODS, m.RESOURCES, domain=pyo.NonNegativeReals)
    m.safety_use = pyo.Expression(m.PERIODS, m.RESOURCES, rule=lambda m, t, r: m.safety[t, r])
    return m


def capability(**on) -> SimpleNamespace:
    """Capability settings with only the terms ``on`` switched on (endogenous)."""
    return SimpleNamespace(**{**vars(FIXED), "endogenous": True, **on})


def optimum(m: pyo.ConcreteModel) -> float:
    solved = run_highs(m)
    assert solved.status is Status.OPTIMAL
    return solved.objective


def values(component) -> list[float]:
    return [pyo.value(component[k]) for k in component]


@covers_terms(add_velocity, "delay_balance")
def test_delay_accumulates_the_previous_periods_velocity_hits():
    # Hand solution: three half-year periods, velocity = capabilities / 100 on staff alone, hit
    # caps 20%, 10%, 50%. Maximizing the final delay takes every hit the caps allow in periods 1
    # and 2: delay = 0, 0.2 * 0.5 = 0.1, 0.1 + 0.1 * 0.5 = 0.15 years. Period 3's own hit (50%)
    # moves only the delay after the horizon: the delay entering period t counts hits before t.
    m = minimal(periods=3, dt=0.5, hit_cap=[0.2, 0.1, 0.5])
    add_velocity(m, SimpleNamespace(capability=capability()))
    m.objective = pyo.Objective(expr=m.delay["t3"], sense=pyo.maximize)
    assert optimum(m) == pytest.approx(0.15, abs=1e-9)
    assert values(m.delay) == pytest.approx([0.0, 0.1, 0.15], abs=1e-9)
    assert values(m.capabilities)[:2] == pytest.approx([80.0, 90.0], abs=1e-7)


@covers_terms(add_velocity, "delay_trust")
def test_delay_stays_within_the_trust_region_around_the_reference():
    # Hand solution, same periods and caps as above, linearized around delays 0, 0.02, 0.03 with
    # trust radius 0.05: delay[t2] <= 0.07 and delay[t3] <= 0.08 (the caps alone allow 0.1 and
    # 0.15), so the largest final delay is 0.08.
    # The rows are elastic: a slack delay_outside >= 0 costs TRUST_PENALTY (100) per year, far
    # more than the one unit of objective per year it would buy, so no slack is used.
    m = minimal(periods=3, dt=0.5, hit_cap=[0.2, 0.1, 0.5], delay_ref=[0, 0.02, 0.03], trust=0.05)
    add_velocity(m, SimpleNamespace(capability=capability()))
    penalty = TRUST_PENALTY * pyo.summation(m.delay_outside)
    m.objective = pyo.Objective(expr=m.delay["t3"] - penalty, sense=pyo.maximize)
    assert optimum(m) == pytest.approx(0.08, abs=1e-9)
    assert pyo.value(m.delay["t2"]) <= 0.07 + 1e-9
    assert values(m.delay_outside) == pytest.approx([0.0] * 6, abs=1e-12)
    # and from below: around delays 0, 0.1, 0.2 the final delay may not fall under 0.15, which
    # takes every hit the caps allow (0.1 + 0.05), so the least final delay is 0.15
    m = minimal(periods=3, dt=0.5, hit_cap=[0.2, 0.1, 0.5], delay_ref=[0, 0.1, 0.2], trust=0.05)
    add_velocity(m, SimpleNamespace(capability=capability()))
    penalty = TRUST_PENALTY * pyo.summation(m.delay_outside)
    m.objective = pyo.Objective(expr=m.delay["t3"] + penalty, sense=pyo.minimize)
    assert optimum(m) == pytest.approx(0.15, abs=1e-9)
    assert values(m.delay) == pytest.approx([0.0, 0.1, 0.15], abs=1e-9)
    # a region no delay can meet (delay[t1] = 0, its reference 1 year, radius 0.05) is left by
    # the least slack: 0.95 years below, costing 95, and the program stays feasible
    m = minimal(periods=3, dt=0.5, hit_cap=[0.2, 0.1, 0.5], delay_ref=[1, 0.1, 0.2], trust=0.05)
    add_velocity(m, SimpleNamespace(capability=capability()))
    penalty = TRUST_PENALTY * pyo.summation(m.delay_outside)
    m.objective = pyo.Objective(expr=m.delay["t3"] + penalty, sense=pyo.minimize)
    assert optimum(m) == pytest.approx(0.15 + 95.0, abs=1e-7)
    assert pyo.value(m.delay_outside["t1", "below"]) == pytest.approx(0.95, abs=1e-9)


@covers_terms(add_velocity, "budget_slope")
def test_velocity_counts_the_budget_a_delay_takes_away():
    # Hand solution: two one-year periods, staff budget 100, hit caps 30% then 10%; in period 2
    # the budget shrinks by 20 per year of delay (budget_slope -20), linearized around
    # capabilities 100 and no delay: velocity[t2] = c2 / 100 - 100 * (-20) * delay / 100^2
    # = c2 / 100 + 0.2 * delay[t2] (the same staff are a larger share of a smaller budget).
    # Minimizing c1 + c2: the cap gives c2 >= 90 - 20 * delay[t2], delay[t2] = 1 - c1 / 100,
    # so c1 + c2 >= 70 + 1.2 * c1, least at c1 = 70: delay 0.3, c2 = 84, total 154.
    m = minimal(periods=2, hit_cap=[0.3, 0.1], budget_slope=[0.0, -20.0], capabilities_ref=100.0)
    add_velocity(m, SimpleNamespace(capability=capability(budget_frontier_share=np.ones(1))))
    m.objective = pyo.Objective(expr=pyo.summation(m.capabilities), sense=pyo.minimize)
    assert optimum(m) == pytest.approx(154.0, abs=1e-7)
    assert values(m.capabilities) == pytest.approx([70.0, 84.0], abs=1e-7)
    assert values(m.delay) == pytest.approx([0.0, 0.3], abs=1e-9)


@covers_terms(add_budget, "budget_slope")
def test_budget_shrinks_with_the_delay_beyond_the_reference():
    # Hand solution: budgets 100 and 100, slopes -20 and -30 per year of delay, linearized around
    # delays 0 and 0.1; delays held at 0 and 0.5. Available: 100 and 100 - 30 * (0.5 - 0.1) = 88,
    # so the most safety use (capabilities at 0) is 100 + 88 = 188.
    m = minimal(periods=2, budget_slope=[-20.0, -30.0], delay_ref=[0.0, 0.1])
    m.delay["t1"].fix(0.0)
    m.delay["t2"].fix(0.5)
    add_budget(m, SimpleNamespace(capability=capability(budget_frontier_share=np.ones(1))))
    m.objective = pyo.Objective(expr=pyo.summation(m.safety), sense=pyo.maximize)
    assert optimum(m) == pytest.approx(188.0, abs=1e-7)
    assert values(m.safety) == pytest.approx([100.0, 88.0], abs=1e-7)


@covers_terms(add_objective, "hazard_slope")
def test_risk_reduction_counts_the_hazard_a_delay_removes():
    # Hand solution: one year, others' hazard 0.5 (full and planned), falling by 0.25 per year
    # of Magma's delay (competition relief), linearized around delay 0.1 with residual 0.8;
    # residual >= 0.6, delay free in [0, 0.4]. Risk reduction = 0.5 - 0.5 * residual
    # - 0.8 * (-0.25) * (delay - 0.1), largest at residual 0.6 and delay 0.4:
    # 0.5 - 0.3 + 0.2 * 0.3 = 0.26.
    m = minimal(
        channels=("others",),
        floor=0.6,
        hazard_full=0.5,
        hazard=0.5,
        hazard_slope=-0.25,
        residual_ref=0.8,
        delay_ref=0.1,
    )
    m.delay["t1"].setub(0.4)
    add_objective(m, SimpleNamespace(capability=capability(competition_relief=(0.3, 0.3))))
    assert optimum(m) == pytest.approx(0.26, abs=1e-9)
    assert pyo.value(m.delay["t1"]) == pytest.approx(0.4, abs=1e-9)
    assert pyo.value(m.residual["t1", "others"]) == pytest.approx(0.6, abs=1e-9)


@covers_terms(add_objective, "delay_end", "postponed_rate")
def test_risk_reduction_charges_the_own_risk_a_delay_postpones():
    # Hand solution: one year, own hazard 0.4 (full and planned, flat: no slope); residual in
    # [0.5, 1]; velocity = capabilities / 100 with a 20% hit cap, so delay_end = 1 - c / 100 in
    # [0, 0.2]. Postponed risk = 0.1 * residual + 0.8 * 0.4 * (delay_end - 0.05) (postponed_ref
    # 0.1, residual_ref 0.8, postponed_rate 0.4, delay_end_ref 0.05). Risk reduction
    # 0.4 - 0.4 * residual - postponed risk falls with residual (-0.5) and delay_end (-0.32):
    # residual 0.5, full speed (delay_end 0): 0.4 - 0.2 - (0.05 - 0.016) = 0.166.
    m = minimal(
        floor=0.5,
        hit_cap=0.2,
        hazard_full=0.4,
        hazard=0.4,
        residual_ref=0.8,
        postponed_ref=0.1,
        postponed_rate=0.4,
        delay_end_ref=0.05,
    )
    inp = SimpleNamespace(capability=capability(hazard_follows_delay=True))
    add_velocity(m, inp)
    add_objective(m, inp)
    assert optimum(m) == pytest.approx(0.166, abs=1e-9)
    assert pyo.value(m.postponed_risk) == pytest.approx(0.034, abs=1e-9)
    assert pyo.value(m.delay_end) == pytest.approx(0.0, abs=1e-9)


@covers_terms(add_objective, "locked", "locked_ref", "lock_slope")
def test_risk_reduction_counts_the_risk_locked_in_past_the_point_of_no_return():
    # Hand solution: two one-year periods, own hazard 0.5 (full and planned), residual in
    # [0.3, 1]; at the point half the hazard locked in during period 1 (lock_ref 0.5, 0.5: none
    # more in period 2) and a delay before period 1 lowers that lock by 0.5 per year
    # (lock_slope -0.5, 0), delay[t1] in [0, 0.4], residual_ref 0.8, 0.6. The locked half keeps
    # period 1's residual in period 2: locked[t2] = 0.5 * r1 + 0.8 * m1 - 0.6 * m1 - 0.5 * r2
    # with m1 = -0.5 * delay[t1], i.e. 0.5 * r1 - 0.5 * r2 - 0.1 * delay[t1], and locked[t1] = 0.
    # Risk reduction = 1 - 0.5 * (r1 + r2 + locked[t2]) = 1 - 0.75 r1 - 0.25 r2 + 0.05 delay,
    # largest at r1 = r2 = 0.3, delay 0.4: 0.72; locked_ref[t2] = 0.5 * 0.8 - 0.5 * 0.6 = 0.1.
    m = minimal(
        periods=2,
        floor=0.3,
        hazard_full=0.5,
        hazard=0.5,
        residual_ref=[0.8, 0.6],
        lock_ref=[0.5, 0.5],
        lock_slope=[-0.5, 0.0],
    )
    m.delay["t1"].setub(0.4)
    m.delay["t2"].fix(0.0)
    settings = capability(no_return_speedup=2.0, no_return_channels=("own_direct",))
    add_objective(m, SimpleNamespace(capability=settings))
    assert optimum(m) == pytest.approx(0.72, abs=1e-9)
    assert pyo.value(m.delay["t1"]) == pytest.approx(0.4, abs=1e-9)
    assert values(m.residual) == pytest.approx([0.3, 0.3], abs=1e-9)
    assert values(m.locked_ref) == pytest.approx([0.0, 0.1], abs=1e-12)


@covers_terms(add_objective, "tail_full")
def test_risk_reduction_meets_the_tail_at_the_last_residual():
    # Hand solution: one year, own and others' hazard 0.4 (full and planned), residuals in
    # [0.5, 1]; a tail past the horizon with 0.3 of hazard per channel at full speed
    # (tail_full) and ahead at the end (postponed_ref; no delay terms: hazard_follows_delay off).
    # Risk reduction = sum_c (0.4 - 0.4 * residual + 0.3 - 0.3 * residual), largest at the
    # floors: 2 * (0.2 + 0.15) = 0.7, of which the tail met at the last residual is 0.3.
    m = minimal(
        channels=("own_direct", "others"),
        floor=0.5,
        hazard_full=0.4,
        hazard=0.4,
        tail_full=0.3,
        postponed_ref=0.3,
    )
    add_objective(m, SimpleNamespace(capability=capability(tail_years=1.0)))
    assert optimum(m) == pytest.approx(0.7, abs=1e-9)
    assert pyo.value(m.postponed_risk) == pytest.approx(0.3, abs=1e-9)
    assert values(m.residual) == pytest.approx([0.5, 0.5], abs=1e-9)


@covers_terms(add_objective, "tail_piece")
@pytest.mark.parametrize("locked", [False, True])
def test_salvage_meets_the_tail_period_by_period(locked):
    # Hand solution: one year, own hazard 0.4 (full and planned), residual in [0.5, 1]; a tail
    # of two periods past the horizon with 0.1 and 0.2 of hazard at full speed (tail_piece;
    # tail_full and postponed_ref 0.3: nothing postponed, hazard_follows_delay off), where the
    # stocks have depreciated: residual_tail fixed at 0.6 and 0.8. Risk reduction
    # = 0.4 - 0.4 * r + 0.3 - (0.3 - 0.3) * r - (0.1 * 0.6 + 0.2 * 0.8) = 0.7 - 0.4 r - 0.22,
    # largest at r = 0.5: 0.28 (met at the last residual, as without salvage: 0.35).
    # With the lock-in (lock_ref 0.5 at the end, lock_slope 0.5, delay in [0, 0.4], residual_ref
    # 0.7, residual_tail_ref 0.9): each piece meets r + 0.5 * (q - r) - (0.9 - 0.7) * 0.5 * delay
    # (locked[t1] = 0 over one period), so the reduction is 0.7 - 0.4 r - 0.15 r - 0.11
    # + 0.03 delay, largest at r = 0.5, delay 0.4: 0.327.
    m = minimal(
        floor=0.5,
        tail=2,
        hazard_full=0.4,
        hazard=0.4,
        tail_full=0.3,
        postponed_ref=0.3,
        tail_piece=[0.1, 0.2],
        residual_ref=0.7,
        residual_tail_ref=0.9,
        lock_ref=0.5 if locked else 0.0,
        lock_slope=0.5 if locked else 0.0,
    )
    m.delay["t1"].setub(0.4)
    for u, q in (("T+1", 0.6), ("T+2", 0.8)):
        m.residual_tail[u, "own_direct"].fix(q)
    on = {"no_return_speedup": 2.0, "no_return_channels": ("own_direct",)} if locked else {}
    settings = capability(tail_years=2.0, salvage=True, **on)
    add_objective(m, SimpleNamespace(capability=settings, dt=1.0))
    assert optimum(m) == pytest.approx(0.327 if locked else 0.28, abs=1e-9)
    assert pyo.value(m.residual["t1", "own_direct"]) == pytest.approx(0.5, abs=1e-9)
    if locked:  # the delay enters only through the lock-in's move
        assert pyo.value(m.delay["t1"]) == pytest.approx(0.4, abs=1e-9)


def stocks_minimal(elasticity: float) -> pyo.ConcreteModel:
    """One period, one mitigation intervention ``a`` with 0 <= effort <= 10 EU, 0 <= delay <= 0.5
    years, add_stocks (no AI labour, no readiness) at the point ease_ref 0.5, held_ref 8 EU,
    ease_slope 0.2 per year of delay, delay_ref 0.1."""
    m = pyo.ConcreteModel(name="stocks")
    m.PERIODS = pyo.Set(initialize=["t1"], ordered=True)
    m.INTERVENTIONS = pyo.Set(initialize=["a"], ordered=True)
    m.PREPARATION = pyo.Set(initialize=[], ordered=True)
    m.dt = pyo.Param(initialize=1.0)
    for name, value in {"ease_ref": 0.5, "ease_slope": 0.2, "delay_ref": 0.1}.items():
        setattr(m, name, pyo.Param(m.PERIODS, mutable=True, initialize=value))
    m.held_ref = pyo.Param(m.PERIODS, m.INTERVENTIONS, mutable=True, initialize=8.0)
    m.effort = pyo.Var(m.PERIODS, m.INTERVENTIONS, bounds=(0.0, 10.0))
    m.stock = pyo.Var(m.PERIODS, m.PREPARATION)
    m.level = pyo.Var(m.PERIODS, m.INTERVENTIONS)
    m.delay = pyo.Var(m.PERIODS, bounds=(0.0, 0.5))
    settings = capability(
        ai_labour=False, readiness_required=False, safety_difficulty_elasticity=elasticity
    )
    inp = SimpleNamespace(
        ids=("a",), lead_periods=np.zeros(1), retention=np.ones(1), capability=settings
    )
    add_stocks(m, inp)
    return m


def test_safety_difficulty_scales_the_level_the_benefit_reads():
    # Hand solution: level = 0.5 * effort + 8 * 0.2 * (delay - 0.1). Maximizing
    # level - 2 * delay - 0.3 * effort: effort pays 0.5 - 0.3 > 0, delay 1.6 - 2 < 0, so effort
    # 10 and delay 0: 5 - 0.16 - 3 = 1.84. At a cost of 1 per year of delay the delay pays
    # (1.6 - 1 > 0): delay 0.5, 5 + 0.64 - 0.5 - 3 = 2.14. Without difficulty level = effort.
    for delay_cost, best, delay in ((2.0, 1.84, 0.0), (1.0, 2.14, 0.5)):
        m = stocks_minimal(1.0)
        m.objective = pyo.Objective(
            expr=m.level["t1", "a"] - delay_cost * m.delay["t1"] - 0.3 * m.effort["t1", "a"],
            sense=pyo.maximize,
        )
        assert optimum(m) == pytest.approx(best, abs=1e-9)
        assert pyo.value(m.delay["t1"]) == pytest.approx(delay, abs=1e-9)
        assert pyo.value(m.effort["t1", "a"]) == pytest.approx(10.0, abs=1e-9)
    m = stocks_minimal(0.0)
    m.objective = pyo.Objective(expr=m.level["t1", "a"] - m.delay["t1"], sense=pyo.maximize)
    assert optimum(m) == pytest.approx(10.0, abs=1e-9)


# the families whose rows move with the delay; the AI-labour, readiness and influence terms of
# add_stocks and add_risk read Params (ai_gain_*, influence_*, *_ref) of a fuller model
ENDOGENOUS_FAMILIES = (add_velocity, add_budget, add_objective)


def endogenous_terms(family) -> set[str]:
    """What ``family`` adds to a minimal model only when capability is endogenous, and the
    linearization slopes (``*_slope``, ``*_rate`` Params) its rows and expressions read."""

    def added(settings: SimpleNamespace) -> tuple[set[str], set[str]]:
        m = minimal(channels=("own_direct", "others"))
        inp = SimpleNamespace(capability=settings, dt=1.0)
        if family is not add_velocity:  # the objective reads a velocity: one by hand
            m.velocity = pyo.Expression(
                m.PERIODS, rule=lambda m, t: m.capabilities[t, "staff"] / m.budget[t, "staff"]
            )
        before = {c.name for c in m.component_objects((pyo.Constraint, pyo.Expression))}
        family(m, inp)
        new = [
            c
            for c in m.component_objects((pyo.Constraint, pyo.Expression, pyo.Objective))
            if c.name not in before
        ]
        read = {
            p.parent_component().name
            for c in new
            for data in c.values()
            for p in identify_mutable_parameters(data.expr)
        }
        return {c.name for c in new}, {p for p in read if p.endswith(("_slope", "_rate"))}

    (names_off, _), (names_on, slopes) = added(FIXED), added(ALL_ON)
    return (names_on - names_off) | slopes


def test_the_endogenous_terms_are_read_off_the_families():
    assert endogenous_terms(add_velocity) == {"delay_balance", "delay_trust", "budget_slope"}
    assert endogenous_terms(add_budget) == {"budget_slope"}
    assert endogenous_terms(add_objective) == {
        "delay_end",
        "hazard_slope",
        "postponed_rate",
        "locked",
        "locked_ref",
        "lock_slope",
    }


def test_every_family_has_a_hand_solved_test():
    untested = [f.name for f in FAMILIES if f not in COVERED]
    assert not untested, f"untested families: {untested}"


def test_every_endogenous_term_has_a_hand_solved_test():
    terms = {(f, term) for f in ENDOGENOUS_FAMILIES for term in endogenous_terms(f)}
    assert terms, "no endogenous term found: the walk over the families is broken"
    missing = sorted(f"{f.__name__}: {term}" for f, term in terms - TERMS_COVERED)
    assert not missing, f"endogenous terms without a hand-solved test: {missing}"


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
