"""Exploration figures draw the data they are given."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from allocopt.plot.explore import (
    plot_duals,
    plot_heatmap,
    plot_tornado,
    save_sweep,
    sweep_parameters,
)


def _table(varied: list[str], a: list[float], b: list[float], risk: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "point": range(len(a)),
            "varied": varied,
            "a": a,
            "b": b,
            "status": "optimal",
            "risk_reduction_exact": risk,
        }
    )


def test_duals_plot_draws_one_line_per_resource(core_result):
    ax = plot_duals(core_result.duals)
    assert len(ax.lines) == 2
    budget = core_result.duals[core_result.duals.constraint == "budget_limit"]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), budget.value[budget.resource == "compute"])
    assert ax.get_legend_handles_labels()[1] == [
        "compute (risk reduction per kH100e)",
        "staff (risk reduction per FTE)",
    ]
    with pytest.raises(ValueError, match="no duals"):
        plot_duals(core_result.duals, "nope")
    plt.close("all")


def test_tornado_bars_span_each_parameter_range():
    table = _table(
        ["base", "a", "a", "b", "b"], [1, 0, 2, 1, 1], [5, 5, 5, 4, 6], [1.0, 0.5, 1.2, 0.9, 1.05]
    )
    ax = plot_tornado(table)
    widths = sorted(round(p.get_width(), 9) for p in ax.patches)
    assert widths == sorted([0.2, -0.5, 0.05, -0.1])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]  # widest on top
    plt.close("all")


def test_tornado_legend_says_the_bars_run_from_the_base_run_to_the_extremes():
    table = _table(["base", "a", "a"], [1, 0, 2], [5, 5, 5], [1.0, 0.5, 1.2])
    ax = plot_tornado(table)
    assert ax.get_legend_handles_labels()[1] == [
        "base run: 1",
        "highest over the parameter's values",
        "lowest over the parameter's values",
    ]
    assert not [t for t in ax.texts if t.get_gid() == "no_range"]  # it moves: no note
    plt.close("all")


def test_tornado_of_an_outcome_that_does_not_move_says_so():
    table = _table(["base", "a", "a", "b", "b"], [1, 0, 2, 1, 1], [5, 5, 5, 4, 6], [0.7] * 5)
    ax = plot_tornado(table)
    (note,) = [t for t in ax.texts if t.get_gid() == "no_range"]
    assert note.get_text().startswith("risk_reduction_exact\ndoes not move over the sweep")
    plt.close("all")


def test_heatmap_shows_the_grid_values():
    table = _table(["grid"] * 4, [0, 0, 1, 1], [0, 1, 0, 1], [1, 2, 3, 4])
    ax = plot_heatmap(table, "a", "b")
    np.testing.assert_array_equal(ax.images[0].get_array(), [[1, 3], [2, 4]])
    plt.close("all")


def test_save_sweep_writes_table_and_figures(tmp_path):
    table = _table(["grid"] * 4, [0, 0, 1, 1], [0, 1, 0, 1], [1, 2, 3, 4])
    table = table.assign(velocity_hit_post_acceleration=0.1, preparation_share_pre_acceleration=0.9)
    assert sweep_parameters(table) == ["a", "b"]
    names = sorted(p.name for p in save_sweep(table, tmp_path / "out", "grid"))
    assert names[-1] == "sweep.csv"
    assert "manifest.json" in names
    assert "heatmap_risk_reduction_exact.png" in names
    assert pd.read_csv(tmp_path / "out" / "sweep.csv").equals(table)
