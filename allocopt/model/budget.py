"""Budget rows: a period's compute and staff, which shrink when Magma falls behind the frontier."""

from __future__ import annotations

import pyomo.environ as pyo

from allocopt.numeric.inputs import Inputs


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
