"""Exploration figures draw the data they are given."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from allocopt.analyses.sweep import measure_label
from allocopt.plot.explore import (
    FIGURE_OUTCOMES,
    plot_duals,
    plot_heatmap,
    plot_tornado,
    save_sweep,
    sweep_parameters,
)
from allocopt.results.names import label, unit


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
    assert note.get_text().startswith(f"{label('risk_reduction_exact')}\ndoes not move over")
    plt.close("all")


def test_heatmap_shows_the_grid_values():
    table = _table(["grid"] * 4, [0, 0, 1, 1], [0, 1, 0, 1], [1, 2, 3, 4])
    ax = plot_heatmap(table, "a", "b")
    np.testing.assert_array_equal(ax.images[0].get_array(), [[1, 3], [2, 4]])
    colour_bar = ax.figure.axes[-1]
    assert colour_bar.get_ylabel().replace("\n", " ") == measure_label("risk_reduction_exact")
    plt.close("all")


@pytest.mark.parametrize("outcome", FIGURE_OUTCOMES)
def test_tornado_axis_names_the_outcome_by_its_label_and_unit(outcome):
    """The axis speaks the summary's words (label and unit), never the raw column name."""
    table = _table(["base", "a", "a"], [1, 0, 2], [5, 5, 5], [1.0, 0.5, 1.2])
    table[outcome] = [0.1, 0.05, 0.2]
    ax = plot_tornado(table, outcome)
    assert outcome not in ax.get_xlabel() + ax.get_title()
    assert ax.get_xlabel().replace("\n", " ") == measure_label(outcome)
    plt.close("all")


def test_the_headline_measures_take_the_headline_label_and_unit():
    name = "risk_reduction_exact"
    assert measure_label(name) == f"{label(name)}, in {unit(name)}"
    assert measure_label("velocity_hit_post_acceleration").endswith("in share of full speed")
    assert measure_label("a") == "a"  # any other column as it is


def test_save_sweep_writes_table_and_figures(tmp_path):
    table = _table(["grid"] * 4, [0, 0, 1, 1], [0, 1, 0, 1], [1, 2, 3, 4])
    table = table.assign(velocity_hit_post_acceleration=0.1, preparation_share_pre_acceleration=0.9)
    assert sweep_parameters(table) == ["a", "b"]
    names = sorted(p.name for p in save_sweep(table, tmp_path / "out", "grid"))
    assert names[-2:] == ["sweep.csv", "units.csv"]
    assert "manifest.json" in names
    assert "heatmap_risk_reduction_exact.png" in names
    assert pd.read_csv(tmp_path / "out" / "sweep.csv").equals(table)
    units = pd.read_csv(tmp_path / "out" / "units.csv").set_index("column").unit
    assert list(units.index) == ["a", "b", *FIGURE_OUTCOMES]  # every numeric column
    assert units["velocity_hit_post_acceleration"] == "share of full speed"
