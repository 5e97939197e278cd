"""Figures of a :class:`~allocopt.results.result.Result`, sized for a paper column (3.5 in) or page (7 in).

Matplotlib only; Pyomo is never imported. Each function draws into ``ax`` (or ``fig`` for
multi-panel figures) when given one, otherwise into a new figure, and returns the figure.
Periods are drawn as steps: a value holds for its whole period. Colours come from
:data:`allocopt.results.names.PALETTE`, one per category in every figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from allocopt.results.names import (
    CAPABILITIES,
    CATEGORY_LABELS,
    PALETTE,
    RESOURCE_LABELS,
)
from allocopt.results.result import Result
from allocopt.results.wide import schedule_table, status_marker
from allocopt.scenario.tables import CATEGORIES, RESOURCES

COLUMN_WIDTH_IN = 3.5
PAGE_WIDTH_IN = 7.0
FONT_SIZE = {"tick": 7, "label": 8, "title": 9, "legend": 7}
MITIGATION_HATCH = "////"
LEGEND_STYLE = {
    "fontsize": FONT_SIZE["legend"],
    "ncol": 2,
    "frameon": False,
    "handlelength": 1.6,
    "columnspacing": 1.0,
}


def period_edges(labels: Sequence[str]) -> pd.DatetimeIndex:
    """Start dates of the periods (``2025Q1`` → 2025-01-01) plus the end of the last one."""
    periods = [pd.Period(label) for label in labels]
    return pd.DatetimeIndex([p.start_time for p in periods] + [(periods[-1] + 1).start_time])


def period_length_years(label: str) -> float:
    """Length in years of the period named by ``label`` (quarter 0.25, year 1, month 1/12)."""
    return {"Q": 0.25, "Y": 1.0, "A": 1.0, "M": 1 / 12}[pd.Period(label).freqstr[0]]


def regime_switch(result: Result) -> str | None:
    """Label of the first post-acceleration period, or None when the switch never happens."""
    post = result.knobs.loc[result.knobs.regime == "post_acceleration", "period"]
    return str(post.iloc[0]) if len(post) else None


def _new_axes(ax: Axes | None, height: float = 2.4) -> Axes:
    """``ax``, or the axes of a new column-width figure."""
    if ax is not None:
        return ax
    return Figure(figsize=(COLUMN_WIDTH_IN, height), layout="constrained").add_subplot()


def _steps(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Values per period, the last repeated so a post-step drawing closes the final period."""
    arr = np.asarray(values, dtype=float)
    return np.append(arr, arr[-1])


def _style(ax: Axes, result: Result, title: str, ylabel: str, percent: bool = False) -> None:
    """Date axis, labels, font sizes and the non-optimal marker shared by every panel."""
    edges = period_edges(result.knobs.period)
    ax.set_xlim(edges[0], edges[-1])
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.tick_params(labelsize=FONT_SIZE["tick"])
    ax.set_ylabel(ylabel, fontsize=FONT_SIZE["label"])
    marker = status_marker(result)
    ax.set_title(
        f"{title}\n{marker}" if marker else title,
        fontsize=FONT_SIZE["title"],
        color="#CC0000" if marker else "black",
        loc="left",
    )
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.5)
    ax.set_axisbelow(True)


def _mark_switch(ax: Axes, result: Result) -> None:
    """A dotted vertical line where the regime switches to post-acceleration (in the legend)."""
    switch = regime_switch(result)
    if switch is not None:
        ax.axvline(
            period_edges([switch])[0],
            color="black",
            linestyle=":",
            linewidth=1.0,
            gid="regime_switch",
            label=f"acceleration ({switch}–)",
        )


def _legend(ax: Axes, handles: list | None = None) -> None:
    """Legend below the axes, so it never covers data."""
    handles = handles or ax.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), **LEGEND_STYLE)


def _figure_legend(fig: Figure, handles: list, ncol: int) -> None:
    """One legend for a multi-panel figure, below the panels."""
    fig.legend(handles=handles, loc="outside lower center", **{**LEGEND_STYLE, "ncol": ncol})


def _stack(ax: Axes, x: pd.DatetimeIndex, layers: list[tuple[str, np.ndarray, dict]]) -> None:
    """Stacked post-step areas; each layer (gid, values per period, fill_between style)."""
    bottom = np.zeros(len(x))
    for gid, values, style in layers:
        top = bottom + _steps(values)
        ax.fill_between(x, bottom, top, step="post", linewidth=0.4, gid=gid, **style)
        bottom = top


def _schedule_handles(ax: Axes, categories: Sequence[str]) -> list:
    """Legend entries of a schedule: category colours, the two mode fills, the regime switch."""
    handles = [Patch(facecolor=PALETTE[c], label=CATEGORY_LABELS[c]) for c in categories]
    handles += [
        Patch(facecolor="white", edgecolor="#555555", label="preparation (solid)"),
        Patch(
            facecolor="white",
            edgecolor="#555555",
            hatch=MITIGATION_HATCH,
            label="mitigation (hatched)",
        ),
    ]
    return handles + ax.get_legend_handles_labels()[0]


def plot_schedule(
    result: Result,
    resource: str = "compute",
    ax: Axes | None = None,
    safety_only: bool = False,
    legend: bool = True,
) -> Figure:
    """Stacked areas of one resource per period: safety by category (solid = preparation,
    hatched = mitigation), under capabilities unless ``safety_only``; the top edge is the total."""
    if resource not in RESOURCES:
        raise ValueError(f"resource must be one of {', '.join(RESOURCES)}, got {resource!r}")
    ax = _new_axes(ax, height=3.0)
    wide = schedule_table(result, resource)
    if safety_only:
        wide = wide.drop(columns=(CAPABILITIES, CAPABILITIES))
    layers = [
        (
            f"{category}:{mode}",
            wide[(category, mode)].to_numpy(),
            {
                "facecolor": PALETTE[category],
                "edgecolor": "white",
                "hatch": MITIGATION_HATCH if mode == "mitigation" else None,
            },
        )
        for category, mode in wide.columns
    ]
    _stack(ax, period_edges(wide.index), layers)
    ax.set_ylim(bottom=0)
    what = "Safety work" if safety_only else "All activities"
    _style(ax, result, f"{what}: {resource}", RESOURCE_LABELS[resource])
    _mark_switch(ax, result)
    if legend:
        categories = [c for c in CATEGORY_LABELS if c in wide.columns.get_level_values(0)]
        _legend(ax, handles=_schedule_handles(ax, categories))
    return ax.figure


def plot_schedules(result: Result, fig: Figure | None = None) -> Figure:
    """Compute (left) and staff (right), all activities (top) and safety work alone (bottom)."""
    fig = fig or Figure(figsize=(PAGE_WIDTH_IN, 5.6), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True)
    for row, safety_only in enumerate((False, True)):
        for col, resource in enumerate(RESOURCES):
            plot_schedule(result, resource, axes[row, col], safety_only=safety_only, legend=False)
    _figure_legend(fig, _schedule_handles(axes[0, 0], list(CATEGORY_LABELS)), ncol=4)
    return fig


def plot_preparation(result: Result, ax: Axes | None = None) -> Figure:
    """Share of safety resources on preparation vs current mitigation (the essay's Figure 6);
    periods without safety work stay blank."""
    ax = _new_axes(ax)
    knobs = result.knobs
    prep = knobs.preparation_share.to_numpy()
    any_safety = (knobs.safety_share_compute + knobs.safety_share_staff).to_numpy() > 0
    _stack(
        ax,
        period_edges(knobs.period),
        [
            ("preparation", prep, {"facecolor": PALETTE["preparation"], "label": "preparation"}),
            (
                "mitigation",
                np.where(any_safety, 1 - prep, 0.0),
                {"facecolor": PALETTE["mitigation"], "label": "current mitigation"},
            ),
        ],
    )
    ax.set_ylim(0, 1)
    _style(ax, result, "Preparation vs mitigation", "Share of safety resources", percent=True)
    _mark_switch(ax, result)
    _legend(ax)
    return ax.figure


def plot_velocity(result: Result, ax: Axes | None = None) -> Figure:
    """Velocity hit (capability progress given up) per period against its cap."""
    ax = _new_axes(ax)
    knobs = result.knobs
    x = period_edges(knobs.period)
    ax.step(
        x,
        _steps(knobs.velocity_hit_cap),
        where="post",
        color=PALETTE["ai_defense"],
        linewidth=4,
        alpha=0.6,
        label="cap",
        gid="velocity_hit_cap",
    )
    ax.step(
        x,
        _steps(knobs.velocity_hit),
        where="post",
        color="black",
        linewidth=1.2,
        label="velocity hit",
        gid="velocity_hit",
    )
    top = max(knobs.velocity_hit_cap.max(), knobs.velocity_hit.max())
    ax.set_ylim(0, max(0.05, top) * 1.2)
    _style(ax, result, "Velocity hit", "Progress given up (% of full)", percent=True)
    _mark_switch(ax, result)
    _legend(ax)
    return ax.figure


def plot_portfolio(result: Result, ax: Axes | None = None) -> Figure:
    """Safety portfolio: share of (velocity-weighted) safety resources per category; a category
    with no resources in any period keeps its legend entry, marked "(none)"."""
    ax = _new_axes(ax)
    wide = result.portfolio.pivot(index="period", columns="category", values="share")
    wide = wide.reindex(index=list(result.knobs.period), columns=list(CATEGORIES))
    layers = [
        (
            c,
            wide[c].to_numpy(),
            {
                "facecolor": PALETTE[c],
                "label": CATEGORY_LABELS[c]
                + ("" if np.nansum(wide[c].to_numpy()) > 0 else " (none)"),
            },
        )
        for c in CATEGORIES
    ]
    _stack(ax, period_edges(wide.index), layers)
    ax.set_ylim(0, 1)
    _style(ax, result, "Safety portfolio by category", "Share of safety resources", percent=True)
    _mark_switch(ax, result)
    _legend(ax)
    return ax.figure


POSTPONED = "probability_with_plan_and_postponed"
UNPLANNED = "probability_without_plan_and_postponed"


def risk_table(result: Result) -> pd.DataFrame:
    """Total hazard per period (per year) and cumulative catastrophe probability, without and
    with the plan; cumulative values are at the end of each period."""
    total = result.risk.groupby("period", sort=False)[["hazard_without_plan", "hazard_with_plan"]]
    table = total.sum().reindex(list(result.knobs.period))
    dt = period_length_years(str(table.index[0]))
    for plan in ("without_plan", "with_plan"):
        table[f"probability_{plan}"] = -np.expm1(-(table[f"hazard_{plan}"] * dt).cumsum())
    return table


def plot_risk(result: Result, fig: Figure | None = None) -> Figure:
    """The hazard rate in each period (per year; log scale when it spans decades) and the
    probability of catastrophe within the horizon since the start, with and without the plan,
    and at the horizon both probabilities including the risk past it
    (``probability_without_plan_and_postponed``, ``probability_with_plan_and_postponed``,
    :data:`allocopt.results.names.HEADLINE`)."""
    fig = fig or Figure(figsize=(PAGE_WIDTH_IN, 2.9), layout="constrained")
    hazard_ax, cumulative_ax = fig.subplots(1, 2)
    table = risk_table(result)
    x = period_edges(table.index)
    for plan, style in (
        ("without_plan", {"color": "#555555", "linestyle": "--", "label": "without safety work"}),
        ("with_plan", {"color": PALETTE["preparation"], "label": "with the plan"}),
    ):
        hazard_ax.step(
            x,
            _steps(table[f"hazard_{plan}"]),
            where="post",
            gid=f"hazard_{plan}",
            linewidth=1.2,
            **style,
        )
        # cumulative probability grows through each period: drawn at period ends, from 0.
        ends = np.append(0.0, table[f"probability_{plan}"].to_numpy())
        cumulative_ax.plot(x, ends, gid=f"probability_{plan}", linewidth=1.2, **style)
    # the risk past the horizon counts at the horizon's end, on both sides: the plan's with the
    # own risk it postpones, and the risk past the horizon without safety work
    markers = []
    for name, color, label in (
        (
            UNPLANNED,
            "#555555",
            "without safety work, including the risk past the horizon (at the horizon)",
        ),
        (
            POSTPONED,
            PALETTE["preparation"],
            "with the plan, including the risk past the horizon (at the horizon)",
        ),
    ):
        (marker,) = cumulative_ax.plot(
            [x[-1]],
            [float(result.summary[name])],
            marker="o",
            linestyle="none",
            color=color,
            markersize=4,
            gid=name,
            label=label,
            clip_on=False,
        )
        markers.append(marker)
    # the two dots sit close together near 100%: their values in words
    cumulative_ax.text(
        0.03,
        0.97,
        "including the risk past the horizon:\n"
        f"{float(result.summary[UNPLANNED]):.1%} without safety work, "
        f"{float(result.summary[POSTPONED]):.1%} with the plan",
        transform=cumulative_ax.transAxes,
        va="top",
        fontsize=FONT_SIZE["tick"],
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5},
        gid="past_the_horizon",
    )
    hazards = table[["hazard_without_plan", "hazard_with_plan"]].to_numpy()
    positive = hazards[hazards > 0]
    if len(positive) and positive.max() > 10 * positive.min():  # log only across decades
        hazard_ax.set_yscale("log")
    _style(hazard_ax, result, "Hazard rate in each period", "Hazard (per year, all channels)")
    _style(
        cumulative_ax,
        result,
        "Probability of catastrophe within the horizon",
        "Probability since the start",
        percent=True,
    )
    cumulative_ax.set_ylim(0, 1)
    for ax in (hazard_ax, cumulative_ax):
        _mark_switch(ax, result)
    _figure_legend(fig, [*hazard_ax.get_legend_handles_labels()[0], *markers], ncol=2)
    return fig


def plot_knobs(result: Result, fig: Figure | None = None) -> Figure:
    """The essay's three knobs on one page: velocity, preparation and safety portfolio."""
    fig = fig or Figure(figsize=(COLUMN_WIDTH_IN, 7.5), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    plot_velocity(result, axes[0])
    plot_preparation(result, axes[1])
    plot_portfolio(result, axes[2])
    marker = status_marker(result)
    fig.suptitle(
        f"{result.scenario_name}: the three knobs" + (f"\n{marker}" if marker else ""),
        fontsize=FONT_SIZE["title"],
    )
    return fig


FIGURES = {
    "schedule": plot_schedules,
    "preparation": plot_preparation,
    "velocity": plot_velocity,
    "risk": plot_risk,
    "portfolio": plot_portfolio,
    "knobs": plot_knobs,
}
