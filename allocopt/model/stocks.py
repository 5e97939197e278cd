"""Preparation stocks with lead time and depreciation; current mitigation acts in its own period."""

from __future__ import annotations

import pyomo.environ as pyo

from allocopt.inputs import Inputs


def add_stocks(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """stock_balance:  stock[t,p] = retention[p] * stock[t-1,p] + dt * effort[t - lead_periods[p], p]
    (stock[-1,p] = 0; effort before the first period is 0);
    level[t,i] = stock[t,i] if i is preparation else effort[t,i]."""
    labels = list(m.PERIODS)
    position = {t: n for n, t in enumerate(labels)}
    ids = list(inp.ids)
    lead = dict(zip(ids, map(int, inp.lead_periods), strict=True))
    keep = dict(zip(ids, map(float, inp.retention), strict=True))

    m.stock = pyo.Var(m.PERIODS, m.PREPARATION, domain=pyo.NonNegativeReals)

    def balance_rule(m: pyo.ConcreteModel, t: str, p: str) -> object:
        n = position[t]
        carried = keep[p] * m.stock[labels[n - 1], p] if n > 0 else 0.0
        source = n - lead[p]
        added = m.dt * m.effort[labels[source], p] if source >= 0 else 0.0
        return m.stock[t, p] == carried + added

    m.stock_balance = pyo.Constraint(m.PERIODS, m.PREPARATION, rule=balance_rule)
    m.level = pyo.Expression(
        m.PERIODS,
        m.INTERVENTIONS,
        rule=lambda m, t, i: m.stock[t, i] if i in m.PREPARATION else m.effort[t, i],
    )
