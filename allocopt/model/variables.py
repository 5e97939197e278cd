"""Every variable of the program, declared in one place (the table in docs/model.md)."""

from __future__ import annotations

import pyomo.environ as pyo

from allocopt.numeric.inputs import Inputs
from allocopt.scenario.tables import CHANNELS


def add_variables(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """capabilities[t,r] >= 0; 0 <= effort[t,i] <= max_effort[i] (a mutable Param, infinite when
    unbounded); stock[t,p] >= 0; level[t,i]; 0 <= benefit[t,i] <= 1; capacity[t,c];
    floor[c] <= residual[t,c] <= 1; staff_inflow[t,a] >= 0 (later periods);
    delay[t] >= 0 (only when capability is endogenous)."""
    floor = dict(zip(CHANNELS, map(float, inp.residual_floor), strict=True))
    m.LATER_PERIODS = pyo.Set(initialize=list(m.PERIODS)[1:], ordered=True)

    m.capabilities = pyo.Var(m.PERIODS, m.RESOURCES, domain=pyo.NonNegativeReals)
    m.effort = pyo.Var(m.PERIODS, m.INTERVENTIONS, bounds=lambda m, t, i: (0.0, m.max_effort[i]))
    m.stock = pyo.Var(m.PERIODS, m.PREPARATION, domain=pyo.NonNegativeReals)
    m.level = pyo.Var(m.PERIODS, m.INTERVENTIONS, domain=pyo.Reals)
    m.benefit = pyo.Var(m.PERIODS, m.INTERVENTIONS, bounds=(0.0, 1.0))
    m.capacity = pyo.Var(m.PERIODS, m.CHANNELS, domain=pyo.Reals)
    m.residual = pyo.Var(m.PERIODS, m.CHANNELS, bounds=lambda _, t, c: (floor[c], 1.0))
    m.staff_inflow = pyo.Var(m.LATER_PERIODS, m.ACTIVITIES, domain=pyo.NonNegativeReals)
    if inp.capability.endogenous:
        m.delay = pyo.Var(m.PERIODS, domain=pyo.NonNegativeReals)
