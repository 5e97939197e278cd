"""Figures draw the data they are given: stacked heights, lines and markers read back from the
artists equal the result's tables."""

from __future__ import annotations

import dataclasses

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from allocopt.plot.save import save_figure
from allocopt.plot.schedule import (
    FIGURES,
    period_edges,
    plot_knobs,
    plot_portfolio,
    plot_preparation,
    plot_risk,
    plot_schedule,
    plot_velocity,
    risk_table,
)
from allocopt.results.names import CATEGORY_LABELS, PALETTE
from allocopt.results.wide import schedule_table, status_marker
from allocopt.scenario.tables import CATEGORIES

matplotlib.use("Agg")


def _by_gid(fig: Figure, gid: str) -> list:
    return [
        a for ax in fig.axes for a in (*ax.collections, *ax.lines, *ax.texts) if a.get_gid() == gid
    ]


def _stack_height(fig: Figure, gids: list[str], labels: pd.Index) -> np.ndarray:
    """Height reached by the stacked areas ``gids`` in the middle of each period, found by
    bisection on whether one of their polygons contains the point."""
    paths = [area.get_paths()[0] for gid in gids for area in _by_gid(fig, gid)]
    assert len(paths) == len(gids)
    edges = mdates.date2num(period_edges(labels))
    heights = []
    for mid in (edges[:-1] + edges[1:]) / 2:
        low, high = 0.0, max(p.vertices[:, 1].max() for p in paths) + 1
        for _ in range(80):
            y = (low + high) / 2
            inside = any(p.contains_point((mid, y)) for p in paths)
            low, high = (y, high) if inside else (low, y)
        heights.append(low)
    return np.array(heights)


def _step_ydata(fig: Figure, gid: str) -> np.ndarray:
    (line,) = _by_gid(fig, gid)
    return np.asarray(line.get_ydata(), dtype=float)[:-1]  # the last point closes the final step


def test_every_category_has_its_own_colour_and_label():
    assert set(PALETTE) >= set(CATEGORY_LABELS) >= set(CATEGORIES)
    colours = [PALETTE[c] for c in CATEGORY_LABELS]
    assert len(set(colours)) == len(colours)


@pytest.mark.parametrize("resource", ["compute", "staff"])
def test_schedule_stack_top_is_the_resource_total(baseline_result, resource):
    fig = plot_schedule(baseline_result, resource)
    alloc = baseline_result.allocation
    totals = alloc[alloc.resource == resource].groupby("period", sort=False).value.sum()
    top = _stack_height(fig, [a.get_gid() for a in fig.axes[0].collections], totals.index)
    np.testing.assert_allclose(top, totals.to_numpy(), rtol=1e-9)
    unit, other = {"compute": ("kH100e", "FTE"), "staff": ("FTE", "kH100e")}[resource]
    label = fig.axes[0].get_ylabel()
    assert f"({unit})" in label
    assert other not in label
    assert set(alloc[alloc.resource == resource].unit) == {unit}


def test_safety_only_schedule_tops_out_at_the_safety_total(baseline_result):
    fig = plot_schedule(baseline_result, "staff", safety_only=True)
    wide = schedule_table(baseline_result, "staff").drop(columns=("capabilities", "capabilities"))
    safety = wide.sum(axis=1)
    np.testing.assert_allclose(
        _stack_height(fig, [f"{c}:{m}" for c, m in wide.columns], wide.index),
        safety.to_numpy(),
        rtol=1e-9,
    )
    assert not _by_gid(fig, "capabilities:capabilities")


def test_schedule_layers_use_the_category_colour(baseline_result):
    fig = plot_schedule(baseline_result, "compute")
    (area,) = _by_gid(fig, "safety_distribution:preparation")
    assert matplotlib.colors.to_hex(area.get_facecolor()[0]) == PALETTE["safety_distribution"]


def test_schedule_rejects_an_unknown_resource(baseline_result):
    with pytest.raises(ValueError, match="resource must be one of"):
        plot_schedule(baseline_result, "money")


def test_velocity_hit_line_and_cap_equal_the_knobs(baseline_result):
    fig = plot_velocity(baseline_result)
    knobs = baseline_result.knobs
    np.testing.assert_allclose(_step_ydata(fig, "velocity_hit"), knobs.velocity_hit)
    np.testing.assert_allclose(_step_ydata(fig, "velocity_hit_cap"), knobs.velocity_hit_cap)
    (switch,) = _by_gid(fig, "regime_switch")
    first_post = knobs.period[knobs.regime == "post_acceleration"].iloc[0]
    assert switch.get_xdata()[0] == pd.Period(first_post).start_time


def test_preparation_area_is_the_preparation_share(baseline_result):
    fig = plot_preparation(baseline_result)
    knobs = baseline_result.knobs
    top = _stack_height(fig, ["preparation"], knobs.period)
    np.testing.assert_allclose(top, knobs.preparation_share, atol=1e-12)
    # mitigation fills the rest
    np.testing.assert_allclose(_stack_height(fig, ["preparation", "mitigation"], knobs.period), 1)


def test_preparation_leaves_periods_without_safety_work_blank(baseline_result):
    knobs = baseline_result.knobs.copy()
    knobs.loc[0, ["safety_share_compute", "safety_share_staff", "preparation_share"]] = 0.0
    fig = plot_preparation(dataclasses.replace(baseline_result, knobs=knobs))
    height = _stack_height(fig, ["preparation", "mitigation"], knobs.period)
    assert height[0] == 0
    np.testing.assert_allclose(height[1:], 1)


def test_portfolio_layers_stack_the_category_shares(baseline_result):
    fig = plot_portfolio(baseline_result)
    wide = baseline_result.portfolio.pivot(index="period", columns="category", values="share")
    wide = wide.reindex(baseline_result.knobs.period)
    cumulative = wide[list(CATEGORIES)].cumsum(axis=1)
    for k, category in enumerate(CATEGORIES):
        height = _stack_height(fig, list(CATEGORIES[: k + 1]), wide.index)
        np.testing.assert_allclose(height, cumulative[category], atol=1e-12)


def test_risk_lines_equal_the_hazards_and_end_at_the_summary_probabilities(baseline_result):
    fig = plot_risk(baseline_result)
    table = risk_table(baseline_result)
    summary = baseline_result.summary
    assert fig.axes[0].get_yscale() == "log"  # the baseline hazard spans three decades
    for plan in ("without_plan", "with_plan"):
        np.testing.assert_allclose(_step_ydata(fig, f"hazard_{plan}"), table[f"hazard_{plan}"])
        (line,) = _by_gid(fig, f"probability_{plan}")
        assert line.get_ydata()[0] == 0
        assert line.get_ydata()[-1] == pytest.approx(summary[f"probability_{plan}"], rel=1e-9)
    # at the horizon both sides include the risk past it, and the text gives both values
    for plan in ("with_plan", "without_plan"):
        (dot,) = _by_gid(fig, f"probability_{plan}_and_postponed")
        assert dot.get_ydata()[0] == summary[f"probability_{plan}_and_postponed"]
        assert dot.get_ydata()[0] > summary[f"probability_{plan}"]  # risk lies past the horizon
    (said,) = _by_gid(fig, "past_the_horizon")
    assert f"{summary['probability_without_plan_and_postponed']:.1%} without" in said.get_text()
    assert f"{summary['probability_with_plan_and_postponed']:.1%} with" in said.get_text()
    assert "per period" not in fig.axes[0].get_title()  # the axis is per year


def test_knobs_page_has_the_three_knobs(baseline_result):
    fig = plot_knobs(baseline_result)
    assert len(fig.axes) == 3
    assert _by_gid(fig, "velocity_hit")
    assert _by_gid(fig, "preparation")
    assert all(_by_gid(fig, c) for c in CATEGORIES)


def test_a_non_optimal_result_is_marked_in_every_title(baseline_result):
    stopped = dataclasses.replace(baseline_result, status="time_limit")
    assert status_marker(baseline_result) == ""
    assert status_marker(stopped) == "NOT OPTIMAL (time_limit)"
    for draw in FIGURES.values():
        fig = draw(stopped)
        titles = [ax.get_title(loc="left") for ax in fig.axes]
        assert all("NOT OPTIMAL (time_limit)" in t for t in titles), titles


def test_dates_on_the_time_axis(baseline_result):
    fig = plot_velocity(baseline_result)
    left, right = fig.axes[0].get_xlim()
    assert mdates.num2date(left).date().isoformat() == "2025-01-01"
    assert mdates.num2date(right).date().isoformat() == "2030-01-01"
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert "2027" in labels


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_the_same_result_gives_the_same_figure_bytes(baseline_result, tmp_path, suffix):
    first = save_figure(plot_portfolio(baseline_result), tmp_path / f"a{suffix}").read_bytes()
    second = save_figure(plot_portfolio(baseline_result), tmp_path / f"b{suffix}").read_bytes()
    assert first == second
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"a{suffix}", f"b{suffix}"]


def test_save_figure_refuses_an_unknown_format(baseline_result, tmp_path):
    with pytest.raises(ValueError, match="figure format"):
        save_figure(plot_portfolio(baseline_result), tmp_path / "a.gif")
    assert not list(tmp_path.iterdir())


def test_a_given_axes_is_drawn_into(baseline_result):
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_velocity(baseline_result, ax=ax) is fig
    assert _by_gid(fig, "velocity_hit")


def test_period_edges_cover_quarters_years_and_months():
    assert list(period_edges(["2025Q4"]).strftime("%Y-%m-%d")) == ["2025-10-01", "2026-01-01"]
    assert list(period_edges(["2025", "2026"]).year) == [2025, 2026, 2027]
    assert list(period_edges(["2025-12"]).strftime("%Y-%m")) == ["2025-12", "2026-01"]


def test_a_category_without_resources_says_so_in_the_legend(baseline_result):
    # on the baseline AI defense gets nothing in any quarter (docs/model.md): its entry says so
    # instead of showing a colour that no area has
    fig = plot_portfolio(baseline_result)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    share = baseline_result.portfolio.groupby("category").share.sum()
    for category in CATEGORIES:
        (shown,) = [t for t in labels if t.startswith(CATEGORY_LABELS[category])]
        assert shown.endswith(" (none)") == (share.get(category, 0.0) == 0), shown
    assert share.get("ai_defense", 0.0) == 0
