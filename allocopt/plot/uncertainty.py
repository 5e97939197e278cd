"""Figures of a Monte Carlo evaluation: a fan chart of cumulative catastrophe risk over time.

Matplotlib only; draws into ``ax`` when given one, otherwise into a new page-wide figure, and
returns the figure. Conventions as in :mod:`allocopt.plot.schedule`: dates on the time axis, units on the
value axis.
"""

from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from allocopt.analyses.montecarlo import MonteCarlo
from allocopt.plot.schedule import FONT_SIZE, LEGEND_STYLE, PAGE_WIDTH_IN, period_edges
from allocopt.results.names import PALETTE

FAN = (0.05, 0.25, 0.5, 0.75, 0.95)  # outer band, inner band, median
SIDES = {
    "without_plan": {"color": "#555555", "label": "without safety work", "linestyle": "--"},
    "with_plan": {"color": PALETTE["preparation"], "label": "with the plan", "linestyle": "-"},
}


def fan_table(mc: MonteCarlo) -> pd.DataFrame:
    """Quantiles over the samples of the cumulative probability of catastrophe at the end of each
    period: rows are periods, columns (side, quantile) with side ``without_plan``/``with_plan``."""
    columns = [f"probability_{side}" for side in SIDES]
    grouped = mc.paths.groupby("period", sort=False)[columns]
    table = grouped.quantile(list(FAN)).unstack()
    table.columns = pd.MultiIndex.from_tuples(
        [(c.removeprefix("probability_"), q) for c, q in table.columns]
    )
    return table


def _ends(table: pd.DataFrame, side: str, q: float) -> np.ndarray:
    """A quantile's cumulative probability at the period ends, from 0 at the start (it grows
    through each period)."""
    return np.append(0.0, table[(side, q)].to_numpy())


def plot_fan(mc: MonteCarlo, ax: Axes | None = None) -> Figure:
    """Cumulative probability of an extreme catastrophe since the start, without and with the
    plan: median over the samples, with 25–75% and 5–95% bands."""
    ax = ax or Figure(figsize=(PAGE_WIDTH_IN, 3.2), layout="constrained").add_subplot()
    table = fan_table(mc)
    x = period_edges(table.index)
    for side, style in SIDES.items():
        color, label = style["color"], style["label"]
        for (lo, hi), alpha in (((FAN[0], FAN[-1]), 0.15), ((FAN[1], FAN[-2]), 0.35)):
            ax.fill_between(
                x,
                _ends(table, side, lo),
                _ends(table, side, hi),
                color=color,
                alpha=alpha,
                linewidth=0,
                gid=f"band_{lo:.0%}_{hi:.0%}_{side}",
                label=f"{label}: {lo:.0%}–{hi:.0%}",
            )
        ax.plot(
            x,
            _ends(table, side, 0.5),
            color=color,
            linestyle=style["linestyle"],
            linewidth=1.4,
            gid=f"median_{side}",
            label=f"{label}: median",
        )
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(bottom=0)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.tick_params(labelsize=FONT_SIZE["tick"])
    ax.set_ylabel("Probability since the start", fontsize=FONT_SIZE["label"])
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.5)
    ax.set_axisbelow(True)
    ax.set_title(
        f"{mc.scenario_name}: probability of catastrophe within the horizon\n"  # two lines: fits
        f"a fixed plan (Monte Carlo, {mc.paths['sample'].nunique()} samples)",
        fontsize=FONT_SIZE["title"],
        loc="left",
    )
    ax.legend(loc="upper left", **{**LEGEND_STYLE, "ncol": 2})
    return ax.figure
