"""Budget rows: a period's compute and staff, which shrink when Magma falls behind the frontier."""

from __future__ import annotations

import math

import numpy as np
import pyomo.environ as pyo

from allocopt.model.family import PER_PERIOD, Family, Finding, Mutable, Price, Row, Told, amount
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import TOLERANCE, Evaluation, Schedule
from allocopt.scenario.tables import RESOURCE_UNITS, RESOURCES

# log2 of the band a resource's first-period budget is scaled into (resource_scale): it holds the
# bundled scenarios' budgets (2^6.8 kH100e and 2^10.6 FTE in the baseline), which are left alone
RESOURCE_BAND = (0, 12)


def resource_scale(budget: np.ndarray) -> np.ndarray:
    """[R] the power of two each resource's rows are multiplied by, from the budgets ``budget``
    [T, R] (user units): the one that brings the first period's budget into :data:`RESOURCE_BAND`
    (1 where it lies there already). HiGHS's tolerances and its smallest kept coefficient are
    absolute (1e-7, 1e-9), so budgets and intensities in a unit 1e7 times larger (numbers 1e7
    times smaller) would fall under them; scaled, the rows HiGHS sees are the same whatever the
    unit (docs/model.md, Units and scaling)."""
    low, high = RESOURCE_BAND
    out = []
    for size in np.asarray(budget, dtype=float)[0]:
        power = math.log2(size) if size > 0 else 0.0
        out.append(2.0 ** int(np.clip(0, math.ceil(low - power), math.floor(high - power))))
    return np.array(out)


def add_budget(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """budget_limit:  resource_scale[r] * (capabilities[t,r] + safety_use[t,r])
    <= resource_scale[r] * (budget[t,r] + budget_slope[t,r] * (delay[t] - delay_ref[t]))."""
    shifts = inp.capability.endogenous and inp.capability.budget_frontier_share.any()

    def rule(m: pyo.ConcreteModel, t: str, r: str) -> object:
        available = m.budget[t, r]
        if shifts:
            available += m.budget_slope[t, r] * (m.delay[t] - m.delay_ref[t])
        scale = m.resource_scale[r]
        return scale * (m.capabilities[t, r] + m.safety_use[t, r]) <= scale * available

    m.budget_limit = pyo.Constraint(m.PERIODS, m.RESOURCES, rule=rule)


def _budget(m: pyo.ConcreteModel, inp: Inputs, idx: tuple, bound: float) -> Told:
    period, resource = idx[0], idx[1]
    phrase = f"{resource} budget {amount(pyo.value(m.budget[period, resource]), resource)}"
    return Told(phrase, resource=resource)


def check_budget(inp: Inputs, schedule: Schedule, ev: Evaluation) -> list[Finding]:
    """Resources used beyond the period's budget (on the schedule's own trajectory)."""
    spent = ev.use.sum(axis=1) + schedule.capabilities  # [T, R]
    out: list[Finding] = []
    for t, p in enumerate(inp.periods.labels):
        for k, r in enumerate(RESOURCES):
            b = ev.point.budget[t, k]
            if spent[t, k] > b * (1 + TOLERANCE) + TOLERANCE:
                out.append(
                    (
                        (PER_PERIOD, t, k, 0),
                        f"{p}: {r} used {spent[t, k]:.6g} exceeds the budget {b:.6g}",
                    )
                )
    return out


def per_resource_scale(m: object, idx: tuple) -> object:
    """The factor a row indexed ``(t, r)`` is multiplied by: ``resource_scale[r]``."""
    return m.resource_scale[idx[1]]


FAMILY = Family(
    name="budget",
    add=add_budget,
    rows=(
        Row(
            "budget_limit",
            rank=6,
            told=_budget,
            scale=per_resource_scale,
            price=Price(
                0, lambda idx: (idx[1], "", f"risk reduction per {RESOURCE_UNITS[idx[1]]}")
            ),
        ),
    ),
    params=(
        Mutable("budget", "tr", lambda inp, lin: lin.budget),
        Mutable("resource_scale", "r", lambda inp, lin: resource_scale(inp.budget)),
    ),
    check=check_budget,
    columns={},
)
