"""Staff frictions: bounded growth of employed staff and bounded re-assignment between activities."""

from __future__ import annotations

import pyomo.environ as pyo

from allocopt.numeric.inputs import Inputs


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
        <= (initial_safety_share + reassignment_per_period) * budget[first,staff]."""
    reassign = m.reassignment_per_period  # = reassignment_share_per_year * dt
    prev = m.PERIODS.prev

    m.staff_inflow_def = pyo.Constraint(
        m.LATER_PERIODS,
        m.ACTIVITIES,
        rule=lambda m, t, a: (
            m.staff_inflow[t, a] >= m.use[t, a, "staff"] - m.use[prev(t), a, "staff"]
        ),
    )
    shifts = inp.capability.endogenous and inp.capability.budget_frontier_share[1] > 0

    def reassignment_rule(m: pyo.ConcreteModel, t: str) -> object:
        limit = m.staff_hires[t] + reassign * m.budget[prev(t), "staff"]
        if shifts:

            def moved(s: str) -> object:
                return m.budget_slope[s, "staff"] * (m.delay[s] - m.delay_ref[s])

            limit += m.hiring[t] * (moved(t) - moved(prev(t))) + reassign * moved(prev(t))
        return sum(m.staff_inflow[t, a] for a in m.ACTIVITIES) <= limit

    m.staff_reassignment = pyo.Constraint(m.LATER_PERIODS, rule=reassignment_rule)
    m.staff_growth = pyo.Constraint(
        m.LATER_PERIODS,
        rule=lambda m, t: (
            sum(m.use[t, a, "staff"] for a in m.ACTIVITIES)
            <= m.staff_growth_factor * sum(m.use[prev(t), a, "staff"] for a in m.ACTIVITIES)
        ),
    )
    if inp.initial_safety_share is not None:
        first = m.PERIODS.first()
        start = inp.initial_safety_share + reassign
        m.staff_initial = pyo.Constraint(
            expr=sum(m.use[first, i, "staff"] for i in m.INTERVENTIONS)
            <= start * m.budget[first, "staff"]
        )
