"""The value of slowing: its terms add up to the exact change of risk reduction, the frozen
trajectory reproduces the solved one, and a term switched off in the scenario is zero."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from allocopt import solve
from allocopt.analyses.slowing import STEP, TERMS, TOTAL, frozen, slower, value_of_slowing
from allocopt.numeric.inputs import prepare
from allocopt.numeric.simulate import simulate

# the terms leave out only their interactions, second order in STEP: at most 1% of their size
INTERACTION_TOLERANCE = 0.01


@pytest.fixture(scope="module")
def table(baseline_result):
    return value_of_slowing(baseline_result)


def wide(table):
    return table.pivot(index="period", columns="term", values="value")


def test_one_row_per_period_and_term(table, baseline_result):
    periods = list(baseline_result.knobs.period)
    assert list(table.period.unique()) == periods
    assert list(table.term.unique()) == [*TERMS, TOTAL]
    assert len(table) == len(periods) * (len(TERMS) + 1)


def test_terms_sum_to_the_exact_total(table):
    w = wide(table)
    terms = w[list(TERMS)]
    gap = (terms.sum(axis=1) - w[TOTAL]).abs()
    assert (gap <= INTERACTION_TOLERANCE * terms.abs().sum(axis=1)).all(), gap
    # every term switched on in the baseline moves the risk reduction somewhere; (g) and (h)
    # are off there, and their terms are exactly zero
    off = ["credibility", "no_return"]
    assert (terms.drop(columns=off).abs() > 0).any().all(), terms
    assert (terms[off] == 0).all().all(), terms[off]


def test_frozen_inputs_reproduce_the_solved_trajectory(baseline_result):
    inp = prepare(baseline_result.scenario)
    base = simulate(inp, baseline_result.schedule)
    cold = simulate(frozen(inp, base), baseline_result.schedule)
    np.testing.assert_allclose(cold.hazard_plan, base.hazard_plan, rtol=1e-12)
    np.testing.assert_allclose(cold.delay, base.delay, atol=1e-12)


def test_slower_takes_one_point_more_hit_in_its_period_only(baseline_result):
    inp = prepare(baseline_result.scenario)
    base = simulate(inp, baseline_result.schedule)
    t = 5
    at_t, later = slower(inp, baseline_result.schedule, base, t)
    moved = simulate(inp, later)
    step = np.zeros(len(base.velocity))
    step[t] = STEP
    np.testing.assert_allclose(base.velocity - moved.velocity, step, atol=1e-12)
    np.testing.assert_allclose(moved.delay[t + 1 :] - base.delay[t + 1 :], STEP * inp.dt)
    # safety grows in the period's own mix
    solved = baseline_result.schedule.effort[t]
    grown = at_t.effort[t][solved > 0] / solved[solved > 0]
    assert np.ptp(grown) < 1e-9, grown
    assert grown[0] > 1, grown
    np.testing.assert_array_equal(at_t.effort[t][solved == 0], 0.0)


def test_a_term_switched_off_in_the_scenario_is_zero(baseline):
    scenario = baseline.with_updates(
        {
            "capability.influence_halflife_years": None,
            "capability.ai_labour": False,
            "capability.hazard_follows_delay": False,
            "capability.safety_difficulty_elasticity": 0.0,
        }
    )
    w = wide(value_of_slowing(solve(scenario)))
    for term in ("influence", "ai_labour", "own_hazard", "postponed_risk", "safety_difficulty"):
        assert (w[term] == 0).all(), w[term]
    for term in ("budgets", "competition_relief"):  # the others stay on
        assert (w[term].iloc[:-1].abs() > 0).all(), w[term]


def test_credibility_and_no_return_have_terms_of_their_own(baseline):
    # six quarters of the baseline with advocacy's credibility (g) and a point of no return (h)
    # at Magma's own 3x (crossed within them): each has its own term, nonzero, and the terms
    # still sum to the exact total; switched off, each term is exactly zero
    short = baseline.with_updates({"horizon.end": "2026Q2"})
    on = {"capability.credibility_loss": 0.3, "capability.no_return_speedup": 3.0}
    both = solve(short.with_updates(on))
    w = wide(value_of_slowing(both))
    terms = w[list(TERMS)]
    gap = (terms.sum(axis=1) - w[TOTAL]).abs()
    assert (gap <= INTERACTION_TOLERANCE * terms.abs().sum(axis=1)).all(), gap
    for term in ("credibility", "no_return"):
        assert (w[term].abs() > 1e-9).any(), w[term]
    # the same schedule with each switch off in turn: that term is exactly zero, the other not
    for field, term, other in (
        ("capability.credibility_loss", "credibility", "no_return"),
        ("capability.no_return_speedup", "no_return", "credibility"),
    ):
        off = dataclasses.replace(
            both,
            scenario=both.scenario.with_updates({field: 0.0 if term == "credibility" else None}),
        )
        w_off = wide(value_of_slowing(off))
        assert (w_off[term] == 0).all(), w_off[term]
        assert (w_off[other].abs() > 1e-9).any(), w_off[other]


def test_breaks_names_the_limits_the_step_breaks(table, baseline_result):
    # the cap is named exactly where the hit sits at it; below it (2029Q2-Q3 on the baseline)
    # the step is still no plan the program could take: its staff breaks the re-assignment limit
    said = table.drop_duplicates("period").set_index("period").breaks
    knobs = baseline_result.knobs.set_index("period")
    at_cap = knobs.velocity_hit > knobs.velocity_hit_cap - 1e-6
    named = said.str.contains("velocity-hit cap")
    assert (named == at_cap).all(), pd.concat([named, at_cap], axis=1)
    assert (~at_cap).any(), said
    assert said[~at_cap].str.contains("staff frictions").all(), said
    assert not said.str.contains("budget").any(), said
    # the same schedule where a year's re-assignment may move every team: no staff friction
    loose = dataclasses.replace(
        baseline_result,
        scenario=baseline_result.scenario.with_updates({"staff.reassignment_share_per_year": 100}),
    )
    loosened = value_of_slowing(loose).drop_duplicates("period").breaks
    assert not loosened.str.contains("staff frictions").any(), loosened
