"""The essay's reasons for slowing after acceleration as terms of endogenous capability
(docs/model.md, "Endogenous capability", terms (f)–(h), and the tail's salvage): each term's
exact relation in the simulator, worked out by hand on a tiny scenario, and the program's optimum
on it solved by the outer loop against the hand solution."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest

from allocopt import Status, load_scenario, solve
from allocopt.model import build_model
from allocopt.model.linearization import around
from allocopt.numeric.inputs import prepare
from allocopt.numeric.simulate import Schedule, locked_in, simulate
from allocopt.numeric.trajectory import point_at
from allocopt.optimize.pipeline import run_highs
from allocopt.scenario.tables import CHANNELS, RESOURCES

OTHERS = CHANNELS.index("others")


def with_others_hazard(folder: Path, hazard: list[float]):
    """The scenario the ``tiny`` fixture wrote to ``folder``, with other developers' hazard per
    year ``hazard`` in its hazards table."""
    table = pd.read_csv(folder / "hazards.csv")
    for year, h in zip(sorted(table.period.unique()), hazard, strict=True):
        table.loc[(table.period == year) & (table.channel == "others"), "hazard_per_year"] = h
    table.to_csv(folder / "hazards.csv", index=False)
    return load_scenario(folder / "tiny.yaml")


# ---- (f) competition that grows more dangerous as capabilities rise -----------------------------


def test_competition_relief_grows_with_the_frontiers_speedup(tiny, tmp_path):
    # Hand solution: two years, the frontier at 1x then 4x (two doublings), relief per doubling
    # 0.5, no regime relief: relief = 0 in year 1 and 1 - 0.5^2 = 0.75 in year 2. Magma idles
    # half its staff in year 1: delay 0.5 years before year 2; lag scale 0.5 years, so the fade
    # is exp(-1). Others' hazard 0.2: year 2 = 0.2 * (1 - 0.75 * (1 - e^-1)), with slope
    # -0.75 * e^-1 / 0.5 * 0.2 per year of delay; year 1 keeps 0.2 (no delay, no relief).
    tiny(
        [{}],
        budgets=[(5.0, 100.0)] * 2,
        hazard=[0.0, 0.0],
        speedup=[1.0, 4.0],
        config={
            "capability": {
                "competition_relief_per_doubling": 0.5,
                "competition_lag_scale_years": 0.5,
            }
        },
    )
    inp = prepare(with_others_hazard(tmp_path, [0.2, 0.2]))
    p = point_at(inp, np.array([0.0, 0.5]))
    e = math.exp(-1)
    assert p.hazard[:, OTHERS] == pytest.approx([0.2, 0.2 * (1 - 0.75 * (1 - e))], rel=1e-12)
    assert p.hazard_slope[:, OTHERS] == pytest.approx([0.0, -0.75 * e / 0.5 * 0.2])
    # the regime's relief combines: year 2 post-acceleration relief 0.2 leaves 0.8 * 0.25
    both = replace(inp.capability, competition_relief=(0.0, 0.2))
    p2 = point_at(replace(inp, capability=both), np.array([0.0, 0.5]))
    assert p2.hazard[1, OTHERS] == pytest.approx(0.2 * (1 - 0.8 * (1 - e)), rel=1e-12)


def test_the_program_slows_for_the_relief_at_the_frontiers_level(tiny, tmp_path):
    # Hand solution: two years at 4x (post-acceleration, hit cap 40%), nothing but others'
    # hazard 0.2 in year 2, relief 1 - 0.5^2 = 0.75 at lag scale 0.5 years; the intervention acts
    # on own_direct, whose hazard is zero, so safety work buys nothing. Risk reduction
    # = 0.2 * 0.75 * (1 - exp(-delay[2] / 0.5)) rises with the delay, so the optimum idles 40% of
    # staff in year 1: delay 0.4, value 0.15 * (1 - e^-0.8).
    tiny(
        [{}],
        budgets=[(5.0, 100.0)] * 2,
        hazard=[0.0, 0.0],
        speedup=[4.0, 4.0],
        config={
            "velocity": {"hit_cap_post_acceleration": 0.4},
            "capability": {
                "competition_relief_per_doubling": 0.5,
                "competition_lag_scale_years": 0.5,
            },
        },
    )
    r = solve(with_others_hazard(tmp_path, [0.0, 0.2]))
    assert r.status is Status.LOCALLY_OPTIMAL
    hand = 0.15 * (1 - math.exp(-0.8))
    assert r.summary["risk_reduction_exact"] == pytest.approx(hand, rel=1e-6)
    a = r.allocation
    staff = a[(a.activity == "capabilities") & (a.resource == "staff")]["value"].to_numpy()
    assert staff[0] == pytest.approx(60.0, abs=1e-4)


# ---- (g) advocacy that loses credibility while Magma races --------------------------------------

ADVOCATE = {  # one advocacy intervention acting only on other developers
    "category": "governance_communication",
    "effect_own_direct": 0.0,
    "effect_others": 2.0,
    "max_effort": 10.0,
}


def test_credibility_remembers_the_velocity_with_its_halflife(tiny, tmp_path):
    # Hand solution: two years, half-life 1 year (q = 0.5), loss 0.4, velocities 0.5 then 0.9
    # (year 1: 10 FTE on the advocate, 40 idle; year 2: 10 FTE on the other intervention).
    # racing = 0.5 * 1 + 0.5 * 0.5 = 0.75 in year 1 (full speed before the horizon) and
    # 0.25 * 1 + 0.5 * (0.5 * 0.5 + 0.9) = 0.825 in year 2: credibility 0.7 and 0.67. The
    # advocate's 10 EU (saturation 10) export 2 * 0.7 * (1 - e^-1) e-folds in year 1; the other
    # intervention (not advocacy) exports its full 2 * (1 - e^-1) in year 2.
    tiny(
        [ADVOCATE, {**ADVOCATE, "category": "safety_distribution"}],
        budgets=[(5.0, 100.0)] * 2,
        hazard=[0.0, 0.0],
        config={"capability": {"credibility_loss": 0.4, "credibility_halflife_years": 1.0}},
    )
    inp = prepare(with_others_hazard(tmp_path, [0.2, 0.2]))
    effort = np.array([[10.0, 0.0], [0.0, 10.0]])
    ev = simulate(inp, Schedule(effort=effort, capabilities=np.array([[5, 50.0], [5, 90.0]])))
    assert ev.velocity == pytest.approx([0.5, 0.9])
    assert ev.credibility == pytest.approx([0.7, 0.67], rel=1e-12)
    both = 2 * (1 - math.exp(-1))
    assert ev.capacity[:, OTHERS] == pytest.approx([both * 0.7, both], rel=1e-12)


def test_the_program_idles_for_credibility(tiny, tmp_path):
    # Hand solution: one year, staff 100, hit cap 50%, the advocate at its most (10 EU, saturation
    # 10), others' hazard 0.2. Idling staff buys nothing but credibility, which rises with the
    # hit: the optimum idles to the cap (velocity 0.5, capabilities 50 FTE). With half-life 1 year
    # and loss 0.4, credibility = 1 - 0.4 * (0.5 + 0.5 * 0.5) = 0.7, and the risk reduction is
    # 0.2 * (1 - exp(-2 * 0.7 * (1 - e^-1))). Without the term the idle staff would be worth
    # nothing (any capabilities in [50, 90] optimal).
    tiny(
        [ADVOCATE],
        budgets=[(5.0, 100.0)],
        hazard=[0.0],
        config={
            "velocity": {"hit_cap_pre_acceleration": 0.5},
            "capability": {"credibility_loss": 0.4, "credibility_halflife_years": 1.0},
        },
    )
    r = solve(with_others_hazard(tmp_path, [0.2]))
    assert r.status is Status.LOCALLY_OPTIMAL
    hand = 0.2 * (1 - math.exp(-2 * 0.7 * (1 - math.exp(-1))))
    assert r.summary["risk_reduction_exact"] == pytest.approx(hand, rel=1e-6)
    a = r.allocation
    staff = a[(a.activity == "capabilities") & (a.resource == "staff")]["value"].to_numpy()
    assert staff == pytest.approx([50.0], abs=1e-4)


# ---- (h) a point of no return -------------------------------------------------------------------


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_the_lock_in_follows_magmas_own_speedup_and_holds_the_residual(tiny):
    # Hand solution: three years at 1x, 4x, 16x, the point of no return at 4x, width 1 doubling,
    # share 1: lock = sigmoid(log2(A / 4)) = sigmoid(-2), 1/2, sigmoid(2) on time. Half a year
    # behind in year 3, Magma's own speed-up is 4 * 4^0.5 = 8 (log-linear between midpoints),
    # lock = sigmoid(1), and d lock / d delay = -lock * (1 - sigmoid(1)) * ln 4 / ln 2.
    s = tiny(
        [{}],
        budgets=[(5.0, 100.0)] * 3,
        hazard=[0.1] * 3,
        speedup=[1.0, 4.0, 16.0],
        config={"capability": {"no_return_speedup": 4.0, "no_return_width_doublings": 1.0}},
    )
    inp = prepare(s)
    a, b = sigmoid(-2), sigmoid(2)
    assert point_at(inp, np.zeros(3)).lock == pytest.approx([a, 0.5, b], rel=1e-12)
    behind = point_at(inp, np.array([0.0, 0.0, 0.5]))
    assert behind.lock[2] == pytest.approx(sigmoid(1), rel=1e-12)
    assert behind.lock_slope[2] == pytest.approx(-sigmoid(1) * sigmoid(-1) * 2, rel=1e-9)
    # the share locking in during year k keeps year k's residual: with residuals 0.5, 0.4, 0.2
    # on own_direct, year 2 keeps 0.4 on its unlocked half, a on 0.5 and 1/2 - a on 0.4
    rho = np.ones((3, len(CHANNELS)))
    rho[:, 0] = [0.5, 0.4, 0.2]
    held = locked_in(inp, np.array([a, 0.5, b]), rho)[:, 0]
    assert held == pytest.approx(
        [
            0.5,
            0.5 * 0.4 + a * 0.5 + (0.5 - a) * 0.4,
            (1 - b) * 0.2 + a * 0.5 + (0.5 - a) * 0.4 + (b - 0.5) * 0.2,
        ],
        rel=1e-12,
    )
    assert locked_in(inp, np.array([a, 0.5, b]), rho)[:, 1:] == pytest.approx(rho[:, 1:])


def test_the_program_spends_its_chips_before_the_point_of_no_return(tiny):
    # Hand solution: two years at 4x (post-acceleration, hit cap 20%), the point of no return at
    # 2x with a sharp edge (width 0.05 doublings: lock = 1 - 2e-9): all hazard locks in during
    # year 1, so year 2's own hazard (0.5; none in year 1) keeps year 1's residual. The
    # intervention is mitigation (acts in its own year only), so only year-1 work counts: 20 EU
    # at the cap, residual exp(-(1 - e^-2)), risk reduction 0.5 * (1 - exp(-(1 - e^-2))).
    # Without the lock-in year-1 work would be worth nothing and year-2 work everything.
    s = tiny(
        [{}],
        budgets=[(5.0, 100.0)] * 2,
        hazard=[0.0, 0.5],
        speedup=[4.0, 4.0],
        config={
            "velocity": {"hit_cap_post_acceleration": 0.2},
            "capability": {"no_return_speedup": 2.0, "no_return_width_doublings": 0.05},
        },
    )
    r = solve(s)
    assert r.status is Status.LOCALLY_OPTIMAL
    hand = 0.5 * (1 - math.exp(-(1 - math.exp(-2))))
    assert r.summary["risk_reduction_exact"] == pytest.approx(hand, rel=1e-6)
    a = r.allocation
    work = a[(a.activity == "item0") & (a.resource == "effort")]["value"].to_numpy()
    assert work[0] == pytest.approx(20.0, abs=1e-4)


# ---- (j) salvage: the tail reads the stocks as they evolve past the horizon ----------------------

PREPARED = {"mode": "preparation", "lead_time_years": 1, "depreciation_per_year": 0.5}


def test_salvage_lets_the_effort_in_flight_join_and_the_stocks_depreciate(tiny):
    # Hand solution: two years, own hazard 0.1 a year (flat, so 0.1 in each tail year), one
    # preparation (lead 1 year, half lost a year, saturation 10) with 10 EU a year, a 2-year
    # tail. The year-1 effort joins in year 2: stock 0, 10. With salvage the year-2 effort, in
    # flight at the end, joins in the first tail year: 0.5 * 10 + 10 = 15, then 7.5; the
    # residual reads exp(-(1 - exp(-stock / 10))) in each. Without it the tail meets year 2's.
    s = tiny(
        [PREPARED],
        budgets=[(5.0, 100.0)] * 2,
        hazard=[0.1] * 2,
        config={"capability": {"tail_years": 2.0, "salvage": True}},
    )
    schedule = Schedule(effort=np.full((2, 1), 10.0), capabilities=np.tile([5.0, 90.0], (2, 1)))
    ev = simulate(prepare(s), schedule)
    rho = [math.exp(-(1 - math.exp(-x / 10))) for x in (10.0, 15.0, 7.5)]
    assert ev.stock[:, 0] == pytest.approx([0.0, 10.0])
    assert ev.held_tail[:, 0] == pytest.approx([15.0, 7.5])
    assert ev.residual_tail[:, 0] == pytest.approx(rho[1:])
    within = 0.1 * (1 - rho[0])
    assert ev.risk_reduction(prepare(s)) == pytest.approx(within + 0.2 - 0.1 * (rho[1] + rho[2]))
    off = prepare(s.with_updates({"capability.salvage": False}))
    assert simulate(off, schedule).risk_reduction(off) == pytest.approx(within + 0.2 - 0.2 * rho[0])


def test_the_program_prepares_for_the_tail_with_salvage(tiny):
    # Hand solution: one year, own hazard 0.1 (flat), one preparation (lead 1 year, half lost a
    # year, saturation 10), hit cap 10% of 100 FTE, a 2-year tail. Nothing joins within the
    # horizon; with salvage the effort e joins in the first tail year (e, then e / 2), so the
    # optimum prepares at the cap (10 EU): 0.1 * (2 - exp(-(1 - e^-1)) - exp(-(1 - e^-0.5))).
    # Without salvage the effort is worth nothing.
    s = tiny(
        [PREPARED],
        budgets=[(5.0, 100.0)],
        hazard=[0.1],
        config={"capability": {"tail_years": 2.0, "salvage": True}},
    )
    r = solve(s)
    assert r.status is Status.LOCALLY_OPTIMAL
    hand = 0.1 * (2 - math.exp(-(1 - math.exp(-1))) - math.exp(-(1 - math.exp(-0.5))))
    assert r.summary["risk_reduction_exact"] == pytest.approx(hand, rel=1e-6)
    a = r.allocation
    assert a[(a.activity == "item0") & (a.resource == "effort")]["value"].to_numpy() == (
        pytest.approx([10.0], abs=1e-4)
    )
    off = prepare(s.with_updates({"capability.salvage": False}))
    assert simulate(off, r.schedule).risk_reduction(off) == pytest.approx(0.0, abs=1e-12)


def test_the_programs_tail_with_salvage_agrees_with_the_simulator(baseline):
    # At the point, every first-order term vanishes: the program with the schedule fixed meets
    # the hazard ahead as the simulator does, up to the tangent cuts (16 on the baseline: the
    # program's residual shares lie below the exact ones by at most ~0.3%). The salvage moves
    # the hazard met ahead by far more than that, so the check can tell the two apart.
    s = baseline.with_updates({"horizon.end": "2026Q2", "capability.salvage": True})
    inp = prepare(s)
    r = solve(s)
    ev = simulate(inp, r.schedule)
    m = build_model(inp, around(r.schedule, ev, inp.capability.trust_region_years))
    # the effort a hair below the schedule's: the reported schedule (the loop's, or a step
    # towards the smoothest optimum) meets the budget rows of the program re-linearized at its
    # own trajectory only to HiGHS's feasibility tolerance, and fixed there it may lie 1e-8 past
    for (t, i), var in m.effort.items():
        effort = r.schedule.effort[inp.periods.labels.index(t), inp.ids.index(i)]
        var.fix(float(effort) * (1 - 1e-6))
    for (t, k), var in m.capabilities.items():
        var.fix(float(r.schedule.capabilities[inp.periods.labels.index(t), RESOURCES.index(k)]))
    assert run_highs(m).status.is_optimal
    program = float(pyo.value(m.postponed_risk))
    assert program == pytest.approx(ev.postponed_risk, rel=3e-3)
    assert program <= ev.postponed_risk * (1 + 1e-9)  # cuts: residuals from below
    last_share = float(ev.residual_plan[-1] @ ev.postponed)  # the tail met at the last residual
    assert abs(last_share - ev.postponed_risk) > 10 * 3e-3 * ev.postponed_risk
