"""The result of a solve: tidy tables (long format with units), knob series, risk, status, timings,
the schedule and the validated scenario it came from, and the versions that produced it.

No Pyomo object reaches this module: it is built from plain arrays (a schedule and its exact
evaluation), so results can be saved, compared and plotted without the model. Results are made
by :func:`allocopt.optimize.finish.to_result` only (which checks the schedule first).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from allocopt.numeric.simulate import Schedule
from allocopt.results.files import atomic_write, write_folder
from allocopt.results.names import CATEGORY_LABELS, PROBABILITIES, label, unit
from allocopt.results.status import Status
from allocopt.results.views import (
    for_netcdf,
    html_repr,
    short_repr,
    summary_table,
    to_dataset,
    units_table,
    with_periods,
)
from allocopt.scenario.schema import Scenario
from allocopt.scenario.tables import RESOURCES

CAPABILITIES = "capabilities"
FLOAT_FORMAT = "%.10g"
# the shadow-price table (allocopt.optimize.duals fills it)
DUAL_COLUMNS = ["period", "constraint", "resource", "activity", "value", "unit", "source"]
# the multi-start table (allocopt.optimize.starts.starts_table)
STARTS_COLUMNS = [
    "start",
    "risk_reduction_exact",
    "risk_reduction_model",
    "iterations",
    "status",
    "chosen",
]
# risks and the summary keep 12 decimal places, and 9 significant digits where that is more (a
# tiny hazard keeps its digits; bytes stay stable across platforms): see keep_digits
DECIMALS, SIGNIFICANT = 12, 9
VERSIONED = ("allocopt", "pyomo", "highspy")  # the distributions whose versions a result records
# the summary's first line for an optimum; any other status shows its NOT OPTIMAL note
STATUS_LINES = {
    Status.OPTIMAL: "optimal",
    Status.LOCALLY_OPTIMAL: "locally optimal (the outer loop converged: a local optimum of a "
    "nonconvex program, not proven global)",
}


def empty_duals() -> pd.DataFrame:
    """The duals table of a result that has none (e.g. a hand-written schedule)."""
    return pd.DataFrame({c: pd.Series(dtype=float if c == "value" else str) for c in DUAL_COLUMNS})


@cache
def _installed() -> tuple[tuple[str, str], ...]:
    out = []
    for name in VERSIONED:
        try:
            out.append((name, version(name)))
        except PackageNotFoundError:
            out.append((name, "unknown"))
    return tuple(out)


def versions() -> dict[str, str]:
    """The installed version of each distribution of VERSIONED ("unknown" when not installed
    as a distribution), as a new dict."""
    return dict(_installed())


def schedule_of(allocation: pd.DataFrame, scenario: Scenario) -> Schedule:
    """The schedule an allocation table reports (effort per intervention, resources to
    capabilities), in ``scenario``'s period and catalog order; values as the table rounds them
    (9 decimals)."""
    ids = [i.id for i in scenario.interventions()]
    periods = list(scenario.periods().labels)
    effort = allocation[allocation.resource == "effort"].pivot(index="period", columns="activity")
    caps = allocation[allocation.activity == CAPABILITIES].pivot(index="period", columns="resource")
    return Schedule(
        effort=effort["value"].loc[periods, ids].to_numpy(),
        capabilities=caps["value"].loc[periods, list(RESOURCES)].to_numpy(),
    )


def _decimals(magnitude: np.ndarray) -> np.ndarray:
    """Decimal places that keep :data:`DECIMALS` of them and :data:`SIGNIFICANT` significant
    digits of values of ``magnitude`` (> 0, finite)."""
    places = SIGNIFICANT - 1 - np.floor(np.log10(magnitude))
    return np.clip(places, DECIMALS, 300).astype(int)


def keep_digits(values: np.ndarray) -> np.ndarray:
    """``values`` rounded to :data:`DECIMALS` decimal places, or to :data:`SIGNIFICANT`
    significant digits where that keeps more (below 1e-4 in magnitude); zeros and non-finite
    values as they are."""
    values = np.asarray(values, dtype=float)
    out = values.copy()
    magnitude = np.abs(values)
    real = np.isfinite(values) & (magnitude > 0)
    places = np.zeros(values.shape, dtype=int)
    places[real] = _decimals(magnitude[real])
    for n in np.unique(places[real]):
        chosen = real & (places == n)
        out[chosen] = values[chosen].round(n)
    return out


def keep_digits_of(value: float) -> float:
    """One value as :func:`keep_digits` rounds it (Python's correctly rounded ``round``)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, int(_decimals(np.array(abs(value)))))


def write_tables(folder: str | Path, tables: dict[str, pd.DataFrame]) -> list[Path]:
    """Write each table as ``<name>.csv`` into ``folder`` (tidy, LF line ends, 10 significant
    digits); files appear whole or not at all."""

    def fill(staging: Path) -> None:
        for name, frame in tables.items():
            frame.to_csv(
                staging / f"{name}.csv",
                index=False,
                float_format=FLOAT_FORMAT,
                lineterminator="\n",
            )

    return write_folder(folder, fill)


# a velocity hit within this of its cap counts as at the cap (the LP's optimum sits on it to
# about 1e-9; the tie-break may leave it a few 1e-7 below)
CAP_TOLERANCE = 1e-6


SURVIVAL = "Chance of no catastrophe, including the risk past the horizon"


def past_horizon_hazard(s: Mapping[str, Any]) -> float:
    """The cumulative hazard the risk past the horizon adds without safety work (0 when nothing
    past the horizon is counted), from a result's ``summary``: ``log((1 - p) / (1 - p_past))``
    with ``p`` the probability of catastrophe within the horizon and ``p_past`` the one including
    the risk past it, both without safety work. Unit: cumulative hazard."""
    within = 1 - float(s["probability_without_plan"])
    including = 1 - float(s["probability_without_plan_and_postponed"])
    return math.log(within / including) if including < within else 0.0


def past_horizon_note(s: Mapping[str, Any]) -> str:
    """Why the percentage points including the risk past the horizon are few, in words, from a
    result's ``summary`` (the terminal's and the report's): the hazard past the horizon
    (:func:`past_horizon_hazard`) keeps both probabilities including it near 100%."""
    return (
        f"without safety work the risk past the horizon adds {past_horizon_hazard(s):.2f} in "
        "cumulative hazard: it keeps the probabilities including it near "
        f"{float(s['probability_without_plan_and_postponed']):.0%}, so their difference in "
        "points is small; compare plans and scenarios by the cut in cumulative hazard or the "
        "chance of no catastrophe"
    )


def survival(s: Mapping[str, Any]) -> str:
    """The chance of no catastrophe including the risk past the horizon, without safety work
    and with the plan, and their ratio (``exp`` of the exact cut in cumulative hazard), in
    words, from a result's ``summary`` (the terminal's and the report's line :data:`SURVIVAL`)."""
    without = 1 - float(s["probability_without_plan_and_postponed"])
    with_plan = 1 - float(s["probability_with_plan_and_postponed"])
    return (
        f"{without:.2%} without safety work, {with_plan:.2%} with the plan "
        f"({math.exp(float(s['risk_reduction_exact'])):.2f} times: the cut in cumulative hazard "
        "is its logarithm)"
    )


@dataclass
class Result:
    """Everything a solve produced. Tables are pandas DataFrames in long (tidy) format; nothing
    is stored twice (``status`` and ``violations`` live here only, not in ``summary``)."""

    scenario_name: str
    status: Status | str  # a Status; plain strings compare equal to Status values
    objective_model: float
    allocation: pd.DataFrame
    stocks: pd.DataFrame
    knobs: pd.DataFrame
    portfolio: pd.DataFrame
    shares: pd.DataFrame
    risk: pd.DataFrame
    summary: dict[str, float | str]
    schedule: Schedule  # the solved allocation as arrays (the allocation table shows it rounded)
    scenario: Scenario  # the validated scenario the result came from
    iterations: pd.DataFrame = field(default_factory=pd.DataFrame)
    violations: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    objective_bound: float | None = None  # best proven bound, where the solver reports one
    relative_gap: float | None = None  # |bound - objective| / max(1, |objective|), where known
    versions: dict[str, str] = field(default_factory=versions)  # allocopt, pyomo, highspy
    # one row per start of the outer loop (allocopt.optimize.starts.starts_table); no rows for
    # the core program
    starts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=STARTS_COLUMNS))

    @property
    def is_optimal(self) -> bool:
        """True only for a proven optimum that passed the simulator's check (``optimal``); a
        converged outer loop (``locally_optimal``) is not (see :attr:`is_local_optimum`)."""
        return self.status == Status.OPTIMAL

    @property
    def is_local_optimum(self) -> bool:
        """True for a checked optimum, proven or local (``optimal``, ``locally_optimal``)."""
        return Status(self.status).is_local_optimum

    def status_note(self) -> str:
        """Marker for every title and summary showing a non-optimal result, such as
        "NOT OPTIMAL (time_limit, gap 2.1%)"; empty for an optimum, proven or local (the
        summary's first line says which)."""
        if self.is_local_optimum:
            return ""
        gap = "" if self.relative_gap is None else f", gap {self.relative_gap:.2%}"
        return f"NOT OPTIMAL ({self.status}{gap})"

    duals: pd.DataFrame = field(
        default_factory=empty_duals
    )  # shadow prices, see allocopt.optimize.duals

    def tables(self, *, as_periods: bool = False) -> dict[str, pd.DataFrame]:
        """Every table by name: the result's tables, the summary as a typed table (``key``,
        ``value``, ``text``, ``unit``) and ``units`` (the unit of each column of the wide tables
        ``knobs``, ``iterations`` and ``starts``). Periods are text labels ("2025Q1"), as CSV
        stores them, or pandas Periods with ``as_periods``."""
        tables = {
            "allocation": self.allocation,
            "stocks": self.stocks,
            "knobs": self.knobs,
            "portfolio": self.portfolio,
            "shares": self.shares,
            "risk": self.risk,
            "iterations": self.iterations,
            "duals": self.duals,
            "starts": self.starts,
            "summary": summary_table(self.summary),
            "units": units_table(),
        }
        return {k: with_periods(v) for k, v in tables.items()} if as_periods else tables

    def to_xarray(self) -> xr.Dataset:
        """The tables as one Dataset over period (pandas Periods) × activity × resource (plus
        category and channel), units in each variable's ``attrs["units"]``; the scenario, status,
        numeric summary values and versions in the Dataset's attributes (see
        :func:`allocopt.results.views.to_dataset`)."""
        numbers = {k: v for k, v in self.summary.items() if not isinstance(v, str)}
        attrs = {
            "scenario": self.scenario_name,
            "status": str(self.status),
            **numbers,
            **{f"version_{k}": v for k, v in self.versions.items()},
        }
        return to_dataset(self.tables(), attrs)

    def to_netcdf(self, path: str | Path) -> Path:
        """Write :meth:`to_xarray` as a netCDF-4 file (h5netcdf engine; periods as text labels),
        whole or not at all; returns ``path``."""
        dataset = for_netcdf(self.to_xarray())
        return atomic_write(path, lambda tmp: dataset.to_netcdf(tmp, engine="h5netcdf"))

    def _headline(self) -> dict[str, str]:
        s = self.summary
        return {
            "status": self.status_note() or str(self.status),
            "periods": f"{s['periods']}, regime switch {s['regime_switch_period']}",
            label("risk_reduction_exact"): f"{s['risk_reduction_exact']:.6f} (the objective)",
            SURVIVAL.lower(): survival(s),
            "probability of catastrophe, without safety work -> with the plan": (
                f"{s['probability_without_plan']:.2%} -> {s['probability_with_plan']:.2%} within "
                f"the horizon; {s['probability_without_plan_and_postponed']:.2%} -> "
                f"{s['probability_with_plan_and_postponed']:.2%} including the risk past it"
            ),
            "tables": ", ".join(self.tables()),
        }

    def __repr__(self) -> str:
        return short_repr(f"Result({self.scenario_name!r})", self._headline())

    def _repr_html_(self) -> str:
        return html_repr(f"allocopt Result: {self.scenario_name}", self._headline())

    def to_csv(self, folder: str | Path) -> list[Path]:
        """Write every table as CSV into ``folder``; files appear whole or not at all."""
        return write_tables(folder, self.tables())

    def text_summary(self) -> str:
        """A few lines a person reads after a solve."""
        s = self.summary
        k = self.knobs
        pre, post = k[k.regime == "pre_acceleration"], k[k.regime == "post_acceleration"]
        lines = [
            f"scenario {self.scenario_name}: {self.status_note() or STATUS_LINES[Status(self.status)]}",
            f"  {label('risk_reduction_exact')}: {s['risk_reduction_exact']:.6f} in "
            f"{unit('risk_reduction_exact')}: the objective (program {s['risk_reduction_model']:.6f},"
            f" approximation gap {s['approximation_gap']:.3%})",
            f"  {SURVIVAL}: {survival(s)}",
            *(f"  {label(name)}: {s[name]:.2%}" for name in PROBABILITIES),
            f"  {label('probability_reduction_points')}: "
            f"{s['probability_reduction_points']:.2f} {unit('probability_reduction_points')} "
            f"({s['probability_reduction_relative']:.1%} relative)",
        ]
        lines.append(
            f"  ({past_horizon_note(s)})"
            if past_horizon_hazard(s) > 0
            else "  (nothing past the horizon is counted here: no tail, no postponed risk; "
            "the probabilities including it equal those within the horizon)"
        )
        lines.append(f"  regime switch (speed-up >= threshold): {s['regime_switch_period']}")
        if s.get("outer_iterations"):
            lines.append(
                f"  endogenous capability: {s['outer_iterations']} outer iterations "
                f"({self.timings.get('per_iteration', math.nan):.2f} s each), "
                f"{s['delay_at_horizon_years']:.2f} years of progress given up by the horizon"
            )
        if "variation_before" in s:
            lines.append(
                f"  tie-break ({s['tie_break']}): period-to-period variation of the allocation "
                f"{s['variation_before']:.4f} before, {s['variation_after']:.4f} after "
                "(sum of changes in budget shares)"
            )
        if s.get("starts", 1) > 1:
            lines.append(
                f"  {s['starts']} starts of the outer loop: best {s['best_start']} "
                f"({s['best_start_gain']:+.3%} on the first), spread {s['starts_spread']:.3%} "
                "of the best over the locally optimal ones (starts table)"
            )
        capped = 0
        for name, part in (("before", pre), ("after", post)):
            if len(part):
                at_cap = int((part.velocity_hit >= part.velocity_hit_cap - CAP_TOLERANCE).sum())
                capped += at_cap
                caps = part.velocity_hit_cap.unique()
                cap = f"its {caps[0]:.0%} cap" if len(caps) == 1 else "its cap"
                lines.append(
                    f"  {name} the switch: mean velocity hit {part.velocity_hit.mean():.1%} "
                    f"(at {cap} in {at_cap} of {len(part)} periods), "
                    f"preparation share of safety {part.preparation_share.mean():.0%}"
                )
        if capped:
            lines.append(
                "  (where the hit is at its cap, the cap sets it: the value of slowing in "
                "`allocopt report` prices one more point of it, period by period and term by "
                "term; heuristic 1, with the caps lifted, is in notebook 03)"
            )
        mix = self.portfolio.groupby("category", sort=False).share.mean()
        if mix.sum() > 0:
            lines.append(
                "  safety portfolio (mean share of safety resources per period): "
                + ", ".join(
                    f"{CATEGORY_LABELS.get(c, c)} {v:.0%}"
                    for c, v in mix.sort_values(ascending=False, kind="stable").items()
                )
            )
        if self.timings:
            lines.append("  time: " + ", ".join(f"{k} {v:.2f} s" for k, v in self.timings.items()))
        return "\n".join(lines)
