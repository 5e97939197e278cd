"""Objective: the cut in cumulative hazard over the horizon (log-survival), against no safety work."""

from __future__ import annotations

import pyomo.environ as pyo

from allocopt.inputs import Inputs


def add_objective(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """risk_reduction = sum_t sum_c hazard[t,c] * dt * (1 - residual[t,c]); maximize it."""
    m.risk_reduction = pyo.Expression(
        expr=sum(
            m.hazard[t, c] * m.dt * (1 - m.residual[t, c]) for t in m.PERIODS for c in m.CHANNELS
        )
    )
    m.objective = pyo.Objective(expr=m.risk_reduction, sense=pyo.maximize)
