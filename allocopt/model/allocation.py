"""Where each period's compute and staff go, and the safety floor."""

from __future__ import annotations

import pyomo.environ as pyo

from allocopt.model.sets import CAPABILITIES
from allocopt.numeric.inputs import Inputs


def add_allocation(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """use[t,a,r] = capabilities[t,r] for a = capabilities, intensity[a,r] * effort[t,a] otherwise;
    safety_use[t,r] = sum_i use[t,i,r];
    safety_floor_limit:  safety_use[t,r] >= safety_floor[r] * budget[t,r]  (when a floor is set)."""
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
    if inp.safety_floor.max() > 0:
        m.safety_floor_limit = pyo.Constraint(
            m.PERIODS,
            m.RESOURCES,
            rule=lambda m, t, r: m.safety_use[t, r] >= m.safety_floor[r] * m.budget[t, r],
        )
