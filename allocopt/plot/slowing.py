"""The value of slowing (:func:`allocopt.analyses.slowing.value_of_slowing`) as stacked bars: per
period, what one more percentage point of velocity hit buys (terms stacked above zero) and what it
costs (below zero), with the exact total as a marker.
"""

from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from allocopt.analyses.slowing import TERMS, TOTAL, value_of_slowing
from allocopt.plot.schedule import (
    FONT_SIZE,
    LEGEND_STYLE,
    PAGE_WIDTH_IN,
    period_edges,
    regime_switch,
)
from allocopt.results.result import Result
from allocopt.results.wide import status_marker

# Paul Tol's "bright" scheme, one colour per term (safety_difficulty: "vibrant" orange;
# credibility, no_return: "muted" wine and teal)
TERM_COLORS = dict(
    zip(
        TERMS,
        (
            "#4477AA",
            "#EE6677",
            "#CCBB44",
            "#228833",
            "#EE7733",
            "#66CCEE",
            "#AA3377",
            "#882255",
            "#44AA99",
            "#BBBBBB",
        ),
        strict=True,
    )
)
TERM_LABELS = {
    "safety_work": "safety work in the period",
    "own_hazard": "own hazard follows the delay",
    "budgets": "budgets follow the frontier",
    "ai_labour": "AI labour",
    "safety_difficulty": "safety difficulty follows the delay",
    "influence": "influence on others",
    "competition_relief": "competition relief",
    "credibility": "advocacy's credibility follows the velocity",
    "no_return": "lock-in follows the delay",
    "postponed_risk": "postponed own risk and the tail",
}


def _other_limits(table: pd.DataFrame, periods: pd.Index) -> list[list[str]]:
    """Per period of ``periods``: the limits its step breaks besides the velocity-hit cap
    (``table.breaks``; a table without that column breaks none)."""
    if "breaks" not in table:
        return [[] for _ in periods]
    said = table.drop_duplicates("period").set_index("period").breaks.reindex(periods)
    return [
        [n for n in str(names).split(", ") if n and n != "velocity-hit cap"]
        for names in said.fillna("")
    ]


def plot_value_of_slowing(
    result: Result, ax: Axes | None = None, table: pd.DataFrame | None = None
) -> Figure:
    """Stacked bars per period of each term of ``table`` (default: ``value_of_slowing(result)``),
    positive parts above zero and negative parts below, the total as a black dot: hollow where
    the period's step breaks a limit other than the velocity-hit cap (``breaks``), a step the
    program could not take."""
    table = value_of_slowing(result) if table is None else table
    if ax is None:
        ax = Figure(figsize=(PAGE_WIDTH_IN, 3.0), layout="constrained").add_subplot()
    wide = table.pivot(index="period", columns="term", values="value")
    wide = wide.loc[list(dict.fromkeys(table.period))]
    edges = mdates.date2num(period_edges(wide.index))
    mid, width = (edges[:-1] + edges[1:]) / 2, 0.8 * np.diff(edges)
    up, down = np.zeros(len(wide)), np.zeros(len(wide))
    for term in TERMS:
        values = np.nan_to_num(wide[term].to_numpy())
        bottom = np.where(values >= 0, up, down)
        ax.bar(
            mid,
            values,
            width,
            bottom=bottom,
            color=TERM_COLORS[term],
            label=TERM_LABELS[term],
            gid=term,
        )
        up, down = up + values.clip(min=0), down + values.clip(max=0)
    others = _other_limits(table, wide.index)
    held = np.array([not names for names in others])
    total = wide[TOTAL].to_numpy()
    ax.plot(
        mid[held], total[held], "o", color="black", markersize=3, label="total (exact)", gid=TOTAL
    )
    if not held.all():
        names = ", ".join(dict.fromkeys(n for names in others for n in names))
        ax.plot(
            mid[~held],
            total[~held],
            "o",
            markerfacecolor="white",
            markeredgecolor="black",
            markersize=3.5,
            label=f"total, a step that breaks the {names}",
            gid=f"{TOTAL}_breaks",
        )
    ax.axhline(0, color="black", linewidth=0.6)
    # a stacked bar's bottom is a sticky edge for the autoscale: a zero term stacked on the
    # tallest bar would pin the axis at its top, so the margins apply past sticky edges
    ax.use_sticky_edges = False
    ax.autoscale_view()
    switch = regime_switch(result)
    if switch is not None:
        ax.axvline(period_edges([switch])[0], color="black", linestyle=":", linewidth=1.0)
    ax.set_xlim(edges[0], edges[-1])
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.tick_params(labelsize=FONT_SIZE["tick"])
    ax.yaxis.get_offset_text().set_fontsize(FONT_SIZE["tick"])
    ax.set_ylabel(
        "change of risk reduction per point\nof velocity hit (cumulative hazard)",
        fontsize=FONT_SIZE["label"],
    )
    marker = status_marker(result)
    title = "What one more percentage point of velocity hit buys (+) and costs (−), per period"
    ax.set_title(
        f"{title}\n{marker}" if marker else title,
        fontsize=FONT_SIZE["title"],
        color="#CC0000" if marker else "black",
        loc="left",
    )
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.5)
    ax.set_axisbelow(True)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), **{**LEGEND_STYLE, "ncol": 2})
    return ax.figure
