"""The essay's heuristics as results of the model: they hold on the baseline, each fails in a
counter-scenario whose header (models/counter_*.yaml) says why, none holds with nothing behind it,
ties stay ties, and every verdict comes with its margin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from allocopt import load_scenario, solve
from allocopt.analyses.heuristics import (
    FAILS,
    H1_POST_GAIN_MIN,
    H1_PRE_GAIN_MAX,
    H2,
    H3,
    HOLDS,
    MIN_SAFETY_SHARE,
    NOT_APPLICABLE,
    SHARE_TOLERANCE,
    TIE,
    VALUE_TOLERANCE,
    h1,
    h2,
    h3,
    ranks,
    withheld_value,
)
from tests.conftest import ROOT


def counter(name: str):
    return load_scenario(ROOT / "models" / f"counter_{name}.yaml")


def test_h1_holds_on_the_baseline(baseline):
    result = h1(baseline)
    # before the switch, lifting the 5% cap buys (almost) nothing; after it, slowing pays
    assert result.pre_gain < H1_PRE_GAIN_MAX, result
    assert result.post_gain > H1_POST_GAIN_MIN, result
    assert result.verdict == HOLDS
    assert result.margin == pytest.approx(min(result.pre_margin, result.post_margin))
    assert result.margin > VALUE_TOLERANCE, result


def test_h1_fails_when_others_follow_magma_before_acceleration():
    result = h1(counter("others_follow"))
    assert result.pre_gain > H1_PRE_GAIN_MAX, result
    assert result.max_pre_hit_lifted > 0.2, result  # the optimum slows hard before the switch
    assert result.verdict == FAILS
    assert result.margin == pytest.approx(result.pre_margin)  # the pre-switch gain fails it
    assert result.margin < -VALUE_TOLERANCE, result


def test_h2_holds_on_the_baseline(baseline_result):
    result = h2(baseline_result)
    assert result.preparation_share_pre > 0.9, result
    assert result.mitigation_share_post > result.mitigation_share_pre, result
    assert result.verdict == HOLDS
    assert result.margin > SHARE_TOLERANCE, result


def test_h2_fails_when_ai_is_dangerous_before_acceleration():
    result = h2(solve(counter("dangerous_early")))
    assert result.mitigation_share_pre > 0.2, result
    assert result.verdict == FAILS
    assert result.margin < -SHARE_TOLERANCE, result


def test_h3_holds_on_the_baseline_by_resources_and_by_value(baseline_result):
    result = h3(baseline_result)
    assert set(result.top_three) == {"P0", "P1", "P2"}, result.preparation_by_group
    assert result.verdict == HOLDS
    assert result.margin > SHARE_TOLERANCE, result.preparation_by_group
    assert set(result.top_three_by_value) == {"P0", "P1", "P2"}, result.value_by_group
    assert result.verdict_by_value == HOLDS
    assert result.margin_by_value > VALUE_TOLERANCE, result.value_by_group
    # withholding a group never raises the risk reduction beyond the outer loop's accuracy
    assert (result.value_by_group > -VALUE_TOLERANCE).all(), result.value_by_group


@pytest.mark.parametrize(
    ("name", "dropped"),
    [
        ("security_short_lead", "P2"),
        ("no_elicitation_needed", "P1"),
    ],
)
def test_h3_fails_when_its_reason_is_removed(name, dropped):
    result = h3(solve(counter(name)), by_value=False)
    assert dropped not in result.top_three, result.preparation_by_group
    assert result.verdict == FAILS
    assert result.margin < -SHARE_TOLERANCE, result.preparation_by_group


def test_withholding_a_group_without_effect_loses_nothing(baseline):
    inert = {f"effect_{c}": 0.0 for c in ("own_direct", "own_proliferation", "others")}
    inert |= {"effect_own_sabotage": 0.0, "effect_own_competition": 0.0}
    scenario = baseline.with_updates({"intervention_overrides": {"coordination_prep": inert}})
    value = withheld_value(solve(scenario))
    assert abs(value["coordination_prep"]) <= VALUE_TOLERANCE, value
    assert value["P1"] > 10 * VALUE_TOLERANCE, value  # a group with effect does lose


def test_without_safety_spending_before_the_switch_h2_and_h3_are_not_applicable(baseline):
    result = solve(baseline.with_updates({"velocity.hit_cap_pre_acceleration": 0.0}))
    assert result.knobs.loc[result.knobs.regime == "pre_acceleration", "velocity_hit"].max() < 1e-6
    assert h2(result).verdict == NOT_APPLICABLE
    portfolio = h3(result)
    assert portfolio.verdict == NOT_APPLICABLE
    assert portfolio.verdict_by_value == NOT_APPLICABLE
    assert not portfolio.holds
    assert (portfolio.ranks == 1).all(), portfolio.ranks  # all tied at zero, none ranked by name


def test_ties_share_a_rank_and_are_not_broken_by_name():
    values = pd.Series({"b": 0.4, "a": 0.4 - SHARE_TOLERANCE / 2, "c": 0.1, "d": 0.1, "e": 0.0})
    assert ranks(values, SHARE_TOLERANCE).to_dict() == {"b": 1, "a": 1, "c": 3, "d": 3, "e": 5}


@pytest.mark.parametrize(
    ("fourth", "verdict", "margin"),
    [(0.10, HOLDS, 0.10), (0.20, TIE, 0.0), (0.25, FAILS, -0.05)],
)
def test_h3_margin_is_the_gap_between_third_and_fourth(fourth, verdict, margin):
    shares = pd.Series({"P0": 0.3, "P1": 0.25, "P2": 0.2, "coordination_prep": fourth})
    result = H3(
        preparation_by_group=shares.sort_values(ascending=False), preparation_share_pre=0.05
    )
    assert result.verdict == verdict
    assert result.margin == pytest.approx(margin)
    assert len(result.top_three) == (4 if verdict == TIE else 3)


@pytest.mark.parametrize(
    ("preparation", "verdict"), [(0.55, HOLDS), (0.5, TIE), (0.45, FAILS), (np.nan, NOT_APPLICABLE)]
)
def test_h2_margin_is_the_preparation_share_over_half(preparation, verdict):
    result = H2(
        preparation_share_pre=preparation,
        mitigation_share_pre=1 - preparation,
        mitigation_share_post=0.9,
        safety_share_pre=0.0 if np.isnan(preparation) else 0.05,
        safety_share_post=0.1,
    )
    assert result.verdict == verdict
    if verdict != NOT_APPLICABLE:
        assert result.margin == pytest.approx(preparation - 0.5)


@pytest.mark.parametrize(
    ("spending", "verdict"), [(MIN_SAFETY_SHARE / 2, NOT_APPLICABLE), (2 * MIN_SAFETY_SHARE, HOLDS)]
)
def test_almost_no_safety_spending_is_not_applicable(spending, verdict):
    prepared = H2(
        preparation_share_pre=1.0,
        mitigation_share_pre=0.0,
        mitigation_share_post=0.3,
        safety_share_pre=spending,
        safety_share_post=0.1,
    )
    assert prepared.verdict == verdict
    shares = pd.Series({"P0": 0.5, "P1": 0.3, "P2": 0.2, "coordination_prep": 0.0})
    assert H3(preparation_by_group=shares, preparation_share_pre=spending).verdict == verdict
