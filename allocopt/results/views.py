"""Views of a result's tables for Python users: units of the wide tables' columns, the summary as
a typed table, periods as pandas Periods, an xarray Dataset and the short text / HTML reprs.

Plain functions on DataFrames and dicts (no :class:`~allocopt.results.result.Result` import),
called by the Result's methods.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from allocopt.results.names import HAZARD_UNIT, HEADLINE
from allocopt.scenario.tables import RESOURCE_UNITS

# the wide tables (one row per period or outer iteration, one column per quantity) and the unit of
# each numeric column; the tidy tables carry a ``unit`` column instead
KNOB_UNITS: dict[str, str] = {
    "ai_rnd_speedup": "x (AI R&D speed-up)",
    "delay_years": "years",
    "velocity": "share of full speed",
    "velocity_hit": "share of full speed",
    "velocity_hit_cap": "share of full speed",
    "budget_compute": RESOURCE_UNITS["compute"],
    "budget_staff": RESOURCE_UNITS["staff"],
    "safety_share_compute": "share of compute budget",
    "safety_share_staff": "share of staff budget",
    "preparation_share": "share of safety (velocity-weighted)",
    "readiness": "readiness index (0-1)",
    "ai_multiplier": "x (AI labour multiplier)",
}
ITERATION_UNITS: dict[str, str] = {
    "iteration": "count",
    "trust": "years (trust radius on the delay)",
    "objective_model": HAZARD_UNIT,
    "objective_exact": HAZARD_UNIT,
    "delay_step_years": "years",
    "readiness_step": "readiness index (0-1)",
    "regimes_changed": "periods",
    "violations": "count",
    "accepted": "true/false",
}
# the multi-start table (allocopt.optimize.starts.starts_table): each start's converged schedule
# valued exactly and by the program, both in cut cumulative hazard (as the summary's)
STARTS_UNITS: dict[str, str] = {
    "risk_reduction_exact": HEADLINE["risk_reduction_exact"][1],
    "risk_reduction_model": HEADLINE["risk_reduction_model"][1],
    "iterations": "count",
    "chosen": "true/false",
}
COLUMN_UNITS: dict[str, dict[str, str]] = {
    "knobs": KNOB_UNITS,
    "iterations": ITERATION_UNITS,
    "starts": STARTS_UNITS,
}
SUMMARY_UNITS: dict[str, str] = {
    **{name: unit for name, (_, unit) in HEADLINE.items()},
    "approximation_gap": "share of exact",
    "delay_at_horizon_years": "years",
    "postponed_risk": HAZARD_UNIT,
    "outer_iterations": "count",
    "objective_bound": HAZARD_UNIT,
    "relative_gap": "share of objective",
    "variation_before": "sum of period-to-period changes in budget shares",
    "variation_after": "sum of period-to-period changes in budget shares",
    # with more than one start (allocopt.results.build._spread): relative, as the text says them
    "starts": "count",
    "best_start_gain": "share of the first start's exact risk reduction",
    "starts_spread": "share of the chosen start's exact risk reduction",
}


def units_table(
    column_units: Mapping[str, Mapping[str, str]] = COLUMN_UNITS,
) -> pd.DataFrame:
    """The unit of every numeric column of the wide tables (``column_units``: table -> column ->
    unit; by default a result's ``knobs``, ``iterations`` and ``starts``): columns ``table,
    column, unit``, the ``units.csv`` every folder of wide tables carries."""
    rows = [(t, c, u) for t, units in column_units.items() for c, u in units.items()]
    return pd.DataFrame(rows, columns=["table", "column", "unit"])


def write_units(path: str | Path, column_units: Mapping[str, Mapping[str, str]]) -> Path:
    """Write :func:`units_table` of ``column_units`` (table -> column -> unit) as CSV to ``path``
    (no index, LF line ends): the units file beside a command's wide tables. Returns ``path``."""
    units_table(column_units).to_csv(path, index=False, lineterminator="\n")
    return Path(path)


def summary_table(summary: Mapping[str, float | str]) -> pd.DataFrame:
    """The summary as a typed table: ``key``, ``value`` (float64; NaN for a text entry), ``text``
    (the text entries: scenario, periods, regime switch; empty otherwise) and ``unit``."""
    numbers = {k: isinstance(v, int | float | np.number) for k, v in summary.items()}
    return pd.DataFrame(
        {
            "key": pd.Series(list(summary), dtype=str),
            "value": pd.Series(
                [float(v) if numbers[k] else np.nan for k, v in summary.items()], dtype=float
            ),
            "text": pd.Series(
                ["" if numbers[k] else str(v) for k, v in summary.items()], dtype=str
            ),
            "unit": pd.Series([SUMMARY_UNITS.get(k, "") for k in summary], dtype=str),
        }
    )


def with_periods(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose ``period`` column (text labels such as "2025Q1") holds pandas
    Periods (dtype ``period[Q-DEC]`` for quarters); ``frame`` itself when it has no such column."""
    if "period" not in frame.columns or frame.empty:
        return frame
    return frame.assign(period=pd.PeriodIndex(frame.period.map(pd.Period)))


def to_dataset(
    tables: Mapping[str, pd.DataFrame], attrs: Mapping[str, str | float | int]
) -> xr.Dataset:
    """The tables as one :class:`xarray.Dataset` over ``period`` (pandas Periods), ``activity``,
    ``resource``, ``category`` and ``channel``; every variable's unit in ``attrs["units"]``.

    ``allocation[period, activity, resource]`` (NaN where an activity has no such resource:
    capabilities have no effort), its unit per resource in the coordinate ``unit``;
    ``stock[period, activity]`` and ``share[period, activity]``; ``portfolio[period, category]``;
    ``hazard_*[period, channel]``; each knob as a variable over ``period``. ``attrs`` become
    the Dataset's attributes (scenario, status, summary values, versions).
    """
    alloc = tables["allocation"]
    activities = list(dict.fromkeys(alloc.activity))
    resources = list(dict.fromkeys(alloc.resource))
    periods = pd.PeriodIndex([pd.Period(p) for p in dict.fromkeys(alloc.period)], name="period")
    labels = periods.astype(str)

    def grid(frame: pd.DataFrame, column: str, value: str, order: list[str]) -> np.ndarray:
        """``frame``'s ``value`` as an array [period, ``column`` in ``order``]."""
        wide = frame.pivot(index="period", columns=column, values=value)
        return wide.reindex(index=labels, columns=order).to_numpy(dtype=float)

    by_resource = [alloc[alloc.resource == r] for r in resources]
    cube = np.stack([grid(f, "activity", "value", activities) for f in by_resource], axis=-1)
    unit_of = alloc.drop_duplicates("resource").set_index("resource").unit
    data: dict[str, xr.DataArray] = {
        "allocation": xr.DataArray(
            cube,
            dims=("period", "activity", "resource"),
            attrs={"units": ", ".join(f"{r}: {unit_of[r]}" for r in resources)},
        )
    }
    stocks, shares = tables["stocks"], tables["shares"]
    data["stock"] = xr.DataArray(
        grid(stocks, "activity", "value", list(dict.fromkeys(stocks.activity))),
        dims=("period", "stock_activity"),
        attrs={"units": stocks.unit.iloc[0]},
    )
    data["share"] = xr.DataArray(
        grid(shares, "activity", "value", activities[1:]),
        dims=("period", "safety_activity"),
        attrs={"units": shares.unit.iloc[0]},
    )
    portfolio = tables["portfolio"]
    categories = list(dict.fromkeys(portfolio.category))
    data["portfolio"] = xr.DataArray(
        grid(portfolio, "category", "share", categories),
        dims=("period", "category"),
        attrs={"units": portfolio.unit.iloc[0]},
    )
    risk = tables["risk"]
    channels = list(dict.fromkeys(risk.channel))
    for column in ("hazard_without_plan", "hazard_before_safety", "hazard_with_plan"):
        data[column] = xr.DataArray(
            grid(risk, "channel", column, channels),
            dims=("period", "channel"),
            attrs={"units": risk.unit.iloc[0]},
        )
    knobs = tables["knobs"].set_index("period").reindex(labels)
    data["regime"] = xr.DataArray(knobs.regime.to_numpy(dtype=str), dims=("period",))
    for column, unit in KNOB_UNITS.items():
        data[column] = xr.DataArray(
            knobs[column].to_numpy(dtype=float), dims=("period",), attrs={"units": unit}
        )
    return xr.Dataset(
        data,
        coords={
            "period": periods,
            "activity": activities,
            "resource": resources,
            "unit": ("resource", [unit_of[r] for r in resources]),
            "stock_activity": list(dict.fromkeys(stocks.activity)),
            "safety_activity": activities[1:],
            "category": categories,
            "channel": channels,
        },
        attrs=dict(attrs),
    )


def for_netcdf(dataset: xr.Dataset) -> xr.Dataset:
    """``dataset`` with its periods as text labels ("2025Q1"), the form netCDF stores."""
    return dataset.assign_coords(period=dataset.period.to_index().astype(str))


def short_repr(title: str, rows: Mapping[str, str]) -> str:
    """A few lines: the title, then ``name: value`` per row."""
    return "\n".join([title, *(f"  {k}: {v}" for k, v in rows.items())])


def html_repr(title: str, rows: Mapping[str, str]) -> str:
    """The same as :func:`short_repr` as a small HTML table for Jupyter."""
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
        f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
        for k, v in rows.items()
    )
    return f"<div><strong>{html.escape(title)}</strong><table>{body}</table></div>"
