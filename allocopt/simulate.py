"""Exact evaluation of any schedule (numpy only, no solver): stocks, velocity, hazards, risk, and
every constraint the schedule violates — an independent check of the LP's answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocopt.curves import benefit, residual
from allocopt.data import RESOURCES
from allocopt.inputs import Inputs

TOLERANCE = 1e-6  # relative slack allowed before a constraint counts as violated


@dataclass(frozen=True)
class Schedule:
    """A plan: effort per period and intervention (EU) and resources to capabilities (kH100e, FTE)."""

    effort: np.ndarray  # [T, I]
    capabilities: np.ndarray  # [T, R]


@dataclass(frozen=True)
class Evaluation:
    """Exact consequences of a schedule under the scenario's nonlinear curves."""

    use: np.ndarray  # [T, I, R] resources to each intervention
    stock: np.ndarray  # [T, I] preparation stocks (EU*year; zero for mitigation)
    level: np.ndarray  # [T, I] stock or effort acting in each period
    benefit: np.ndarray  # [T, I] in [0, 1)
    capacity: np.ndarray  # [T, CH] e-folds
    residual: np.ndarray  # [T, CH] share of reference hazard remaining
    hazard_plan: np.ndarray  # [T, CH] per year
    velocity: np.ndarray  # [T]
    violations: tuple[str, ...]

    @property
    def velocity_hit(self) -> np.ndarray:
        """One minus velocity, per period."""
        return 1 - self.velocity


def stocks(inp: Inputs, effort: np.ndarray) -> np.ndarray:
    """stock[t,p] = retention[p] * stock[t-1,p] + dt * effort[t - lead[p], p] for preparation."""
    n_periods, n_items = effort.shape
    out = np.zeros((n_periods, n_items))
    for i in np.flatnonzero(inp.is_preparation):
        lead = int(inp.lead_periods[i])
        for t in range(n_periods):
            carried = inp.retention[i] * out[t - 1, i] if t > 0 else 0.0
            out[t, i] = carried + (inp.dt * effort[t - lead, i] if t >= lead else 0.0)
    return out


def evaluate(inp: Inputs, schedule: Schedule) -> Evaluation:
    """Run the exact dynamics of ``schedule`` and list the constraints it violates."""
    effort, caps = schedule.effort, schedule.capabilities
    use = effort[:, :, None] * inp.intensity[None, :, :]
    stock = stocks(inp, effort)
    level = np.where(inp.is_preparation[None, :], stock, effort)
    ben = benefit(level / inp.saturation[None, :])
    capacity = ben @ inp.effect
    rho = residual(capacity, inp.residual_floor[None, :])
    velocity = (inp.weights[None, :] * caps / inp.budget).sum(axis=1)
    return Evaluation(
        use=use,
        stock=stock,
        level=level,
        benefit=ben,
        capacity=capacity,
        residual=rho,
        hazard_plan=inp.hazard * rho,
        velocity=velocity,
        violations=tuple(violations(inp, schedule, use, velocity)),
    )


def violations(inp: Inputs, schedule: Schedule, use: np.ndarray, velocity: np.ndarray) -> list[str]:
    """One line per violated constraint: budgets, velocity-hit cap, safety floor, effort bounds,
    staff re-assignment and growth."""
    labels = inp.periods.labels
    out: list[str] = []
    safety = use.sum(axis=1)  # [T, R]
    spent = safety + schedule.capabilities
    for t, p in enumerate(labels):
        for k, r in enumerate(RESOURCES):
            b = inp.budget[t, k]
            if spent[t, k] > b * (1 + TOLERANCE) + TOLERANCE:
                out.append(f"{p}: {r} used {spent[t, k]:.6g} exceeds the budget {b:.6g}")
            if safety[t, k] < inp.safety_floor[k] * b * (1 - TOLERANCE) - TOLERANCE:
                out.append(
                    f"{p}: {r} to safety {safety[t, k]:.6g} is below the safety floor "
                    f"{inp.safety_floor[k]:.0%} of {b:.6g}"
                )
        if 1 - velocity[t] > inp.hit_cap[t] + TOLERANCE:
            out.append(
                f"{p}: velocity hit {1 - velocity[t]:.4%} exceeds the cap {inp.hit_cap[t]:.2%}"
            )
    if (schedule.effort < -TOLERANCE).any() or (schedule.capabilities < -TOLERANCE).any():
        out.append("negative allocation")
    over = schedule.effort > inp.max_effort[None, :] * (1 + TOLERANCE)
    for t, i in zip(*np.nonzero(over), strict=True):
        out.append(
            f"{labels[t]}: effort on {inp.ids[i]} exceeds its max_effort {inp.max_effort[i]:g}"
        )
    out += _staff_violations(inp, use[:, :, 1], schedule.capabilities[:, 1])
    return out


def _staff_violations(inp: Inputs, staff_items: np.ndarray, staff_caps: np.ndarray) -> list[str]:
    staff = np.column_stack([staff_caps, staff_items])  # [T, activities]
    budget = inp.budget[:, 1]
    growth = (1 + inp.staff_growth_max_per_year) ** inp.dt
    out = []
    for t in range(1, len(budget)):
        inflow = np.clip(staff[t] - staff[t - 1], 0, None).sum()
        allowed = max(0.0, budget[t] - budget[t - 1]) + (
            inp.reassignment_share_per_year * inp.dt * budget[t - 1]
        )
        p = inp.periods.labels[t]
        if inflow > allowed * (1 + TOLERANCE) + TOLERANCE:
            out.append(
                f"{p}: {inflow:.6g} FTE moved between activities exceeds the "
                f"re-assignment limit {allowed:.6g} FTE"
            )
        if staff[t].sum() > growth * staff[t - 1].sum() * (1 + TOLERANCE) + TOLERANCE:
            out.append(
                f"{p}: employed staff grows faster than {inp.staff_growth_max_per_year:.0%} "
                "per year"
            )
    return out
