"""The value-of-slowing figure draws the table it is given: each term's bars have its values as
heights, stacked away from zero on its own side, and the total is the black dots."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd

from allocopt.analyses.slowing import TERMS, TOTAL, UNIT
from allocopt.plot.slowing import plot_value_of_slowing

matplotlib.use("Agg")


def test_bars_stack_each_sign_away_from_zero(baseline_result):
    periods = list(baseline_result.knobs.period)
    rng = np.random.default_rng(1)
    values = rng.normal(size=(len(periods), len(TERMS)))
    rows = [(p, term, values[n, k]) for n, p in enumerate(periods) for k, term in enumerate(TERMS)]
    rows += [(p, TOTAL, values[n].sum()) for n, p in enumerate(periods)]
    table = pd.DataFrame(rows, columns=["period", "term", "value"]).assign(unit=UNIT)
    fig = plot_value_of_slowing(baseline_result, table=table)
    (ax,) = fig.axes
    up, down = np.zeros(len(periods)), np.zeros(len(periods))
    for k, term in enumerate(TERMS):
        (bars,) = [c for c in ax.containers if c[0].get_gid() == term]
        heights = np.array([b.get_height() for b in bars])
        bottoms = np.array([b.get_y() for b in bars])
        np.testing.assert_allclose(heights, values[:, k])
        np.testing.assert_allclose(bottoms, np.where(values[:, k] >= 0, up, down))
        up, down = up + values[:, k].clip(min=0), down + values[:, k].clip(max=0)
    (dots,) = [line for line in ax.lines if line.get_gid() == TOTAL]
    np.testing.assert_allclose(dots.get_ydata(), values.sum(axis=1))


def test_every_bar_lies_inside_the_axes_and_broken_steps_are_hollow(baseline_result):
    # the tallest bar with zero terms stacked on it (their bottoms are sticky edges) used to pin
    # the axis at its top; a step that breaks a limit besides the cap gets a hollow dot
    periods = list(baseline_result.knobs.period)
    values = np.zeros((len(periods), len(TERMS)))
    values[:, 0] = np.linspace(1, 2, len(periods))
    values[:, -1] = -0.5
    rows = [(p, term, values[n, k]) for n, p in enumerate(periods) for k, term in enumerate(TERMS)]
    rows += [(p, TOTAL, values[n].sum()) for n, p in enumerate(periods)]
    said = {p: "velocity-hit cap, staff frictions" if n % 2 else "" for n, p in enumerate(periods)}
    table = pd.DataFrame(rows, columns=["period", "term", "value"]).assign(unit=UNIT)
    table["breaks"] = table.period.map(said)
    (ax,) = plot_value_of_slowing(baseline_result, table=table).axes
    low, high = ax.get_ylim()
    assert high > values[:, 0].max(), (low, high)
    assert low < -0.5, (low, high)
    (filled,) = [line for line in ax.lines if line.get_gid() == TOTAL]
    (hollow,) = [line for line in ax.lines if line.get_gid() == f"{TOTAL}_breaks"]
    np.testing.assert_allclose(filled.get_ydata(), values.sum(axis=1)[::2])
    np.testing.assert_allclose(hollow.get_ydata(), values.sum(axis=1)[1::2])
    assert "staff frictions" in hollow.get_label()
