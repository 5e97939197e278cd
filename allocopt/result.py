"""The result of a solve: tidy tables (long format with units), knob series, risk, status, timings.

No Pyomo object reaches this module: it is built from plain arrays (a schedule and its exact
evaluation), so results can be saved, compared and plotted without the model.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from allocopt.data import CATEGORIES, CHANNELS, RESOURCE_UNITS, RESOURCES
from allocopt.duals import empty_duals
from allocopt.inputs import Inputs
from allocopt.simulate import Evaluation, Schedule

CAPABILITIES = "capabilities"
FLOAT_FORMAT = "%.10g"


@dataclass
class Result:
    """Everything a solve produced. Tables are pandas DataFrames in long (tidy) format."""

    scenario_name: str
    status: str
    objective_model: float
    allocation: pd.DataFrame
    stocks: pd.DataFrame
    knobs: pd.DataFrame
    portfolio: pd.DataFrame
    risk: pd.DataFrame
    summary: dict[str, float | str]
    violations: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    duals: pd.DataFrame = field(default_factory=empty_duals)  # shadow prices, see allocopt.duals

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name, the summary included as a two-column table."""
        summary = pd.DataFrame({"key": list(self.summary), "value": list(self.summary.values())})
        return {
            "allocation": self.allocation,
            "stocks": self.stocks,
            "knobs": self.knobs,
            "portfolio": self.portfolio,
            "risk": self.risk,
            "duals": self.duals,
            "summary": summary,
        }

    def to_csv(self, folder: str | Path) -> list[Path]:
        """Write every table as CSV into ``folder``; files appear whole or not at all."""
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            for name, frame in self.tables().items():
                frame.to_csv(
                    staging / f"{name}.csv",
                    index=False,
                    float_format=FLOAT_FORMAT,
                    lineterminator="\n",
                )
            folder.mkdir(exist_ok=True)
            written = []
            for path in sorted(staging.iterdir()):
                os.replace(path, folder / path.name)
                written.append(folder / path.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return written

    def text_summary(self) -> str:
        """A few lines a person reads after a solve."""
        s = self.summary
        k = self.knobs
        pre, post = k[k.regime == "pre_acceleration"], k[k.regime == "post_acceleration"]
        lines = [
            f"scenario {self.scenario_name}: {self.status}",
            f"  catastrophe probability over the horizon: {s['probability_without_plan']:.2%} "
            f"without safety work, {s['probability_with_plan']:.2%} with the plan "
            f"(-{s['probability_reduction']:.2%})",
            f"  cumulative hazard cut: model {s['risk_reduction_model']:.6f}, exact "
            f"{s['risk_reduction_exact']:.6f} (gap {s['approximation_gap']:.3%})",
            f"  regime switch (speed-up >= threshold): {s['regime_switch_period']}",
        ]
        for name, part in (("before", pre), ("after", post)):
            if len(part):
                lines.append(
                    f"  {name} the switch: mean velocity hit {part.velocity_hit.mean():.1%}, "
                    f"preparation share of safety {part.preparation_share.mean():.0%}"
                )
        if self.timings:
            lines.append("  time: " + ", ".join(f"{k} {v:.2f} s" for k, v in self.timings.items()))
        return "\n".join(lines)


def _long(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return frame.reset_index(drop=True)[columns]


def build_result(
    inp: Inputs,
    schedule: Schedule,
    ev: Evaluation,
    status: str,
    objective_model: float,
    timings: dict[str, float],
    duals: pd.DataFrame | None = None,
) -> Result:
    """Assemble the tidy tables of a solved (or hand-written) schedule and its exact evaluation."""
    labels = list(inp.periods.labels)
    items = inp.interventions
    n_t = len(labels)

    blocks = []  # (activity, category, mode, resource, unit, values over periods)
    for k, r in enumerate(RESOURCES):
        unit = RESOURCE_UNITS[r]
        blocks.append(
            (CAPABILITIES, CAPABILITIES, CAPABILITIES, r, unit, schedule.capabilities[:, k])
        )
        blocks += [
            (i.id, i.category, i.mode, r, unit, ev.use[:, n, k]) for n, i in enumerate(items)
        ]
        if k == 0:
            blocks += [
                (i.id, i.category, i.mode, "effort", "EU", schedule.effort[:, n])
                for n, i in enumerate(items)
            ]
    names = ["activity", "category", "mode", "resource", "unit"]
    allocation = pd.DataFrame(
        {
            "period": np.tile(labels, len(blocks)),
            **{c: np.repeat([b[j] for b in blocks], n_t) for j, c in enumerate(names)},
            "value": np.concatenate([b[5] for b in blocks]),
        }
    )[["period", "activity", "category", "mode", "resource", "value", "unit"]]
    allocation["value"] = allocation["value"].clip(lower=0).round(9)

    prep = np.flatnonzero(inp.is_preparation)
    stocks = pd.DataFrame(
        {
            "period": np.repeat(labels, len(prep)),
            "activity": [items[i].id for i in prep] * n_t,
            "value": ev.stock[:, prep].ravel().round(9),
            "unit": "EU*year",
        }
    )

    safety_w = (ev.use.sum(axis=1) / inp.budget) @ inp.weights  # velocity-weighted safety share
    prep_w = (ev.use[:, prep, :].sum(axis=1) / inp.budget) @ inp.weights
    knobs = pd.DataFrame(
        {
            "period": labels,
            "regime": np.where(inp.post_acceleration, "post_acceleration", "pre_acceleration"),
            "ai_rnd_speedup": inp.speedup,
            "velocity": ev.velocity.round(9),
            "velocity_hit": (1 - ev.velocity).round(9),
            "velocity_hit_cap": inp.hit_cap,
            "safety_share_compute": (ev.use[:, :, 0].sum(axis=1) / inp.budget[:, 0]).round(9),
            "safety_share_staff": (ev.use[:, :, 1].sum(axis=1) / inp.budget[:, 1]).round(9),
            "preparation_share": np.divide(
                prep_w, safety_w, out=np.zeros(n_t), where=safety_w > 1e-12
            ).round(9),
        }
    )

    by_cat = np.zeros((n_t, len(CATEGORIES)))
    for n, item in enumerate(items):
        by_cat[:, CATEGORIES.index(item.category)] += (ev.use[:, n, :] / inp.budget) @ inp.weights
    share = np.divide(
        by_cat,
        by_cat.sum(axis=1, keepdims=True),
        out=np.zeros_like(by_cat),
        where=by_cat.sum(axis=1, keepdims=True) > 1e-12,
    )
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
            "hazard_without_plan": inp.hazard.ravel(),
            "hazard_with_plan": ev.hazard_plan.ravel().round(12),
            "unit": "per year",
        }
    )

    cum_ref = float(inp.hazard.sum() * inp.dt)
    cum_plan = float(ev.hazard_plan.sum() * inp.dt)
    exact = cum_ref - cum_plan
    switch = np.flatnonzero(inp.post_acceleration)
    summary: dict[str, float | str] = {
        "scenario": inp.scenario_name,
        "status": status,
        "periods": f"{labels[0]}–{labels[-1]}",
        "regime_switch_period": labels[switch[0]] if len(switch) else "none",
        "risk_reduction_model": objective_model,
        "risk_reduction_exact": exact,
        "approximation_gap": (objective_model - exact) / exact if exact > 0 else math.nan,
        "probability_without_plan": -math.expm1(-cum_ref),
        "probability_with_plan": -math.expm1(-cum_plan),
        "probability_reduction": math.exp(-cum_plan) - math.exp(-cum_ref),
        "violations": len(ev.violations),
    }
    summary = {k: (round(v, 12) if isinstance(v, float) else v) for k, v in summary.items()}
    return Result(
        scenario_name=inp.scenario_name,
        status=status,
        objective_model=objective_model,
        allocation=allocation,
        stocks=stocks,
        knobs=knobs,
        portfolio=portfolio,
        risk=risk,
        summary=summary,
        violations=ev.violations,
        timings=timings,
        duals=empty_duals() if duals is None else duals,
    )
