"""Budget rows: a period's compute and staff, which shrink when Magma falls behind the frontier."""

from __future__ import annotations

import pyomo.environ as pyo

from allocopt.model.family import PER_PERIOD, Family, Finding, Mutable, Price, Row, Told, amount
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import TOLERANCE, Evaluation, Schedule
from allocopt.scenario.tables import RESOURCE_UNITS, RESOURCES


def add_budget(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """budget_limit:  capabilities[t,r] + safety_use[t,r]
    <= budget[t,r] + budget_slope[t,r] * (delay[t] - delay_ref[t])."""
    shifts = inp.capability.endogenous and inp.capability.budget_frontier_share.any()

    def rule(m: pyo.ConcreteModel, t: str, r: str) -> object:
        available = m.budget[t, r]
        if shifts:
            available += m.budget_slope[t, r] * (m.delay[t] - m.delay_ref[t])
        return m.capabilities[t, r] + m.safety_use[t, r] <= available

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


FAMILY = Family(
    name="budget",
    add=add_budget,
    rows=(
        Row(
            "budget_limit",
            rank=6,
            told=_budget,
            price=Price(
                0, lambda idx: (idx[1], "", f"risk reduction per {RESOURCE_UNITS[idx[1]]}")
            ),
        ),
    ),
    params=(Mutable("budget", "tr", lambda inp, lin: lin.budget),),
    check=check_budget,
    columns={},
)
