"""Figures of exploration: shadow prices over time, sweep tornado and two-parameter heat map.

Each takes plain tables (a Result's ``duals``, a sweep table) and an optional ``ax``; none
imports Pyomo.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from allocopt.analyses.sweep import (
    BASE,
    GRID,
    measure_label,
    sweep_parameters,
    sweep_units,
)
from allocopt.results.files import write_run
from allocopt.results.views import write_units

AXIS_WIDTH, BAR_WIDTH = 60, 45  # characters per line of an axis label, of a colour bar's label


def _axes(ax: Axes | None) -> Axes:
    return ax if ax is not None else plt.subplots(figsize=(8, 4.5))[1]


def plot_duals(
    duals: pd.DataFrame, constraint: str = "budget_limit", ax: Axes | None = None
) -> Axes:
    """Shadow prices of ``constraint`` over time, one line per resource (or activity)."""
    ax = _axes(ax)
    rows = duals[duals.constraint == constraint]
    if rows.empty:
        raise ValueError(
            f"no duals of {constraint!r} (known: {', '.join(duals.constraint.unique())})"
        )
    key = np.where(rows.activity != "", rows.activity, rows.resource)
    units = rows.unit.unique()
    for name, part in rows.groupby(key, sort=False):
        label = name or constraint
        ax.plot(part.period, part.value, marker=".", label=f"{label} ({part.unit.iloc[0]})")
    ax.set_title(f"shadow price: {constraint}")
    ax.set_ylabel(units[0] if len(units) == 1 else "value (units in legend)")
    ax.tick_params(axis="x", labelrotation=60)
    ax.legend(fontsize="small")
    return ax


def plot_tornado(
    table: pd.DataFrame, outcome: str = "risk_reduction_exact", ax: Axes | None = None
) -> Axes:
    """One-at-a-time sweep: for each parameter, the range of ``outcome`` over its values, as bars
    from the base run's value to the highest and to the lowest value of ``outcome`` as that
    parameter alone moves over its values, widest on top; the axis names ``outcome`` by its label
    and unit (:func:`~allocopt.analyses.sweep.measure_label`). A sweep over which ``outcome``
    does not move (within a relative 1e-9) says so in the plot, which would otherwise be empty."""
    ax = _axes(ax)
    name = measure_label(outcome, with_unit=False)
    base = float(table.loc[table.varied == BASE, outcome].iloc[0])
    varied = table[~table.varied.isin([BASE, GRID])]
    spans = varied.groupby("varied", sort=False)[outcome].agg(["min", "max"])
    spans = spans.assign(width=spans["max"] - spans["min"]).sort_values("width")
    y = np.arange(len(spans))
    ax.barh(
        y,
        spans["max"] - base,
        left=base,
        color="tab:blue",
        label="highest over the parameter's values",
    )
    ax.barh(
        y,
        spans["min"] - base,
        left=base,
        color="tab:orange",
        label="lowest over the parameter's values",
    )
    ax.axvline(base, color="black", linewidth=0.8, label=f"base run: {base:.4g}")
    ax.set_yticks(y, spans.index)
    ax.set_xlabel(textwrap.fill(measure_label(outcome), AXIS_WIDTH))
    ax.set_title("sensitivity to each swept field")
    if np.allclose(varied[outcome], base, rtol=1e-9, atol=0):
        ax.text(
            0.5,
            0.5,
            f"{name}\ndoes not move over the sweep\n(every point: {base:.6g})",
            transform=ax.transAxes,
            ha="center",
            va="center",
            bbox={"facecolor": "white", "edgecolor": "none"},
            gid="no_range",
        )
    ax.legend(fontsize="small")
    return ax


def plot_heatmap(
    table: pd.DataFrame, x: str, y: str, value: str = "risk_reduction_exact", ax: Axes | None = None
) -> Axes:
    """Two-parameter grid sweep: ``value`` over the (``x``, ``y``) grid (the swept fields, by
    their names in the scenario), the colour bar labelled with ``value``'s label and unit."""
    ax = _axes(ax)
    grid = table.pivot_table(index=y, columns=x, values=value, aggfunc="first").sort_index()
    image = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns], rotation=45)
    ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.figure.colorbar(image, ax=ax, label=textwrap.fill(measure_label(value), BAR_WIDTH))
    ax.set_title(measure_label(value, with_unit=False))
    return ax


FIGURE_OUTCOMES = (
    "risk_reduction_exact",
    "velocity_hit_post_acceleration",
    "preparation_share_pre_acceleration",
)


def save_sweep(table: pd.DataFrame, folder: str | Path, scenario: str) -> list[Path]:
    """Write ``sweep.csv``, ``units.csv`` (the unit of each of its numeric columns, as a
    result's: ``table, column, unit``; :func:`~allocopt.analyses.sweep.sweep_units`) and its
    figures (tornado for one-at-a-time, heat map for a two-parameter grid) of
    :data:`FIGURE_OUTCOMES` of a sweep of ``scenario`` (its name) into ``folder``, as a run's
    folder (:func:`~allocopt.results.files.write_run`: files appear whole or not at all, an
    earlier run's are removed, ``manifest.json`` names them); returns the paths written."""

    def fill(staging: Path) -> None:
        table.to_csv(staging / "sweep.csv", index=False, float_format="%.10g", lineterminator="\n")
        write_units(staging / "units.csv", {"sweep": sweep_units(table)})
        params = sweep_parameters(table)
        is_grid = (table.varied == GRID).any()
        for outcome in FIGURE_OUTCOMES if not is_grid or len(params) == 2 else ():
            fig, ax = plt.subplots(figsize=(8, 4.5))
            if is_grid:
                plot_heatmap(table, params[0], params[1], outcome, ax=ax)
                name = f"heatmap_{outcome}.png"
            else:
                plot_tornado(table, outcome, ax=ax)
                name = f"tornado_{outcome}.png"
            fig.tight_layout()
            fig.savefig(staging / name, dpi=120)
            plt.close(fig)

    return write_run(folder, scenario, fill)
