"""The velocity knob: capability progress relative to full allocation, and the cap on its hit."""

from __future__ import annotations

import pyomo.environ as pyo

from allocopt.inputs import Inputs


def add_velocity(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """velocity[t] = sum_r weight[r] * capabilities[t,r] / budget[t,r];
    velocity_hit_limit:  1 - velocity[t] <= hit_cap[t]."""
    m.velocity = pyo.Expression(
        m.PERIODS,
        rule=lambda m, t: sum(
            m.weight[r] * m.capabilities[t, r] / m.budget[t, r] for r in m.RESOURCES
        ),
    )
    m.velocity_hit_limit = pyo.Constraint(
        m.PERIODS, rule=lambda m, t: 1 - m.velocity[t] <= m.hit_cap[t]
    )
