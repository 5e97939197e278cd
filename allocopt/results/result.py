"""The result of a solve: tidy tables (long format with units), knob series, risk, status, timings,
the schedule and the validated scenario it came from, and the versions that produced it.

No Pyomo object reaches this module: it is built from plain arrays (a schedule and its exact
evaluation), so results can be saved, compared and plotted without the model. Results are made
by :func:`allocopt.optimize.finish.to_result` only (which checks the schedule first).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import Evaluation, Schedule
from allocopt.optimize.duals import empty_duals
from allocopt.optimize.outer import Iteration
from allocopt.results.files import write_folder
from allocopt.results.status import Status
from allocopt.scenario.schema import Scenario
from allocopt.scenario.tables import CATEGORIES, CHANNELS, RESOURCE_UNITS, RESOURCES

CAPABILITIES = "capabilities"
FLOAT_FORMAT = "%.10g"
# risks and the summary keep 12 decimal places, and 9 significant digits where that is more (a
# tiny hazard keeps its digits; bytes stay stable across platforms): see keep_digits
DECIMALS, SIGNIFICANT = 12, 9
ITERATION_COLUMNS = [f.name for f in fields(Iteration)]
VERSIONED = ("allocopt", "pyomo", "highspy")  # the distributions whose versions a result records


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


def _keep_digits_of(value: float) -> float:
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

    @property
    def is_optimal(self) -> bool:
        """True only for a proven optimum that passed the simulator's check."""
        return self.status == Status.OPTIMAL

    def status_note(self) -> str:
        """Marker for every title and summary showing a non-optimal result, such as
        "NOT OPTIMAL (time_limit, gap 2.1%)"; empty for an optimum."""
        if self.is_optimal:
            return ""
        gap = "" if self.relative_gap is None else f", gap {self.relative_gap:.2%}"
        return f"NOT OPTIMAL ({self.status}{gap})"

    duals: pd.DataFrame = field(
        default_factory=empty_duals
    )  # shadow prices, see allocopt.optimize.duals

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name, the summary included as a two-column table."""
        summary = pd.DataFrame({"key": list(self.summary), "value": list(self.summary.values())})
        return {
            "allocation": self.allocation,
            "stocks": self.stocks,
            "knobs": self.knobs,
            "portfolio": self.portfolio,
            "shares": self.shares,
            "risk": self.risk,
            "iterations": self.iterations,
            "duals": self.duals,
            "summary": summary,
        }

    def to_csv(self, folder: str | Path) -> list[Path]:
        """Write every table as CSV into ``folder``; files appear whole or not at all."""
        return write_tables(folder, self.tables())

    def text_summary(self) -> str:
        """A few lines a person reads after a solve."""
        s = self.summary
        k = self.knobs
        pre, post = k[k.regime == "pre_acceleration"], k[k.regime == "post_acceleration"]
        lines = [
            f"scenario {self.scenario_name}: {self.status_note() or self.status}",
            f"  catastrophe probability over the horizon: {s['probability_without_plan']:.2%} "
            f"without safety work, {s['probability_with_plan']:.2%} with the plan; "
            f"{s['probability_with_plan_and_postponed']:.2%} counting the own risk it postpones "
            f"(-{s['probability_reduction']:.2%})",
            f"  cumulative hazard cut: model {s['risk_reduction_model']:.6f}, exact "
            f"{s['risk_reduction_exact']:.6f} (gap {s['approximation_gap']:.3%})",
            f"  regime switch (speed-up >= threshold): {s['regime_switch_period']}",
        ]
        if s.get("outer_iterations"):
            lines.append(
                f"  endogenous capability: {s['outer_iterations']} outer iterations "
                f"({self.timings.get('per_iteration', math.nan):.2f} s each), "
                f"{s['delay_at_horizon_years']:.2f} years of progress given up by the horizon"
            )
        for name, part in (("before", pre), ("after", post)):
            if len(part):
                lines.append(
                    f"  {name} the switch: mean velocity hit {part.velocity_hit.mean():.1%}, "
                    f"preparation share of safety {part.preparation_share.mean():.0%}"
                )
        if self.timings:
            lines.append("  time: " + ", ".join(f"{k} {v:.2f} s" for k, v in self.timings.items()))
        return "\n".join(lines)


def _allocation(inp: Inputs, schedule: Schedule, ev: Evaluation) -> pd.DataFrame:
    """Long table of compute, staff and effort per period and activity, built in one DataFrame
    (one small frame per block made warm re-solves pay ~10 ms per result)."""
    labels = list(inp.periods.labels)
    items = inp.interventions
    blocks = []  # (activity, category, mode, resource, unit, values over periods)
    for k, r in enumerate(RESOURCES):
        unit = RESOURCE_UNITS[r]
        blocks.append(
            (CAPABILITIES, CAPABILITIES, CAPABILITIES, r, unit, schedule.capabilities[:, k])
        )
        blocks += [
            (i.id, i.category, i.mode, r, unit, ev.use[:, n, k]) for n, i in enumerate(items)
        ]
    blocks += [
        (i.id, i.category, i.mode, "effort", "EU", schedule.effort[:, n])
        for n, i in enumerate(items)
    ]
    names = ["activity", "category", "mode", "resource", "unit"]
    allocation = pd.DataFrame(
        {
            "period": np.tile(labels, len(blocks)),
            **{c: np.repeat([b[j] for b in blocks], len(labels)) for j, c in enumerate(names)},
            "value": np.concatenate([b[5] for b in blocks]),
        }
    )[["period", "activity", "category", "mode", "resource", "value", "unit"]]
    allocation["value"] = allocation["value"].clip(lower=0).round(9)
    return allocation


def build_result(
    inp: Inputs,
    scenario: Scenario,
    schedule: Schedule,
    ev: Evaluation,
    status: Status | str,
    objective_model: float,
    timings: dict[str, float],
    iterations: Sequence[Iteration] = (),
    objective_bound: float | None = None,
    relative_gap: float | None = None,
    duals: pd.DataFrame | None = None,
) -> Result:
    """Assemble the tidy tables of a solved schedule of ``scenario`` and its exact evaluation
    (called by :func:`allocopt.optimize.finish.to_result`, which sets ``status`` from the check)."""
    labels = list(inp.periods.labels)
    items = inp.interventions
    n_t = len(labels)
    point = ev.point
    budget = point.budget

    prep = np.flatnonzero(inp.is_preparation)
    weighted = np.einsum("tir,r->ti", ev.use / budget[:, None, :], inp.weights)  # [T, I]
    safety_w = weighted.sum(axis=1)  # velocity-weighted share of resources to safety
    prep_w = weighted[:, prep].sum(axis=1)
    stocks = pd.DataFrame(
        {
            "period": np.repeat(labels, len(prep)),
            "activity": [items[i].id for i in prep] * n_t,
            "value": ev.stock[:, prep].ravel().round(9),
            "unit": "EU*year",
        }
    )

    knobs = pd.DataFrame(
        {
            "period": labels,
            "regime": np.where(point.post_acceleration, "post_acceleration", "pre_acceleration"),
            "ai_rnd_speedup": point.speedup.round(9),
            "delay_years": point.delay.round(9),
            "velocity": ev.velocity.round(9),
            "velocity_hit": (1 - ev.velocity).round(9),
            "velocity_hit_cap": ev.hit_cap,
            "budget_compute": budget[:, 0].round(9),
            "budget_staff": budget[:, 1].round(9),
            "safety_share_compute": (ev.use[:, :, 0].sum(axis=1) / budget[:, 0]).round(9),
            "safety_share_staff": (ev.use[:, :, 1].sum(axis=1) / budget[:, 1]).round(9),
            "preparation_share": np.divide(
                prep_w, safety_w, out=np.zeros(n_t), where=safety_w > 1e-12
            ).round(9),
            "readiness": ev.readiness.round(9),
            "ai_multiplier": (1 + point.ai_gain).round(9),
        }
    )

    shares = pd.DataFrame(
        {
            "period": np.repeat(labels, len(items)),
            "activity": [i.id for i in items] * n_t,
            "category": [i.category for i in items] * n_t,
            "mode": [i.mode for i in items] * n_t,
            "essay_priority": [i.essay_priority or "" for i in items] * n_t,
            "value": weighted.ravel().round(12),
            "unit": "velocity-weighted share of resources",
        }
    )
    by_cat = np.column_stack(
        [weighted[:, [i.category == c for i in items]].sum(axis=1) for c in CATEGORIES]
    )
    total = by_cat.sum(axis=1, keepdims=True)
    share = np.divide(by_cat, total, out=np.zeros_like(by_cat), where=total > 1e-12)
    portfolio = pd.DataFrame(
        {
            "period": np.repeat(labels, len(CATEGORIES)),
            "category": list(CATEGORIES) * n_t,
            "share": share.ravel().round(9),
            "unit": "share of safety",
        }
    )

    risk = pd.DataFrame(
        {
            "period": np.repeat(labels, len(CHANNELS)),
            "channel": list(CHANNELS) * n_t,
            "hazard_without_plan": inp.hazard_full.ravel(),
            "hazard_before_safety": keep_digits(point.hazard.ravel()),
            "hazard_with_plan": keep_digits(ev.hazard_plan.ravel()),
            "unit": "per year",
        }
    )

    cum_ref = float(inp.hazard_full.sum() * inp.dt)
    exact = ev.risk_reduction(inp)
    cum_plan = float(ev.hazard_plan.sum() * inp.dt)  # within the horizon
    cum_all = cum_ref - exact  # plus the own risk the plan postpones beyond the horizon
    switch = np.flatnonzero(point.post_acceleration)
    summary: dict[str, float | str] = {
        "scenario": inp.scenario_name,
        "periods": f"{labels[0]}–{labels[-1]}",
        "regime_switch_period": labels[switch[0]] if len(switch) else "none",
        "risk_reduction_model": objective_model,
        "risk_reduction_exact": exact,
        "approximation_gap": (objective_model - exact) / exact if exact > 0 else math.nan,
        "probability_without_plan": -math.expm1(-cum_ref),
        "probability_with_plan": -math.expm1(-cum_plan),
        "probability_with_plan_and_postponed": -math.expm1(-cum_all),
        "probability_reduction": math.exp(-cum_all) - math.exp(-cum_ref),
        "delay_at_horizon_years": ev.delay_end,
        "postponed_risk": float(ev.residual[-1] @ ev.postponed),
        "outer_iterations": len(iterations),
    }
    if status != Status.OPTIMAL:
        summary["objective_bound"] = math.nan if objective_bound is None else objective_bound
        summary["relative_gap"] = math.nan if relative_gap is None else relative_gap
    summary = {k: (_keep_digits_of(v) if isinstance(v, float) else v) for k, v in summary.items()}
    return Result(
        scenario_name=inp.scenario_name,
        status=status,
        objective_model=objective_model,
        allocation=_allocation(inp, schedule, ev),
        stocks=stocks,
        knobs=knobs,
        portfolio=portfolio,
        shares=shares,
        risk=risk,
        summary=summary,
        schedule=schedule,
        scenario=scenario,
        iterations=pd.DataFrame([asdict(i) for i in iterations], columns=ITERATION_COLUMNS),
        violations=ev.violations,
        timings=timings,
        objective_bound=objective_bound,
        relative_gap=relative_gap,
        duals=empty_duals() if duals is None else duals,
    )
