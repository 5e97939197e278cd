"""Results do not depend on the units of the inputs: tiny hazards reach the same optimum, scaled,
and are written with their digits (issue 17, item 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import allocopt
from allocopt.optimize.highs import COST_BAND, objective_scale
from allocopt.results.result import keep_digits

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
