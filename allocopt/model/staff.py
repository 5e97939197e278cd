"""Staff frictions: bounded growth of employed staff and bounded re-assignment between activities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from allocopt.model.family import FRICTIONS, Family, Finding, Mutable, Price, Row, Told, amount, pct
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import TOLERANCE, Evaluation, Schedule


def add_staff(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """For t after the first period, with s[t,a] = use[t,a,staff]:
    staff_inflow_def:  staff_inflow[t,a] >= s[t,a] - s[t-1,a];
    staff_reassignment:  sum_a staff_inflow[t,a]
        <= staff_hires[t] + reassignment_per_period * budget[t-1,staff]  (+ their first-order
        change with the delay when the staff budget follows Magma's position, hiring[t] = 1 when
        staff_hires[t] > 0), staff_hires[t] = max(0, budget[t,staff] - budget[t-1,staff]),
        reassignment_per_period = reassignment_share_per_year * dt;
    staff_growth:  sum_a s[t,a] <= staff_growth_factor * sum_a s[t-1,a],
        staff_growth_factor = (1 + staff_growth_max_per_year)^dt;
    staff_initial (when initial_safety_share is set):  sum_i s[first,i]
        <= (initial_safety_share + reassignment_per_period) * budget[first,staff].
    Each row is multiplied by resource_scale[staff] (docs/model.md, Units and scaling)."""
    reassign = m.reassignment_per_period  # = reassignment_share_per_year * dt
    prev = m.PERIODS.prev
    s = m.resource_scale["staff"]

    m.staff_inflow_def = pyo.Constraint(
        m.LATER_PERIODS,
        m.ACTIVITIES,
        rule=lambda m, t, a: (
            s * m.staff_inflow[t, a] >= s * (m.use[t, a, "staff"] - m.use[prev(t), a, "staff"])
        ),
    )
    shifts = inp.capability.endogenous and inp.capability.budget_frontier_share[1] > 0

    def reassignment_rule(m: pyo.ConcreteModel, t: str) -> object:
        limit = m.staff_hires[t] + reassign * m.budget[prev(t), "staff"]
        if shifts:

            def moved(s: str) -> object:
                return m.budget_slope[s, "staff"] * (m.delay[s] - m.delay_ref[s])

            limit += m.hiring[t] * (moved(t) - moved(prev(t))) + reassign * moved(prev(t))
        return s * sum(m.staff_inflow[t, a] for a in m.ACTIVITIES) <= s * limit

    m.staff_reassignment = pyo.Constraint(m.LATER_PERIODS, rule=reassignment_rule)
    m.staff_growth = pyo.Constraint(
        m.LATER_PERIODS,
        rule=lambda m, t: (
            s * sum(m.use[t, a, "staff"] for a in m.ACTIVITIES)
            <= s * m.staff_growth_factor * sum(m.use[prev(t), a, "staff"] for a in m.ACTIVITIES)
        ),
    )
    if inp.initial_safety_share is not None:
        first = m.PERIODS.first()
        start = inp.initial_safety_share + reassign
        m.staff_initial = pyo.Constraint(
            expr=s * sum(m.use[first, i, "staff"] for i in m.INTERVENTIONS)
            <= s * start * m.budget[first, "staff"]
        )


def _staff_scale(m: pyo.ConcreteModel, idx: tuple) -> object:
    return m.resource_scale["staff"]


def _growth(m: pyo.ConcreteModel, inp: Inputs, idx: tuple, bound: float) -> Told:
    return Told(f"staff growth cap {pct(inp.staff_growth_max_per_year)} per year", "staff")


def _reassignment(m: pyo.ConcreteModel, inp: Inputs, idx: tuple, bound: float) -> Told:
    phrase = (
        f"staff re-assignment limit {amount(bound, 'staff')} "
        f"({pct(inp.reassignment_share_per_year)} of staff per year plus new hires)"
    )
    return Told(phrase, "staff")


def _initial(m: pyo.ConcreteModel, inp: Inputs, idx: tuple, bound: float) -> Told:
    share = (inp.initial_safety_share or 0.0) + inp.reassignment_share_per_year * inp.dt
    phrase = (
        f"safety staff in the first period at most {pct(share)} of staff "
        f"(initial safety share {pct(inp.initial_safety_share or 0.0)} plus one "
        "period of re-assignment)"
    )
    return Told(phrase, "staff")


@dataclass(frozen=True)
class _Limits:
    """The friction rows on a schedule's own trajectory (staff in FTE): ``used[n] <= limit[n]``
    within ``slack[n]``; ``kind[n]`` is 0 (initial safety staff, period 0), 1 (re-assignment) or
    2 (growth), ``period[n]`` its period's index."""

    used: np.ndarray
    limit: np.ndarray
    slack: np.ndarray
    kind: np.ndarray
    period: np.ndarray


def _limits(inp: Inputs, schedule: Schedule, ev: Evaluation) -> _Limits:
    """Every friction row of ``schedule``. Each limit is met within :data:`TOLERANCE` relative to
    the staff it is computed from: the inflow is a sum of differences of staff levels, so its
    rounding error scales with the staff employed, not with the (much smaller) limit."""
    staff_items, budget = ev.use[:, :, 1], ev.point.budget[:, 1]
    staff = np.column_stack([schedule.capabilities[:, 1], staff_items])  # [T, activities]
    growth = (1 + inp.staff_growth_max_per_year) ** inp.dt
    rows: list[tuple[float, float, float, int, int]] = []
    if inp.initial_safety_share is not None:
        start = (inp.initial_safety_share + inp.reassignment_share_per_year * inp.dt) * budget[0]
        rows.append((staff_items[0].sum(), start, TOLERANCE * (start + 1), 0, 0))
    for t in range(1, len(budget)):
        inflow = np.clip(staff[t] - staff[t - 1], 0, None).sum()
        allowed = max(0.0, budget[t] - budget[t - 1]) + (
            inp.reassignment_share_per_year * inp.dt * budget[t - 1]
        )
        employed = max(staff[t].sum(), staff[t - 1].sum())
        rows.append((inflow, allowed, TOLERANCE * (employed + 1), 1, t))
        grown = growth * staff[t - 1].sum()
        rows.append((staff[t].sum(), grown, TOLERANCE * (grown + 1), 2, t))
    used, limit, slack, kind, period = np.array(rows, dtype=float).reshape(-1, 5).T
    return _Limits(used, limit, slack, kind.astype(int), period.astype(int))


def friction_excess(inp: Inputs, schedule: Schedule, ev: Evaluation) -> np.ndarray:
    """[rows] Staff used beyond each friction's limit on ``schedule``'s own trajectory, relative
    to its limit (floored at the row's slack): 0 where the friction holds (dimensionless; the
    outer loop's merit prices their sum, :func:`allocopt.optimize.outer.merit`)."""
    rows = _limits(inp, schedule, ev)
    excess = np.clip(rows.used - rows.limit, 0, None)
    return excess / np.maximum(rows.limit, rows.slack)


def check_staff(inp: Inputs, schedule: Schedule, ev: Evaluation) -> list[Finding]:
    """Safety staff in the first period beyond the initial share, and staff moved or grown
    beyond the frictions' limits (on the schedule's own trajectory), each within its slack
    (:func:`_limits`)."""
    rows = _limits(inp, schedule, ev)
    out: list[Finding] = []
    for n in np.flatnonzero(rows.used > rows.limit + rows.slack):
        t, kind = int(rows.period[n]), int(rows.kind[n])
        p = inp.periods.labels[t]
        if kind == 0:
            said = (
                f"{p}: {rows.used[n]:.6g} FTE on safety exceeds "
                f"the initial safety staff plus re-assignment, {rows.limit[n]:.6g} FTE"
            )
        elif kind == 1:
            said = (
                f"{p}: {rows.used[n]:.6g} FTE moved between activities exceeds the "
                f"re-assignment limit {rows.limit[n]:.6g} FTE"
            )
        else:
            said = f"{p}: employed staff grows faster than {inp.staff_growth_max_per_year:.0%} per year"
        out.append(((FRICTIONS, t, kind), said))
    return out


FAMILY = Family(
    name="staff",
    add=add_staff,
    rows=(
        Row("staff_inflow_def", scale=_staff_scale),
        Row(
            "staff_reassignment",
            rank=3,
            told=_reassignment,
            scale=_staff_scale,
            price=Price(
                3, lambda idx: ("staff", "", "risk reduction per FTE of re-assignment allowance")
            ),
        ),
        Row(
            "staff_growth",
            rank=2,
            told=_growth,
            scale=_staff_scale,
            price=Price(2, lambda idx: ("staff", "", "risk reduction per FTE of growth allowance")),
        ),
        Row("staff_initial", rank=4, told=_initial, scale=_staff_scale),
    ),
    params=(
        Mutable("staff_hires", "t", lambda inp, lin: lin.staff_hires),
        Mutable(
            "staff_growth_factor",
            "",
            lambda inp, lin: (1 + inp.staff_growth_max_per_year) ** inp.dt,
        ),
        Mutable(
            "reassignment_per_period", "", lambda inp, lin: inp.reassignment_share_per_year * inp.dt
        ),
    ),
    check=check_staff,
    columns={},
)
