"""Decision variables and the budget rows: where each period's compute and staff go."""

from __future__ import annotations

import pyomo.environ as pyo

from allocopt.inputs import Inputs
from allocopt.model.sets import CAPABILITIES


def add_allocation(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """capabilities[t,r] >= 0, 0 <= effort[t,i] <= max_effort[i] (infinite when unbounded);
    use[t,i,r] = intensity[i,r] * effort[t,i];
    budget_limit:  capabilities[t,r] + sum_i use[t,i,r] <= budget[t,r];
    safety_floor_limit:  sum_i use[t,i,r] >= safety_floor[r] * budget[t,r]."""
    m.capabilities = pyo.Var(m.PERIODS, m.RESOURCES, domain=pyo.NonNegativeReals)
    m.effort = pyo.Var(m.PERIODS, m.INTERVENTIONS, bounds=lambda m, t, i: (0.0, m.max_effort[i]))

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

    m.budget_limit = pyo.Constraint(
        m.PERIODS,
        m.RESOURCES,
        rule=lambda m, t, r: m.capabilities[t, r] + m.safety_use[t, r] <= m.budget[t, r],
    )

    def safety_floor_rule(m: pyo.ConcreteModel, t: str, r: str) -> object:
        if inp.safety_floor.max() <= 0:
            return pyo.Constraint.Skip
        return m.safety_use[t, r] >= m.safety_floor[r] * m.budget[t, r]

    m.safety_floor_limit = pyo.Constraint(m.PERIODS, m.RESOURCES, rule=safety_floor_rule)
