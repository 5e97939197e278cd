"""Results do not depend on the units of the inputs: tiny hazards reach the same optimum, scaled,
and are written with their digits; resources in tiny units give the same schedule, with duals
in their units (issue 17, item 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import allocopt
from allocopt.model.budget import RESOURCE_BAND, resource_scale
from allocopt.optimize.highs.options import COST_BAND, objective_scale
from allocopt.results.result import keep_digits
from tests.conftest import in_units

HAZARDS = ("risk.hazard_multiplier_pre_acceleration", "risk.hazard_multiplier_post_acceleration")


def with_hazards_times(scenario, s: float):
    return scenario.with_updates(dict.fromkeys(HAZARDS, s))


@pytest.mark.parametrize("s", [1e-7, 1e-6, 2.5e2])
def test_scaled_hazards_give_the_scaled_optimum(core, core_result, s, tmp_path):
    """The issue's example (1e-7: 11.7% short before), another tiny scale and a large one; the
    risk table written keeps the hazards' digits (it rounded to 12 decimal places)."""
    result = allocopt.solve(with_hazards_times(core, s))
    assert result.is_optimal
    assert result.objective_model == pytest.approx(s * core_result.objective_model, rel=1e-6)
    exact = result.summary["risk_reduction_exact"]
    assert exact == pytest.approx(s * core_result.summary["risk_reduction_exact"], rel=1e-6)
    result.to_csv(tmp_path)
    written = pd.read_csv(tmp_path / "risk.csv")
    unscaled = core_result.risk
    for column in ("hazard_before_safety", "hazard_with_plan"):
        assert (written[column] > 0).all()
        np.testing.assert_allclose(written[column], s * unscaled[column], rtol=1e-6)


def test_objective_scale_moves_the_median_cost_into_the_band():
    low, high = COST_BAND
    assert objective_scale([0.0, 2.0**low, 2.0**high]) == 0  # inside: left alone
    assert objective_scale([0.0, 2.0**-40, -(2.0**-40), 1.0]) == low + 40
    assert objective_scale([2.0**12, 2.0**12]) == high - 12
    assert objective_scale([0.0, 0.0]) == 0
    for cost in ([3e-13, 1e-12, 7e-12], [1e9, -4e8], [1e-3, 5e-2]):
        median = np.median(np.abs(cost)) * 2.0 ** objective_scale(cost)
        assert 2.0 ** (low - 1) <= median <= 2.0 ** (high + 1)


def test_keep_digits_keeps_twelve_places_and_nine_significant_digits():
    values = np.array([0.123456789012345, 1.2345678901234e-9, 0.0, -3.33333333333e-15, np.nan])
    kept = keep_digits(values)
    assert kept[0] == round(values[0], 12)  # as before: 12 decimal places
    assert kept[1] == pytest.approx(1.23456789e-9, rel=1e-12)
    assert kept[3] == pytest.approx(-3.33333333e-15, rel=1e-12)
    assert kept[2] == 0.0
    assert np.isnan(kept[4])
    assert values[1].round(12) == 1.235e-9  # what rounding to places alone kept


def test_resource_scale_brings_the_first_budget_into_the_band():
    low, high = RESOURCE_BAND
    budget = np.array([[112.0, 1564.0], [200.0, 3000.0]])  # the baseline's: left alone
    np.testing.assert_array_equal(resource_scale(budget), [1.0, 1.0])
    for first in (1.1e-8, 3e-3, 0.7, 5e3, 2e9):
        factor = resource_scale(np.array([[first, first]]))
        assert np.log2(factor[0]) == int(np.log2(factor[0]))  # a power of two: exact
        assert 2.0**low <= first * factor[0] <= 2.0**high


UNITS = {"compute": 1e-9, "staff": 1e-8}  # both far below HiGHS's tolerances unscaled


def test_duals_stay_in_user_units(core, core_result):
    """In units k_r times smaller, a resource row's dual (risk reduction per unit of resource)
    is the old one divided by k_r, the velocity-hit price (resource per unit of cap) the old one
    times k_r, the velocity-hit dual unchanged. (Stock duals are left out: the LP's dual
    solution is not unique there, and they differ between equivalent programs even for a unit
    change of 0.5 that no row's scale follows.)"""
    result = allocopt.solve(in_units(core, UNITS))
    assert result.is_optimal
    assert result.objective_model == pytest.approx(core_result.objective_model, rel=1e-6)
    mine, theirs = result.duals, core_result.duals
    pd.testing.assert_frame_equal(mine.drop(columns="value"), theirs.drop(columns="value"))
    k = mine.resource.map(UNITS).fillna(1.0).to_numpy()
    price = (mine.constraint == "velocity_hit_price").to_numpy()  # resource per unit of cap
    expected = theirs.value.to_numpy() * np.where(price, k, 1 / k)
    kept = (mine.constraint != "stock_balance").to_numpy() & ~np.isnan(expected)
    assert (mine.constraint[kept] == "budget_limit").sum() > 0
    assert (np.abs(expected[kept]) > 1e-9).sum() > 10
    np.testing.assert_allclose(mine.value[kept], expected[kept], rtol=1e-5, atol=1e-12)


def test_endogenous_baseline_in_tiny_units(baseline):
    """The endogenous program (outer loop, a short horizon) with both resources in units far
    below HiGHS's tolerances: the same effort and optimum. (Hazards are left alone: the outer
    loop's merit weighs constraint excess absolutely, docs/model.md, Units and scaling.)"""
    # converges in a few seconds; the tie-break off: two ties within its tolerance may differ
    short = baseline.with_updates({"horizon.end": "2027Q4", "solver.smooth_tolerance": None})
    one = allocopt.solve(short)
    two = allocopt.solve(in_units(short, UNITS))
    assert two.status == one.status
    assert two.objective_model == pytest.approx(one.objective_model, rel=1e-9)
    effort = one.schedule.effort
    np.testing.assert_allclose(two.schedule.effort, effort, rtol=1e-6, atol=1e-6 * effort.max())
