"""The velocity knob: capability progress relative to full allocation, the cap on its hit, and the
delay the hits accumulate on Magma's own trajectory."""

from __future__ import annotations

import pyomo.environ as pyo

from allocopt.model.family import PER_PERIOD, Family, Finding, Mutable, Price, Row, Told, pct
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import TOLERANCE, Evaluation, Schedule
from allocopt.scenario.tables import RESOURCES

OUTSIDE = ("below", "above")  # the sides of an elastic trust row's slacks


def add_velocity(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """velocity[t] = sum_r weight[r] * (capabilities[t,r] / budget[t,r]
        - capabilities_ref[t,r] * budget_slope[t,r] * (delay[t] - delay_ref[t]) / budget[t,r]^2);
    velocity_hit_limit:  1 - velocity[t] <= hit_cap[t];
    delay_balance:  delay[t] = delay[t-1] + (1 - velocity[t-1]) * dt,  delay[first] = 0;
    delay_trust:  |delay[t] - delay_ref[t] + delay_outside[t,below] - delay_outside[t,above]| <= trust,
        elastic: the slacks delay_outside >= 0 are penalized in the objective, so the region never
        makes the program infeasible.  (delay only when capability is endogenous)"""
    endogenous = inp.capability.endogenous
    shifts_budget = endogenous and inp.capability.budget_frontier_share.any()

    def velocity_rule(m: pyo.ConcreteModel, t: str) -> object:
        v = sum(m.weight[r] * m.capabilities[t, r] / m.budget[t, r] for r in m.RESOURCES)
        if shifts_budget:
            v -= sum(
                m.weight[r] * m.capabilities_ref[t, r] * m.budget_slope[t, r] / m.budget[t, r] ** 2
                for r in m.RESOURCES
            ) * (m.delay[t] - m.delay_ref[t])
        return v

    m.velocity = pyo.Expression(m.PERIODS, rule=velocity_rule)
    m.velocity_hit_limit = pyo.Constraint(
        m.PERIODS, rule=lambda m, t: 1 - m.velocity[t] <= m.hit_cap[t]
    )
    if not endogenous:
        return
    first = m.PERIODS.first()
    m.delay_balance = pyo.Constraint(
        m.PERIODS,
        rule=lambda m, t: (
            m.delay[t] == 0
            if t == first
            else m.delay[t]
            == m.delay[m.PERIODS.prev(t)] + (1 - m.velocity[m.PERIODS.prev(t)]) * m.dt
        ),
    )
    m.delay_outside = pyo.Var(m.PERIODS, OUTSIDE, domain=pyo.NonNegativeReals)
    m.delay_trust = pyo.Constraint(
        m.PERIODS,
        rule=lambda m, t: pyo.inequality(
            -m.trust,
            m.delay[t] - m.delay_ref[t] + m.delay_outside[t, "below"] - m.delay_outside[t, "above"],
            m.trust,
        ),
    )


def _hit_cap(m: pyo.ConcreteModel, inp: Inputs, idx: tuple, bound: float) -> Told:
    period = idx[0]
    regime = "post" if inp.post_acceleration[inp.periods.labels.index(period)] else "pre"
    return Told(f"velocity-hit cap {pct(pyo.value(m.hit_cap[period]))} ({regime}-acceleration)")


def check_hit(inp: Inputs, schedule: Schedule, ev: Evaluation) -> list[Finding]:
    """A velocity hit above the cap of the period's regime (on the schedule's own trajectory)."""
    return [
        (
            (PER_PERIOD, t, len(RESOURCES), 0),
            f"{p}: velocity hit {1 - ev.velocity[t]:.4%} exceeds the cap {ev.hit_cap[t]:.2%}",
        )
        for t, p in enumerate(inp.periods.labels)
        if 1 - ev.velocity[t] > ev.hit_cap[t] + TOLERANCE
    ]


FAMILY = Family(
    name="velocity",
    add=add_velocity,
    rows=(
        Row(
            "velocity_hit_limit",
            rank=0,
            told=_hit_cap,
            price=Price(1, lambda idx: ("", "", "risk reduction per unit of velocity-hit cap")),
        ),
        Row("delay_balance"),
        Row("delay_trust"),
    ),
    params=(
        Mutable("hit_cap", "t", lambda inp, lin: lin.hit_cap),
        Mutable("weight", "r", lambda inp, lin: inp.weights),
    ),
    check=check_hit,
    columns={"delay_outside": "own"},
)
