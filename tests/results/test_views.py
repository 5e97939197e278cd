"""The Result in Python: a short repr and an HTML one, the xarray view with units and its netCDF
file, periods as pandas Periods, a typed summary and a unit for every wide table's column."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from allocopt.numeric.inputs import prepare
from allocopt.numeric.simulate import simulate
from allocopt.results.names import CATEGORY_LABELS, HEADLINE
from allocopt.results.result import past_horizon_hazard
from allocopt.results.views import COLUMN_UNITS, SUMMARY_UNITS


def test_the_repr_is_a_few_lines_with_the_headline(baseline_result):
    text = repr(baseline_result)
    assert len(text.splitlines()) <= 8
    assert len(text) < 800
    s = baseline_result.summary
    assert "magma_baseline" in text
    assert "optimal" in text
    for side in ("without", "with"):  # both pairs, each on one basis
        within, past = s[f"probability_{side}_plan"], s[f"probability_{side}_plan_and_postponed"]
        assert f"{within:.2%}" in text
        assert f"{past:.2%}" in text
    assert "DataFrame" not in text
    assert "Scenario(" not in text


def test_the_html_repr_escapes_and_marks_a_non_optimal_result(baseline_result):
    odd = dataclasses.replace(baseline_result, scenario_name="<i>x</i>", status="time_limit")
    page = odd._repr_html_()
    assert "<i>x</i>" not in page
    assert "&lt;i&gt;x&lt;/i&gt;" in page
    assert "NOT OPTIMAL (time_limit" in page
    assert page.startswith("<div>")
    assert "<table>" in page


def test_to_xarray_has_period_activity_resource_and_units(baseline_result):
    ds = baseline_result.to_xarray()
    assert ds.allocation.dims == ("period", "activity", "resource")
    assert isinstance(ds.indexes["period"], pd.PeriodIndex)
    alloc = baseline_result.allocation
    row = alloc[(alloc.resource == "staff") & (alloc.activity != "capabilities")].iloc[5]
    value = ds.allocation.sel(period=pd.Period(row.period), activity=row.activity, resource="staff")
    assert float(value) == row.value
    assert float(ds.allocation.sel(activity="capabilities", resource="effort").isnull().all())
    assert "FTE" in ds.allocation.attrs["units"]
    assert ds.unit.sel(resource="compute").item() == "kH100e"
    for name, variable in ds.data_vars.items():
        assert variable.attrs.get("units") or name == "regime", name
    np.testing.assert_array_equal(ds.velocity_hit.to_numpy(), baseline_result.knobs.velocity_hit)
    assert ds.attrs["scenario"] == "magma_baseline"
    assert ds.attrs["version_highspy"] == baseline_result.versions["highspy"]


def test_netcdf_reads_back_the_same_numbers(baseline_result, tmp_path):
    path = baseline_result.to_netcdf(tmp_path / "result.nc")
    with xr.open_dataset(path, engine="h5netcdf") as back:
        ds = baseline_result.to_xarray()
        np.testing.assert_array_equal(back.allocation.to_numpy(), ds.allocation.to_numpy())
        assert list(back.period.to_numpy()) == list(ds.indexes["period"].astype(str))
        assert back.risk_reduction_exact == pytest.approx(
            baseline_result.summary["risk_reduction_exact"]
        )
        assert back.hazard_with_plan.attrs["units"] == "per year"
    assert [p.name for p in tmp_path.iterdir()] == ["result.nc"]


def test_tables_give_periods_as_pandas_periods_on_request(baseline_result):
    text = baseline_result.tables()
    periods = baseline_result.tables(as_periods=True)
    assert text["allocation"].period.iloc[0] == "2025Q1"
    assert isinstance(periods["allocation"].period.dtype, pd.PeriodDtype)
    assert periods["knobs"].period.iloc[4] == pd.Period("2026Q1")
    assert baseline_result.allocation.period.iloc[0] == "2025Q1"  # the result is not changed


def test_the_summary_table_is_typed_with_units(baseline_result):
    summary = baseline_result.tables()["summary"]
    assert list(summary.columns) == ["key", "value", "text", "unit"]
    assert summary.value.dtype == np.float64
    rows = summary.set_index("key")
    assert (
        rows.loc["probability_with_plan", "value"]
        == baseline_result.summary["probability_with_plan"]
    )
    assert rows.loc["probability_with_plan", "unit"] == "probability"
    assert rows.loc["regime_switch_period", "text"] == "2026Q1"
    assert np.isnan(rows.loc["regime_switch_period", "value"])
    numeric = [k for k, v in baseline_result.summary.items() if not isinstance(v, str)]
    assert set(numeric) <= set(SUMMARY_UNITS)


def test_every_numeric_column_of_the_wide_tables_has_a_unit(baseline_result):
    units = baseline_result.tables()["units"]
    for name in COLUMN_UNITS:
        frame = baseline_result.tables()[name]
        numeric = {c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])}
        listed = set(units[units.table == name].column)
        assert numeric <= listed, (name, numeric - listed)
        assert listed <= set(frame.columns), name


def test_every_table_of_a_result_has_its_units(baseline_result):
    # a tidy table carries a unit column; every other (but the units themselves) is listed in
    # the units table, the starts too
    tables = baseline_result.tables()
    wide = {name for name, frame in tables.items() if "unit" not in frame.columns}
    assert wide - {"units"} == set(tables["units"].table) == set(COLUMN_UNITS)
    assert {"knobs", "iterations", "starts"} <= wide


def test_the_headline_numbers_have_one_name_label_and_unit_everywhere(baseline_result):
    s, text = baseline_result.summary, baseline_result.text_summary()
    for name, (label, unit) in HEADLINE.items():
        assert name in s
        assert SUMMARY_UNITS[name] == unit
        beside = name in ("risk_reduction_model", "probability_reduction_relative")
        assert label in text or beside  # those two are printed beside their sibling
    # the baseline counts a tail past the horizon: without safety work it adds risk too, and the
    # reduction compares both sides including it
    assert s["probability_without_plan_and_postponed"] > s["probability_without_plan"]
    without = s["probability_without_plan_and_postponed"]
    reduction = without - s["probability_with_plan_and_postponed"]
    assert s["probability_reduction_points"] == pytest.approx(100 * reduction, rel=1e-9)
    relative = reduction / without
    assert s["probability_reduction_relative"] == pytest.approx(relative, rel=1e-9)


def test_the_summary_says_the_survival_ratio_and_how_often_the_cap_binds(baseline_result):
    s, text = baseline_result.summary, baseline_result.text_summary()
    without = 1 - s["probability_without_plan_and_postponed"]
    with_plan = 1 - s["probability_with_plan_and_postponed"]
    # the cut in cumulative hazard is the logarithm of the survival ratio, exactly
    assert math.log(with_plan / without) == pytest.approx(s["risk_reduction_exact"], rel=1e-9)
    assert f"{without:.2%} without safety work, {with_plan:.2%} with the plan" in text
    assert f"({math.exp(s['risk_reduction_exact']):.2f} times" in text
    k = baseline_result.knobs
    post = k[k.regime == "post_acceleration"]
    at_cap = int((post.velocity_hit >= post.velocity_hit_cap - 1e-6).sum())
    assert 0 < at_cap < len(post)  # the baseline's hit dips below the cap in 2029Q2-Q3
    cap = post.velocity_hit_cap.iloc[0]
    assert f"(at its {cap:.0%} cap in {at_cap} of {len(post)} periods)" in text
    # the third knob: the portfolio's mean shares, largest first, named as the figures name them
    mix = baseline_result.portfolio.groupby("category").share.mean().sort_values(ascending=False)
    said = ", ".join(f"{CATEGORY_LABELS[c]} {v:.0%}" for c, v in mix.items())
    assert f"safety portfolio (mean share of safety resources per period): {said}" in text
    assert "nothing past the horizon is counted" not in text  # the baseline counts its tail


def test_the_summary_leads_with_the_objective_and_says_why_the_points_are_few(baseline_result):
    s, lines = baseline_result.summary, baseline_result.text_summary().splitlines()
    # the first number a reader meets is the objective, the cut in cumulative hazard
    assert lines[1].startswith(f"  {HEADLINE['risk_reduction_exact'][0]}: ")
    assert "the objective" in lines[1]
    # the hazard past the horizon without safety work is the tail the simulator adds past it
    inp = prepare(baseline_result.scenario)
    tail = float(simulate(inp, baseline_result.schedule).tail_full.sum())
    assert tail > 1  # the baseline's year past the horizon: enough to saturate the probabilities
    assert past_horizon_hazard(s) == pytest.approx(tail, rel=1e-6)
    assert f"the risk past the horizon adds {tail:.2f} in cumulative hazard" in "\n".join(lines)


def test_a_scenario_without_a_tail_says_nothing_past_the_horizon_is_counted(core_result):
    assert "nothing past the horizon is counted here" in core_result.text_summary()
