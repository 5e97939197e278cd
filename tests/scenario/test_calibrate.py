"""The calibration reads both risk milestones one way: as the probability of catastrophe with no
safety work accumulated to the milestone (allocopt/scenario/calibrate.py, docs/calibration.md)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from allocopt.scenario.calibrate import calibrate, cumulative_hazard, hazard_anchors
from allocopt.scenario.periods import Periods
from tests.conftest import ROOT

ANCHORS = pd.read_csv(ROOT / "data" / "anchors.csv")
BY_NAME = {name: group for name, group in ANCHORS.groupby("name")}


def test_a_log_linear_segment_integrates_exactly() -> None:
    years, rates = np.array([0.0, 2.0]), np.array([0.1, 0.4])
    fine = np.linspace(0.0, 1.5, 200_001)
    numeric = np.trapezoid(0.1 * 4 ** (fine / 2), fine)
    assert cumulative_hazard(years, rates, 1.5) == pytest.approx(numeric, rel=1e-9)
    assert cumulative_hazard(np.array([0.0, 1.0]), np.array([0.2, 0.2]), 1.0) == 0.2


def test_each_milestone_is_crossed_at_its_date() -> None:
    anchors = hazard_anchors(BY_NAME)
    years, rates = anchors.year.to_numpy(), anchors.value.to_numpy()
    for year, target in BY_NAME["risk_by"][["year", "value"]].itertuples(index=False):
        probability = -math.expm1(-cumulative_hazard(years, rates, year))
        assert probability == pytest.approx(target, rel=1e-9)


def test_the_bundled_hazards_are_the_calibrations_output_with_sources() -> None:
    periods = Periods.from_horizon("2025Q1", "2029Q4", "quarter")
    written = pd.read_csv(ROOT / "data" / "hazards.csv")
    made = calibrate(ANCHORS, periods)["hazards"]
    pd.testing.assert_frame_equal(written, made)
    assert written.source.str.contains("risk_by").all()
    total = written.groupby("period", sort=False).hazard_per_year.sum().to_numpy()
    by_2029 = -math.expm1(-(total[:16] * 0.25).sum())  # 2025Q1-2028Q4, midpoint hazards
    assert by_2029 == pytest.approx(0.5, abs=0.01)  # "superdangerous": an even chance
