"""Figures of a scenario tree draw what the tree's tables hold: one line per branch with its
knobs, the reveals where the tree reveals them, the shared decisions before the first reveal,
and the stochastic program's values with VSS and EVPI."""

from __future__ import annotations

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pytest
from matplotlib.figure import Figure

from allocopt import load_scenario
from allocopt.analyses.tree import solve_tree
from allocopt.plot.save import save_figure
from allocopt.plot.schedule import period_edges
from allocopt.plot.tree import STAGE_COLOURS, STAGE_STYLES, plot_tree, plot_tree_values
from tests.conftest import ROOT

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def tree():
    # over the core program (one LP; the plots do not depend on the program)
    return solve_tree(
        load_scenario(ROOT / "models" / "magma_tree.yaml").with_updates({"capability": {}})
    )


@pytest.fixture(scope="module")
def plan(tree) -> Figure:
    return plot_tree(tree)


def _gids(fig: Figure, prefix: str) -> dict[str, object]:
    """Artists whose gid starts with ``prefix``, by the rest of their gid."""
    return {
        a.get_gid()[len(prefix) :]: a
        for ax in fig.axes
        for a in (*ax.lines, *ax.patches, *ax.texts, *ax.collections)
        if (a.get_gid() or "").startswith(prefix)
    }


def test_one_line_per_branch_in_each_panel_drawing_its_knobs(tree, plan):
    branches = list(tree.branches.branch)
    assert len(branches) == 6
    knobs = tree.stacked("knobs")
    for prefix, column in (("velocity_hit:", "velocity_hit"), ("preparation_share:", None)):
        lines = _gids(plan, prefix)
        assert sorted(lines) == sorted(branches)
        for branch, line in lines.items():
            expected = knobs.loc[knobs.branch == branch, column or "preparation_share"]
            np.testing.assert_allclose(np.asarray(line.get_ydata())[:-1], expected.to_numpy())
            assert line.get_label().startswith(branch)


def test_colour_follows_the_first_stage_and_style_the_second(tree, plan):
    lines = _gids(plan, "preparation_share:")
    first = list(dict.fromkeys(tree.branches.stage0))
    second = list(dict.fromkeys(tree.branches.stage1))
    for row in tree.branches.itertuples():
        line = lines[row.branch]
        assert line.get_color() == STAGE_COLOURS[first.index(row.stage0)]
        assert line.get_linestyle() == STAGE_STYLES[second.index(row.stage1)]
    assert len({line.get_color() for line in lines.values()}) == 3
    assert len({line.get_linestyle() for line in lines.values()}) == 2


def test_the_caps_are_drawn_per_first_stage_outcome(tree, plan):
    caps = _gids(plan, "velocity_hit_cap:")
    knobs = tree.stacked("knobs")
    assert len(caps) == 3  # the cap depends on the timeline only
    for branch, band in caps.items():
        expected = knobs.loc[knobs.branch == branch, "velocity_hit_cap"].to_numpy()
        np.testing.assert_allclose(np.asarray(band.get_ydata())[:-1], expected)


def test_reveals_are_marked_and_the_shared_part_shaded(tree, plan):
    assert tree.reveals == ("2026Q1", "2027Q1")
    at = [mdates.date2num(period_edges([r])[0]) for r in tree.reveals]
    for ax in plan.axes:
        reveals = sorted(
            line.get_xdata()[0] for line in ax.lines if (line.get_gid() or "").startswith("reveal:")
        )
        assert np.allclose(mdates.date2num(reveals), at)
        (shade,) = [p for p in ax.patches if p.get_gid() == "shared_decisions"]
        box = shade.get_bbox()
        assert box.x0 == pytest.approx(mdates.date2num(period_edges(["2025Q1"])[0]))
        assert box.x1 == pytest.approx(at[0])
        assert any(t.get_text().startswith("shared decisions") for t in ax.texts)
    labels = [t.get_text() for t in _gids(plan, "reveal_label:").values()]
    assert labels == [
        "2026Q1 reveals:\nearly / central / late",
        "2027Q1 reveals:\ntractable / hard",
    ]


def test_titles_and_axes_say_what_and_in_which_units(plan):
    velocity, preparation = plan.axes[:2]
    assert "% of full speed" in velocity.get_ylabel()
    assert "% of safety resources" in preparation.get_ylabel()
    assert "cap" in velocity.get_title(loc="left")
    assert "Preparation" in preparation.get_title(loc="left")
    assert "magma_tree" in plan.get_suptitle()
    assert "6 branches" in plan.get_suptitle()
    assert isinstance(preparation.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    (legend,) = plan.legends
    texts = [t.get_text() for t in legend.get_texts()]
    assert "central/hard (25%)" in texts
    assert "early/tractable (12.5%)" in texts


def test_values_bars_and_their_differences(tree):
    fig = plot_tree_values(tree)
    (ax,) = fig.axes
    values = tree.values.set_index("quantity")
    heights = [bar.get_height() for bar in ax.patches if bar.get_gid() == "values"]
    expected = values.loc[["stochastic", "expected_value_plan", "wait_and_see"], "model"]
    np.testing.assert_allclose(heights, expected.to_numpy())
    labels = [t.get_text().split("\n")[0] for t in ax.get_xticklabels()]
    assert labels == ["RP", "EEV", "WS"]
    (note,) = [t for t in ax.texts if t.get_gid() == "vss_evpi"]
    evpi = values.loc["expected_value_of_perfect_information", "model"]
    assert "VSS = RP − EEV" in note.get_text()
    assert f"EVPI = WS − RP = {evpi:.2g}" in note.get_text()
    assert "Stochastic-program values" in ax.get_title(loc="left")
    assert "not deterministic runs" in ax.get_title(loc="left")
    assert "cut in cumulative hazard, 2025–2029" in ax.get_ylabel()


def test_the_plan_figure_saves(tree, tmp_path):
    fig = Figure(figsize=(7, 6), layout="constrained")
    assert plot_tree(tree, fig) is fig
    path = save_figure(fig, tmp_path / "tree_plan.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
