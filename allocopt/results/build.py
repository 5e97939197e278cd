"""The tables of a :class:`~allocopt.results.result.Result`, built from plain arrays: a schedule,
its exact evaluation and the solve's records (called by :func:`allocopt.optimize.finish.to_result`,
the one path from a solved program to a result)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import Evaluation, Schedule
from allocopt.results.result import (
    CAPABILITIES,
    STARTS_COLUMNS,
    Result,
    empty_duals,
    keep_digits,
    keep_digits_of,
)
from allocopt.results.status import Status
from allocopt.scenario.schema import Scenario
from allocopt.scenario.tables import CATEGORIES, CHANNELS, RESOURCE_UNITS, RESOURCES


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


def cumulative_hazards(inp: Inputs, ev: Evaluation) -> tuple[float, float]:
    """Cumulative hazard including the risk past the horizon (the tail, when there is one),
    without safety work and with ``ev``'s plan (which counts the own risk it postpones):
    ``(reference, plan)``; their difference is ``ev.risk_reduction(inp)``."""
    reference = float(inp.hazard_full.sum() * inp.dt + ev.tail_full.sum())
    return reference, reference - ev.risk_reduction(inp)


def probabilities(inp: Inputs, ev: Evaluation) -> dict[str, float]:
    """The four probabilities of catastrophe of :data:`allocopt.results.names.HEADLINE`, by
    name: without safety work and with ``ev``'s plan, within the horizon and including the
    risk past it (:func:`cumulative_hazards`). Every table that shows one shows its pair."""
    reference, plan = cumulative_hazards(inp, ev)
    return {
        "probability_without_plan": -math.expm1(-float(inp.hazard_full.sum() * inp.dt)),
        "probability_without_plan_and_postponed": -math.expm1(-reference),
        "probability_with_plan": -math.expm1(-float(ev.hazard_plan.sum() * inp.dt)),
        "probability_with_plan_and_postponed": -math.expm1(-plan),
    }


def build_result(
    inp: Inputs,
    scenario: Scenario,
    schedule: Schedule,
    ev: Evaluation,
    status: Status | str,
    objective_model: float,
    timings: dict[str, float],
    iterations: pd.DataFrame | None = None,
    objective_bound: float | None = None,
    relative_gap: float | None = None,
    duals: pd.DataFrame | None = None,
    starts: pd.DataFrame | None = None,
    tie_break: Mapping[str, float | str] | None = None,
) -> Result:
    """Assemble the tidy tables of a solved schedule of ``scenario`` and its exact evaluation
    (called by :func:`allocopt.optimize.finish.to_result`, which sets ``status`` from the check);
    ``tie_break``: summary entries of the tie-break among near-equal optima, added as given."""
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

    cum_ref, cum_all = cumulative_hazards(inp, ev)
    exact = ev.risk_reduction(inp)
    switch = np.flatnonzero(point.post_acceleration)
    summary: dict[str, float | str] = {
        "scenario": inp.scenario_name,
        "periods": f"{labels[0]}–{labels[-1]}",
        "regime_switch_period": labels[switch[0]] if len(switch) else "none",
        "risk_reduction_model": objective_model,
        "risk_reduction_exact": exact,
        "approximation_gap": (objective_model - exact) / exact if exact > 0 else math.nan,
        **probabilities(inp, ev),
        "probability_reduction_points": 100 * (math.exp(-cum_all) - math.exp(-cum_ref)),
        "probability_reduction_relative": (
            (math.exp(-cum_all) - math.exp(-cum_ref)) / -math.expm1(-cum_ref)
            if cum_ref > 0
            else math.nan
        ),
        "delay_at_horizon_years": ev.delay_end,
        "postponed_risk": ev.postponed_risk,
        "outer_iterations": 0 if iterations is None else len(iterations),
    }
    if starts is not None and len(starts) > 1:
        summary.update(_spread(starts))
    summary.update(tie_break or {})
    if status != Status.OPTIMAL:  # no proven bound for a local optimum either
        summary["objective_bound"] = math.nan if objective_bound is None else objective_bound
        summary["relative_gap"] = math.nan if relative_gap is None else relative_gap
    summary = {k: (keep_digits_of(v) if isinstance(v, float) else v) for k, v in summary.items()}
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
        iterations=pd.DataFrame() if iterations is None else iterations,
        violations=ev.violations,
        timings=timings,
        objective_bound=objective_bound,
        relative_gap=relative_gap,
        duals=empty_duals() if duals is None else duals,
        starts=pd.DataFrame(columns=STARTS_COLUMNS) if starts is None else starts,
    )


def _spread(starts: pd.DataFrame) -> dict[str, float | str]:
    """Summary rows of a multi-start table: how many starts, the start the result holds
    (``chosen``), its relative gain on the first start, and the spread (best less worst exact
    risk reduction, relative to the chosen one) over the locally optimal starts."""
    local = starts[starts.status == Status.LOCALLY_OPTIMAL]
    best = starts[starts.chosen].iloc[0]
    first = float(starts.risk_reduction_exact.iloc[0])
    values = local.risk_reduction_exact
    top = float(best.risk_reduction_exact)
    return {
        "starts": len(starts),
        "best_start": best.start,
        "best_start_gain": (top - first) / first if first > 0 else math.nan,
        "starts_spread": float(values.max() - values.min()) / top
        if len(local) and top > 0
        else math.nan,
    }
