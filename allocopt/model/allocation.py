"""Where each period's compute and staff go, and the safety floor."""

from __future__ import annotations

import pyomo.environ as pyo

from allocopt.model.budget import per_resource_scale
from allocopt.model.family import PER_PERIOD, Family, Finding, Mutable, Row, Told, amount, pct
from allocopt.model.sets import CAPABILITIES
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import TOLERANCE, Evaluation, Schedule
from allocopt.scenario.tables import RESOURCES


def add_allocation(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """use[t,a,r] = capabilities[t,r] for a = capabilities, intensity[a,r] * effort[t,a] otherwise;
    safety_use[t,r] = sum_i use[t,i,r];
    safety_floor_limit:  resource_scale[r] * safety_use[t,r]
        >= resource_scale[r] * safety_floor[r] * budget[t,r]  (when a floor is set)."""
    m.use = pyo.Expression(
        m.PERIODS,
        m.ACTIVITIES,
        m.RESOURCES,
        rule=lambda m, t, a, r: (
            m.capabilities[t, r] if a == CAPABILITIES else m.intensity[a, r] * m.effort[t, a]
        ),
    )
    m.safety_use = pyo.Expression(
        m.PERIODS, m.RESOURCES, rule=lambda m, t, r: sum(m.use[t, i, r] for i in m.INTERVENTIONS)
    )
    if inp.has_safety_floor:
        m.safety_floor_limit = pyo.Constraint(
            m.PERIODS,
            m.RESOURCES,
            rule=lambda m, t, r: (
                m.resource_scale[r] * m.safety_use[t, r]
                >= m.resource_scale[r] * m.safety_floor[r] * m.budget[t, r]
            ),
        )


def _floor(m: pyo.ConcreteModel, inp: Inputs, idx: tuple, bound: float) -> Told:
    period, resource = idx[0], idx[1]
    budget = pyo.value(m.budget[period, resource])
    share = pyo.value(m.safety_floor[resource])
    phrase = (
        f"safety floor of {pct(share)} of {resource} "
        f"({amount(share * budget, resource)} of a {amount(budget, resource)} budget)"
    )
    return Told(phrase, resource=resource)


def check_floor(inp: Inputs, schedule: Schedule, ev: Evaluation) -> list[Finding]:
    """Resources to safety below the safety floor of the period's budget."""
    safety = ev.use.sum(axis=1)  # [T, R]
    out: list[Finding] = []
    for t, p in enumerate(inp.periods.labels):
        for k, r in enumerate(RESOURCES):
            b = ev.point.budget[t, k]
            if safety[t, k] < inp.safety_floor[k] * b * (1 - TOLERANCE) - TOLERANCE:
                out.append(
                    (
                        (PER_PERIOD, t, k, 1),
                        f"{p}: {r} to safety {safety[t, k]:.6g} is below the safety floor "
                        f"{inp.safety_floor[k]:.0%} of {b:.6g}",
                    )
                )
    return out


FAMILY = Family(
    name="allocation",
    add=add_allocation,
    rows=(
        Row(
            "safety_floor_limit",
            rank=1,
            told=_floor,
            scale=per_resource_scale,
        ),
    ),
    params=(
        Mutable("intensity", "ir", lambda inp, lin: inp.intensity),
        Mutable("safety_floor", "r", lambda inp, lin: inp.safety_floor),
    ),
    check=check_floor,
    columns={},
)
