"""Staff frictions: bounded growth of employed staff and bounded re-assignment between activities."""

from __future__ import annotations

import pyomo.environ as pyo

from allocopt.inputs import Inputs


def add_staff(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """For t > first period, with s[t,a] = use[t,a,staff]:
    staff_inflow[t,a] >= s[t,a] - s[t-1,a],  staff_inflow >= 0;
    staff_reassignment:  sum_a staff_inflow[t,a]
        <= staff_hires[t] + reassignment_per_period * budget[t-1,staff],
        staff_hires[t] = max(0, budget[t,staff] - budget[t-1,staff]),
        reassignment_per_period = reassignment_share_per_year * dt;
    staff_growth:  sum_a s[t,a] <= staff_growth_factor * sum_a s[t-1,a],
        staff_growth_factor = (1 + staff_growth_max_per_year)^dt."""
    later = list(m.PERIODS)[1:]
    m.LATER_PERIODS = pyo.Set(initialize=later, ordered=True)

    m.staff_inflow = pyo.Var(m.LATER_PERIODS, m.ACTIVITIES, domain=pyo.NonNegativeReals)
    m.staff_inflow_def = pyo.Constraint(
        m.LATER_PERIODS,
        m.ACTIVITIES,
        rule=lambda m, t, a: (
            m.staff_inflow[t, a] >= m.use[t, a, "staff"] - m.use[m.PERIODS.prev(t), a, "staff"]
        ),
    )

    m.staff_reassignment = pyo.Constraint(
        m.LATER_PERIODS,
        rule=lambda m, t: (
            sum(m.staff_inflow[t, a] for a in m.ACTIVITIES)
            <= m.staff_hires[t] + m.reassignment_per_period * m.budget[m.PERIODS.prev(t), "staff"]
        ),
    )
    m.staff_growth = pyo.Constraint(
        m.LATER_PERIODS,
        rule=lambda m, t: (
            sum(m.use[t, a, "staff"] for a in m.ACTIVITIES)
            <= m.staff_growth_factor
            * sum(m.use[m.PERIODS.prev(t), a, "staff"] for a in m.ACTIVITIES)
        ),
    )
