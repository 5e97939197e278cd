"""Figures of a scenario tree's answer (:class:`~allocopt.analyses.tree.TreeResult`): the plan of every
branch over time, and the values of the stochastic solution and of perfect information.

Matplotlib only, with the conventions of :mod:`allocopt.plot.schedule`: each function draws into the
figure or axes it is given, otherwise into a new figure, and returns the figure. In the plan,
a branch's colour is its outcome of the first stage and its line style its outcome of the
second; reveals are vertical lines, and the decisions every branch shares are shaded.
"""

from __future__ import annotations

import math

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from allocopt.analyses.tree import TreeResult
from allocopt.plot.schedule import FONT_SIZE, LEGEND_STYLE, PAGE_WIDTH_IN, period_edges
from allocopt.results.status import Status

# Okabe-Ito colour-blind-safe colours, one per outcome of the first stage, in the tree's order
STAGE_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
STAGE_STYLES = ("-", "--", ":", "-.")  # one per outcome of the second stage
SHARED_COLOUR = "#EEEEEE"
MEASURES = {"expected": "expected", "worst_case": "worst-case", "cvar": "CVaR of"}
BARS = {  # tree value -> bar label
    "stochastic": "RP\nstochastic plan",
    "expected_value_plan": "EEV\nexpected scenario's\nplan, re-optimized",
    "wait_and_see": "WS\nperfect information\n(each branch alone)",
}


def _outcomes(result: TreeResult, stage: int) -> list[str]:
    """The outcomes of ``stage`` in the tree's order (as the branches table lists them)."""
    column = f"stage{stage}"
    return list(dict.fromkeys(result.branches[column])) if column in result.branches else []


def branch_styles(result: TreeResult) -> dict[str, dict]:
    """Each branch's line colour (by its first-stage outcome), style (by its second) and width
    (narrower for later first-stage outcomes, drawn on top)."""
    colours = {o: STAGE_COLOURS[k % len(STAGE_COLOURS)] for k, o in enumerate(_outcomes(result, 0))}
    styles = {o: STAGE_STYLES[k % len(STAGE_STYLES)] for k, o in enumerate(_outcomes(result, 1))}
    # lines drawn first are wider, so that a branch whose line coincides with a later one shows
    # as a border around it
    widths = dict(zip(colours, np.linspace(2.4, 1.2, len(colours)), strict=True))
    out = {}
    for row in result.branches.to_dict("records"):
        out[row["branch"]] = {
            "color": colours[row["stage0"]],
            "linestyle": styles.get(row.get("stage1"), "-"),
            "linewidth": float(widths[row["stage0"]]),
        }
    return out


def _horizon(result: TreeResult) -> str:
    """The years the plan covers, e.g. ``2025–2029``."""
    periods = next(iter(result.results.values())).knobs.period
    return f"{pd.Period(periods.iloc[0]).year}–{pd.Period(periods.iloc[-1]).year}"


def _wide(knobs: pd.DataFrame, column: str, periods: list[str]) -> pd.DataFrame:
    """One knob per period (rows) and branch (columns)."""
    return knobs.pivot(index="period", columns="branch", values=column).reindex(periods)


def _date_axis(ax: Axes, edges: pd.DatetimeIndex, title: str, ylabel: str) -> None:
    """Dates on x, percent on y, labels and fonts as in :mod:`allocopt.plot.schedule`."""
    ax.set_xlim(edges[0], edges[-1])
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.tick_params(labelsize=FONT_SIZE["tick"])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel(ylabel, fontsize=FONT_SIZE["label"])
    ax.set_title(title, fontsize=FONT_SIZE["title"], loc="left")
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.5)
    ax.set_axisbelow(True)


def _mark_reveals(
    ax: Axes, result: TreeResult, edges: pd.DatetimeIndex, note_at: float, labels: bool = True
) -> None:
    """Shade the shared decisions before the first reveal (non-anticipativity: no branch is known
    yet, so every branch runs the same plan, whatever its own cap); a vertical line at each
    reveal, with what it reveals written beside it when ``labels``. The shade's note is centred
    at ``note_at`` (a fraction of the axes' height), clear of the panel's lines."""
    first = period_edges([result.reveals[0]])[0]
    ax.axvspan(edges[0], first, color=SHARED_COLOUR, zorder=0, gid="shared_decisions")
    ax.text(
        edges[0] + (first - edges[0]) / 2,
        note_at,
        "shared decisions:\nthe same in\nevery branch",
        transform=ax.get_xaxis_transform(),
        ha="center",
        va="center",
        fontsize=FONT_SIZE["legend"],
        color="#555555",
    )
    for k, reveal in enumerate(result.reveals):
        at = period_edges([reveal])[0]
        text = f"{reveal} reveals:\n{' / '.join(_outcomes(result, k))}"
        ax.axvline(at, color="black", linestyle=(0, (1, 2)), linewidth=1.0, gid=f"reveal:{k}")
        if not labels:
            continue
        ax.text(
            at + pd.Timedelta(days=12),
            0.97,
            text,
            transform=ax.get_xaxis_transform(),
            ha="left",
            va="top",
            fontsize=FONT_SIZE["legend"],
            gid=f"reveal_label:{k}",
        )


def plot_tree(result: TreeResult, fig: Figure | None = None) -> Figure:
    """Each branch's velocity hit against its cap (top) and preparation share of safety
    resources (bottom) over time, one labelled line per branch; reveals marked, decisions
    shared by every branch (before the first reveal) shaded."""
    fig = fig or Figure(figsize=(PAGE_WIDTH_IN, 6.4), layout="constrained")
    velocity_ax, preparation_ax = fig.subplots(2, 1, sharex=True)
    knobs = result.stacked("knobs")
    periods = list(dict.fromkeys(knobs.period))
    edges = period_edges(periods)
    styles = branch_styles(result)
    probability = result.branches.set_index("branch").probability
    hit, cap = _wide(knobs, "velocity_hit", periods), _wide(knobs, "velocity_hit_cap", periods)
    prep = _wide(knobs, "preparation_share", periods)
    caps_drawn: set[tuple] = set()
    handles: list = []
    for branch, style in styles.items():
        key = (style["color"], tuple(cap[branch]))
        if key not in caps_drawn:  # the cap as a band, once per colour and path of caps
            caps_drawn.add(key)
            velocity_ax.step(
                edges,
                np.append(cap[branch], cap[branch].iloc[-1]),
                where="post",
                color=style["color"],
                linewidth=5,
                alpha=0.3,
                gid=f"velocity_hit_cap:{branch}",
            )
        label = f"{branch} ({100 * probability[branch]:.3g}%)"
        for ax, table, column in ((velocity_ax, hit, "velocity_hit"), (preparation_ax, prep, None)):
            (line,) = ax.step(
                edges,
                np.append(table[branch], table[branch].iloc[-1]),
                where="post",
                label=label,
                gid=f"{column or 'preparation_share'}:{branch}",
                **style,
            )
        handles.append(line)  # the preparation panel's, one per branch
    top = max(float(cap.max().max()), float(hit.max().max()))
    velocity_ax.set_ylim(0, max(0.05, top) * 1.4)  # room for the reveals' labels
    preparation_ax.set_ylim(0, 1.05)
    _date_axis(
        velocity_ax,
        edges,
        "Velocity hit (lines) against its cap (wide bands)",
        "Progress given up (% of full speed)",
    )
    _date_axis(
        preparation_ax,
        edges,
        "Preparation share of safety resources (the rest is current mitigation)",
        "Preparation (% of safety resources)",
    )
    # the notes: above every cap (the axis runs to 1.4 times the highest), below full preparation
    _mark_reveals(velocity_ax, result, edges, note_at=0.88)
    _mark_reveals(preparation_ax, result, edges, note_at=0.45, labels=False)
    handles.append(
        Line2D([], [], color="#777777", linewidth=5, alpha=0.3, label="velocity-hit cap")
    )
    handles.append(Patch(facecolor=SHARED_COLOUR, label="shared decisions"))
    # columns of the legend: one per first-stage outcome (its branches), then the markers
    rows = max(len(_outcomes(result, 1)), len(handles) - len(styles))
    ncol = math.ceil(len(handles) / rows)
    fig.legend(
        handles=handles,
        loc="outside lower center",
        title="branch (probability)",
        title_fontsize=FONT_SIZE["legend"],
        **{**LEGEND_STYLE, "ncol": ncol},
    )
    measure = MEASURES[result.objective]
    local = Status(result.status).is_local_optimum  # proven or local optimum: no marker
    status = "" if local else f"\nNOT OPTIMAL ({result.status})"
    fig.suptitle(
        f"{result.scenario_name}: the plan of each of {len(styles)} branches, "
        f"maximizing {measure} risk reduction{status}",
        fontsize=FONT_SIZE["title"],
        color="#CC0000" if status else "black",
    )
    return fig


def plot_tree_values(result: TreeResult, ax: Axes | None = None) -> Figure:
    """The stochastic program's values as bars — its plan (RP), the expected scenario's plan
    (EEV), perfect information (WS) — with VSS = RP − EEV and EVPI = WS − RP written on them."""
    ax = ax if ax is not None else Figure(figsize=(5.0, 3.4), layout="constrained").add_subplot()
    values = result.values.set_index("quantity")
    model = [float(values.model.get(q, math.nan)) for q in BARS]
    exact = [float(values.exact.get(q, math.nan)) for q in BARS]
    x = np.arange(len(BARS))
    shown = [v if math.isfinite(v) else 0.0 for v in model]
    bars = ax.bar(
        x,
        shown,
        width=0.6,
        color=["#4477AA", "#BBBBBB", "#228833"],
        gid="values",
    )
    ax.scatter(
        x,
        [v if math.isfinite(v) else math.nan for v in exact],
        marker="_",
        s=400,
        color="black",
        zorder=3,
        gid="exact",
    )
    for bar, v in zip(bars, model, strict=True):
        ax.annotate(
            f"{v:.4f}" if math.isfinite(v) else "infeasible\nin a branch",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=FONT_SIZE["legend"],
        )
    rp = model[0]
    lines = []
    for name, key in (
        ("VSS = RP − EEV", "value_of_stochastic_solution"),
        ("EVPI = WS − RP", "expected_value_of_perfect_information"),
    ):
        v = float(values.model.get(key, math.nan))
        share = f" ({100 * v / rp:.2g}% of RP)" if math.isfinite(v) and rp else ""
        lines.append(f"{name} = {v:.2g}{share}")
    ax.text(
        0.5,
        0.06,
        "\n".join(lines),
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=FONT_SIZE["label"],
        bbox={"facecolor": "white", "edgecolor": "#BBBBBB", "boxstyle": "round,pad=0.4"},
        gid="vss_evpi",
    )
    ax.set_xticks(x, list(BARS.values()), fontsize=FONT_SIZE["tick"])
    ax.tick_params(axis="y", labelsize=FONT_SIZE["tick"])
    ax.set_ylim(0, max([*shown, 0.0]) * 1.3 or 1.0)  # room for the legend
    measure = MEASURES[result.objective]
    ax.set_ylabel(
        f"{measure.capitalize()} risk reduction\n(cut in cumulative hazard, {_horizon(result)})",
        fontsize=FONT_SIZE["label"],
    )
    ax.set_title(
        f"Stochastic-program values of {result.scenario_name} ({len(result.branches)} "
        "branches)\nvalues of plans per branch, not deterministic runs",
        fontsize=FONT_SIZE["title"],
        loc="left",
    )
    ax.legend(
        handles=[
            Patch(facecolor="#DDDDDD", edgecolor="#555555", label="program (linear model)"),
            Line2D([], [], color="black", linewidth=2, label="exact (simulator)"),
        ],
        loc="upper center",
        ncol=2,
        fontsize=FONT_SIZE["legend"],
        frameon=False,
    )
    return ax.figure
