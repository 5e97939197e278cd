"""The essay's heuristics as results of the model: they hold on the baseline, and each fails in a
counter-scenario whose header (models/counter_*.yaml) says why."""

from __future__ import annotations

import pytest

from allocopt import load_scenario, solve
from allocopt.analyses.heuristics import H1_POST_GAIN_MIN, H1_PRE_GAIN_MAX, h1, h2, h3
from tests.conftest import ROOT


def counter(name: str):
    return load_scenario(ROOT / "models" / f"counter_{name}.yaml")


def test_h1_holds_on_the_baseline(baseline):
    result = h1(baseline)
    # before the switch, lifting the 5% cap buys (almost) nothing; after it, slowing pays
    assert result.pre_gain < H1_PRE_GAIN_MAX, result
    assert result.post_gain > H1_POST_GAIN_MIN, result
    assert result.holds


def test_h1_fails_when_others_follow_magma_before_acceleration():
    result = h1(counter("others_follow"))
    assert result.pre_gain > H1_PRE_GAIN_MAX, result
    assert result.max_pre_hit_lifted > 0.2, result  # the optimum slows hard before the switch
    assert not result.holds


def test_h2_holds_on_the_baseline(baseline_result):
    result = h2(baseline_result)
    assert result.preparation_share_pre > 0.9, result
    assert result.mitigation_share_post > result.mitigation_share_pre, result
    assert result.holds


def test_h2_fails_when_ai_is_dangerous_before_acceleration():
    result = h2(solve(counter("dangerous_early")))
    assert result.mitigation_share_pre > 0.2, result
    assert not result.holds


def test_h3_holds_on_the_baseline(baseline_result):
    result = h3(baseline_result)
    assert set(result.top_three) == {"P0", "P1", "P2"}, result.preparation_by_group
    assert result.holds


@pytest.mark.parametrize(
    ("name", "dropped"),
    [
        ("security_short_lead", "P2"),
        ("no_elicitation_needed", "P1"),
    ],
)
def test_h3_fails_when_its_reason_is_removed(name, dropped):
    result = h3(solve(counter(name)))
    assert dropped not in result.top_three, result.preparation_by_group
    assert not result.holds
