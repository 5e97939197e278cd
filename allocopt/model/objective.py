"""Objective: the cut in cumulative hazard over the horizon (log-survival), against Magma scaling
at full speed with no safety work."""

from __future__ import annotations

import pyomo.environ as pyo

from allocopt.inputs import Inputs


def add_objective(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """risk_reduction = sum_t sum_c dt * (hazard_full[t,c] - hazard[t,c] * residual[t,c]
        - residual_ref[t,c] * hazard_slope[t,c] * (delay[t] - delay_ref[t]));  maximize it.
    (hazard * residual linearized around the reference point; without endogenous capability
    hazard = hazard_full and the last term is absent.)"""
    moves = inp.capability.hazard_follows_delay or any(inp.capability.competition_relief)

    def term(t: str, c: str) -> object:
        cut = m.hazard_full[t, c] - m.hazard[t, c] * m.residual[t, c]
        if moves:
            cut -= m.residual_ref[t, c] * m.hazard_slope[t, c] * (m.delay[t] - m.delay_ref[t])
        return m.dt * cut

    m.risk_reduction = pyo.Expression(expr=sum(term(t, c) for t in m.PERIODS for c in m.CHANNELS))
    m.objective = pyo.Objective(expr=m.risk_reduction, sense=pyo.maximize)
