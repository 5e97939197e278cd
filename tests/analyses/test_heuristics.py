"""The essay's heuristics as results of the model, with their verdicts and margins.

On the baseline (safety difficulty growing with Magma's own speed-up, elasticity 1) H1 fails
before the switch and H3 ties by resources; on ``counter_flat_safety_difficulty`` (elasticity 0)
both hold before the switch, and the decomposition of the value of slowing puts the baseline's
pre-switch gain on the safety difficulty (docs/model.md, "Heuristics on the baseline"). Each
counter-scenario runs where its reason is the only difference from a scenario the heuristic
holds on (H3's) or whose pre-switch half holds (H1's): H3's counters drop their group from the
pre-switch preparation there (a tie or not applicable, not a failure); H1's and H2's counters
do not flip what they aim at (findings, asserted as such, with the mechanism and margin measured
on the calibrated hazards of data/hazards.csv and the tail's salvage). None holds with nothing
behind it, ties stay ties, and every verdict comes with its margin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from allocopt import Scenario, load_scenario, solve
from allocopt.analyses.heuristics import (
    FAILS,
    H1,
    H1_PRE_GAIN_MAX,
    H2,
    H3,
    HOLDS,
    MIN_SAFETY_SHARE,
    NOT_APPLICABLE,
    PRE,
    SHARE_TOLERANCE,
    TIE,
    VALUE_TOLERANCE,
    h1,
    h2,
    h3,
    ranks,
    withheld_value,
)
from allocopt.analyses.slowing import value_of_slowing
from tests.conftest import ROOT

FLAT = {"capability.safety_difficulty_elasticity": 0.0}  # counter_flat_safety_difficulty's change


def counter(name: str, flat: bool = False) -> Scenario:
    """``models/counter_<name>.yaml``; with ``flat``, with the safety difficulty of
    ``counter_flat_safety_difficulty`` (its reason is then the only difference from that one)."""
    scenario = load_scenario(ROOT / "models" / f"counter_{name}.yaml")
    return scenario.with_updates(FLAT) if flat else scenario


@pytest.fixture(scope="module")
def flat() -> Scenario:
    return counter("flat_safety_difficulty")


@pytest.fixture(scope="module")
def flat_result(flat: Scenario):
    return solve(flat)


@pytest.fixture(scope="module")
def baseline_h1(baseline: Scenario) -> H1:
    return h1(baseline)


@pytest.fixture(scope="module")
def flat_h1(flat: Scenario) -> H1:
    return h1(flat)


def test_h1_fails_before_the_switch_on_the_baseline(baseline, baseline_h1):
    result = baseline_h1
    # lifting the 5% cap buys more than the threshold: the optimum slows harder before the switch
    assert result.pre_gain > H1_PRE_GAIN_MAX, result
    assert result.verdict == FAILS
    assert result.margin == pytest.approx(result.pre_margin)  # the pre-switch gain fails it
    assert result.margin < -VALUE_TOLERANCE, result
    assert result.max_pre_hit_lifted > baseline.velocity.hit_cap_pre_acceleration, result
    assert result.post_margin > VALUE_TOLERANCE, result  # after the switch, slowing pays


def test_h1_s_pre_switch_gain_comes_from_the_safety_difficulty(baseline, baseline_h1, flat_h1):
    """With a flat safety difficulty lifting the pre-switch cap buys (almost) nothing; on the
    baseline the value of slowing before the switch (at the optimum with the pre-switch cap kept,
    post-switch cap lifted, as H1 solves it) is positive, and most of it is the term by which a
    delay makes all later safety easier."""
    assert flat_h1.pre_gain < H1_PRE_GAIN_MAX < baseline_h1.pre_gain, (flat_h1, baseline_h1)
    assert flat_h1.pre_margin > VALUE_TOLERANCE, flat_h1
    capped = solve(baseline.with_updates({"velocity.hit_cap_post_acceleration": 1.0}))
    k = capped.knobs
    value = value_of_slowing(capped)
    before = value[value.period.isin(k.loc[k.regime == PRE, "period"])]
    terms = before.groupby("term").value.sum()
    assert terms["total"] > 0, terms
    assert terms["safety_difficulty"] > terms["total"] - terms["safety_difficulty"], terms


def test_h1_others_following_before_the_switch_no_longer_flips_it(flat_h1):
    """A finding: with others following Magma's slowdown (60% relief before the switch as after
    it) and a flat safety difficulty, lifting the pre-switch cap still buys (almost) nothing: the
    pre-switch half of H1 holds as on the flat scenario. The relief raises what slowing after the
    switch pays (holding post-switch hits to 5% costs 0.85% of the risk reduction against 0.48%
    without it), but on the calibrated hazards not above H1_POST_GAIN_MIN (1%): H1 fails by its
    post-switch half here, as on the flat scenario (margins -0.15 and -0.52 points,
    docs/model.md, "Heuristics on the baseline"), not by the half the counter aims at."""
    result = h1(counter("others_follow", flat=True))
    assert result.pre_gain < H1_PRE_GAIN_MAX, result
    assert result.pre_margin > VALUE_TOLERANCE, result
    assert result.post_gain > flat_h1.post_gain + VALUE_TOLERANCE, (result, flat_h1)
    assert result.verdict == FAILS, result
    assert result.margin == pytest.approx(result.post_margin), result


def test_h2_holds_on_the_baseline(baseline_result):
    result = h2(baseline_result)
    assert result.preparation_share_pre > 0.9, result
    assert result.mitigation_share_post > result.mitigation_share_pre, result
    assert result.verdict == HOLDS
    assert result.margin > SHARE_TOLERANCE, result


def test_h2_holds_even_when_ai_is_dangerous_before_acceleration(flat_result):
    """A finding: on the flat safety difficulty, 25x the hazard before the switch moves safety
    resources to mitigation before it (the margin shrinks), but preparation still dominates and
    mitigation's share still rises after the switch."""
    reference = h2(flat_result)
    result = h2(solve(counter("dangerous_early", flat=True)))
    assert result.mitigation_share_pre > reference.mitigation_share_pre + SHARE_TOLERANCE
    assert result.margin < reference.margin - SHARE_TOLERANCE, (result, reference)
    assert result.verdict == HOLDS, result
    assert result.margin > SHARE_TOLERANCE, result


def test_h2_dangerous_early_moves_nothing_to_mitigation_on_the_baseline(baseline_result):
    """A finding: with the safety difficulty growing, 25x the calibrated pre-switch hazard
    (0.12-0.30% a year, so 2.9-7.4%) takes nothing from preparation before the switch:
    elicitation readiness and security keep every pre-switch safety resource, as on the
    baseline, and H2 holds with the baseline's margin (mitigation's share after the switch)."""
    reference = h2(baseline_result)
    result = h2(solve(counter("dangerous_early")))
    assert result.mitigation_share_pre <= SHARE_TOLERANCE, result
    assert reference.mitigation_share_pre <= SHARE_TOLERANCE, reference
    assert result.verdict == HOLDS, result
    assert result.margin == pytest.approx(reference.margin, abs=SHARE_TOLERANCE), (
        result,
        reference,
    )


def test_h3_ties_on_the_baseline_by_resources_and_holds_by_value(baseline_result):
    """Before the switch the baseline prepares elicitation (P1) and security (P2) only: P0 ties
    at zero with the other groups by resources, and is third by value."""
    result = h3(baseline_result)
    assert result.preparation_by_group.index[0] == "P1", result.preparation_by_group
    assert result.preparation_by_group["P0"] <= SHARE_TOLERANCE, result.preparation_by_group
    assert result.verdict == TIE
    assert abs(result.margin) <= SHARE_TOLERANCE, result.preparation_by_group
    assert not result.holds
    assert set(result.top_three_by_value) == {"P0", "P1", "P2"}, result.value_by_group
    assert result.verdict_by_value == HOLDS
    assert result.margin_by_value > VALUE_TOLERANCE, result.value_by_group
    # withholding a group never raises the risk reduction beyond the outer loop's accuracy
    assert (result.value_by_group > -VALUE_TOLERANCE).all(), result.value_by_group


def test_h3_holds_by_resources_with_a_flat_safety_difficulty(flat_result):
    result = h3(flat_result, by_value=False)
    assert set(result.top_three) == {"P0", "P1", "P2"}, result.preparation_by_group
    assert result.verdict == HOLDS
    assert result.margin > SHARE_TOLERANCE, result.preparation_by_group


@pytest.mark.parametrize(
    ("name", "dropped", "measured"),
    [
        ("security_short_lead", "P2", NOT_APPLICABLE),
        ("no_elicitation_needed", "P1", TIE),
    ],
)
def test_h3_no_longer_holds_when_its_reason_is_removed(name, dropped, measured, flat_result):
    """On the flat safety difficulty, where H3 holds, with the counter-scenario's change only:
    the group whose reason is removed is no longer prepared before the switch at all, and H3 no
    longer holds. On the calibrated hazards with the tail's salvage no other group takes its
    place (docs/model.md, "Heuristics on the baseline"): without elicitation readiness needed,
    P1 ties at zero for third place with the groups outside P0-P2 (a tie, margin 0); with
    security needing no lead time the pre-switch safety spending all but vanishes (0.03% of
    resources, under MIN_SAFETY_SHARE), so H3 is not applicable rather than failed."""
    reference = h3(flat_result, by_value=False).preparation_by_group
    result = h3(solve(counter(name, flat=True)), by_value=False)
    shares = result.preparation_by_group
    assert reference[dropped] > 10 * SHARE_TOLERANCE, reference
    assert shares[dropped] <= SHARE_TOLERANCE, shares
    assert result.verdict == measured, (result.preparation_share_pre, shares)
    if measured == NOT_APPLICABLE:
        assert result.preparation_share_pre < MIN_SAFETY_SHARE, result.preparation_share_pre
    else:
        assert abs(result.margin) <= SHARE_TOLERANCE, shares
    assert not result.holds


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
