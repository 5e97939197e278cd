"""Risk channels: diminishing, bounded benefit per intervention and the residual hazard per channel."""

from __future__ import annotations

import pyomo.environ as pyo

from allocopt.curves import benefit_cuts, residual_cuts
from allocopt.data import CHANNELS
from allocopt.inputs import Inputs


def add_risk(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """0 <= benefit[t,i] <= 1,  benefit_cut:  benefit[t,i] <= a_k + b_k * level[t,i] / saturation[i]
    (tangents of 1 - exp(-u));  capacity[t,c] = sum_i effect[i,c] * benefit[t,i];
    floor[c] <= residual[t,c] <= 1,  residual_cut:  residual[t,c] >= a_kc + b_kc * capacity[t,c]
    (tangents of floor[c] + (1 - floor[c]) exp(-q))."""
    ids = list(inp.ids)
    sat = dict(zip(ids, map(float, inp.saturation), strict=True))
    effect = {
        (i, c): float(inp.effect[n, k]) for n, i in enumerate(ids) for k, c in enumerate(CHANNELS)
    }
    floor = dict(zip(CHANNELS, map(float, inp.residual_floor), strict=True))

    b_cuts = benefit_cuts(inp.cuts)
    m.BENEFIT_CUTS = pyo.RangeSet(0, len(b_cuts) - 1)
    m.benefit = pyo.Var(m.PERIODS, m.INTERVENTIONS, bounds=(0.0, 1.0))
    # level[t,i] is one variable (stock or effort): cuts name it directly, so each row is two terms
    level = {(t, i): m.level[t, i].expr for t in m.PERIODS for i in ids}
    m.benefit_cut = pyo.Constraint(
        m.PERIODS,
        m.INTERVENTIONS,
        m.BENEFIT_CUTS,
        rule=lambda m, t, i, k: (
            m.benefit[t, i] - b_cuts[k][1] / sat[i] * level[t, i] <= b_cuts[k][0]
        ),
    )

    acting = {c: [i for i in ids if effect[i, c] > 0] for c in CHANNELS}

    def capacity(t: str, c: str, scale: float = 1.0) -> object:
        """scale * capacity[t,c] written out term by term (a flat linear expression)."""
        return sum(scale * effect[i, c] * m.benefit[t, i] for i in acting[c])

    m.capacity = pyo.Expression(m.PERIODS, m.CHANNELS, rule=lambda m, t, c: capacity(t, c))

    r_cuts = {
        c: residual_cuts(floor[c], float(inp.effect[:, k].sum()), inp.cuts)
        for k, c in enumerate(CHANNELS)
    }
    m.RESIDUAL_CUTS = pyo.RangeSet(0, max(len(v) for v in r_cuts.values()) - 1)
    m.residual = pyo.Var(m.PERIODS, m.CHANNELS, bounds=lambda m, t, c: (floor[c], 1.0))

    def residual_rule(m: pyo.ConcreteModel, t: str, c: str, k: int) -> object:
        if k >= len(r_cuts[c]):
            return pyo.Constraint.Skip
        a, b = r_cuts[c][k]
        return m.residual[t, c] - capacity(t, c, b) >= a

    m.residual_cut = pyo.Constraint(m.PERIODS, m.CHANNELS, m.RESIDUAL_CUTS, rule=residual_rule)
