"""Risk channels: diminishing, bounded benefit per intervention and the residual hazard per channel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from allocopt.model.family import Family, Mutable, Row, exact
from allocopt.numeric.curves import benefit_cuts, residual_cuts
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.trajectory import advocacy, racing_weights, tail_periods
from allocopt.scenario.tables import CHANNELS


def add_risk(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """benefit_cut:  benefit[t,i] <= a_k + b_k * level[t,i] / saturation[i]  (tangents of 1 - exp(-u));
    capacity_def:  capacity[t,c] = sum_i effect[i,c] * benefit[t,i] for Magma's own channels, and for others
        sum_i effect[i,c] * export_weight[t,i] * (influence_ref[t] * benefit[t,i]
                             + benefit_ref[t,i] * influence_slope[t] * (delay[t] - delay_ref[t]));
        an advocacy intervention's (governance_communication) export is also scaled by its
        credibility, to first order: influence_ref * credibility_ref * benefit + benefit_ref
        * (credibility_ref * influence_slope * (delay - delay_ref)
           + influence_ref * (credibility[t] - credibility_ref[t])),
        credibility[t] = 1 - credibility_loss * (prior[t] + sum_k racing_weight[t,k] * velocity[k]);
    residual_cut:  residual[t,c] >= residual_a[c,k] + residual_b[c,k] * capacity[t,c]
        (tangents of floor[c] + (1 - floor[c]) exp(-q), mutable Params: residual_tangents);
    with salvage, over the tail's periods u, at the last period T's influence, export weight and
    credibility:
    benefit_tail_cut:  benefit_tail[u,i] <= a_k + b_k * level_tail[u,i] / saturation[i];
    capacity_tail_def:  capacity_tail[u,c] as capacity_def[T,c] with benefit_tail (benefit_tail_ref)
        for benefit (benefit_ref);
    residual_tail_cut:  residual_tail[u,c] >= residual_a[c,k] + residual_b[c,k] * capacity_tail[u,c]."""
    ids = list(inp.ids)
    weight = {
        (t, i): float(inp.export_weight[n, k])
        for n, t in enumerate(inp.periods.labels)
        for k, i in enumerate(ids)
    }
    b_cuts = benefit_cuts(inp.cuts)
    most = _most(inp)
    rows = _Rows(
        ids,
        dict(zip(ids, map(float, inp.saturation), strict=True)),
        {
            (i, c): float(inp.effect[n, k])
            for n, i in enumerate(ids)
            for k, c in enumerate(CHANNELS)
        },
        weight,
        inp.capability.influence_halflife_years is not None,
        _add_credibility(m, inp),
        b_cuts,
        {c: len(residual_cuts(0.0, float(most[k]), inp.cuts)) for k, c in enumerate(CHANNELS)},
    )

    m.BENEFIT_CUTS = pyo.RangeSet(0, len(b_cuts) - 1)
    m.benefit_cut = pyo.Constraint(
        m.PERIODS,
        m.INTERVENTIONS,
        m.BENEFIT_CUTS,
        rule=lambda m, t, i, k: rows.benefit_cut(m.benefit[t, i], m.level[t, i], i, k),
    )
    m.capacity_def = pyo.Constraint(
        m.PERIODS,
        m.CHANNELS,
        rule=lambda m, t, c: (
            m.capacity[t, c]
            == rows.capacity(m, t, c, lambda i: m.benefit[t, i], lambda i: m.benefit_ref[t, i])
        ),
    )
    m.residual_cut = pyo.Constraint(
        m.PERIODS,
        m.CHANNELS,
        m.RESIDUAL_CUTS,
        rule=lambda m, t, c, k: rows.residual_cut(m, m.residual[t, c], m.capacity[t, c], c, k),
    )
    if tail_periods(inp) > 0:
        _add_tail(m, rows)


def _most(inp: Inputs) -> np.ndarray:
    """[CH] the largest capacity of each channel (e-folds): every intervention's effect at full
    benefit, exported to others at the largest export weight. The residual's tangent points
    span 0 to it (:func:`allocopt.numeric.curves.breakpoints`); it does not read the floors."""
    most = inp.effect.sum(axis=0)
    others = CHANNELS.index("others")
    most[others] = float((inp.export_weight @ inp.effect[:, others]).max())
    return most


def residual_tangents(inp: Inputs) -> np.ndarray:
    """[2, CH, cuts] intercept ``residual_a[c,k]`` and slope ``residual_b[c,k]`` of each
    channel's residual tangents: :func:`allocopt.numeric.curves.residual_cuts` at the channel's
    floor, in order, and ``(floor[c], 0)`` (``residual >= floor[c]``, the column's own bound)
    for every k past them. The program has a row for each tangent ``residual_cuts`` keeps at
    floor 0 (:func:`add_risk`), a count the floor leaves alone, so the floors are mutable
    Params: a floor only scales the slopes by ``1 - floor[c]``, and where that takes the last
    tangents' slopes below ``SMALL`` (a floor within about 1e-7 of 1 on the bundled scenarios)
    their rows hold the bound instead."""
    out = np.empty((2, len(CHANNELS), inp.cuts))
    for k, (floor, upper) in enumerate(zip(inp.residual_floor, _most(inp), strict=True)):
        out[0, k], out[1, k] = float(floor), 0.0
        for n, (a, b) in enumerate(residual_cuts(float(floor), float(upper), inp.cuts)):
            out[:, k, n] = a, b
    return out


@dataclass(frozen=True)
class _Rows:
    """The data of one period's risk rows, shared by the horizon's periods and the tail's:
    saturation[i], effect[i,c], export weight[t,i], whether influence and credibility scale the
    export, the tangent cuts of benefit and how many residual tangent rows each channel has."""

    ids: list[str]
    sat: dict[str, float]
    effect: dict[tuple[str, str], float]
    weight: dict[tuple[str, str], float]
    influence: bool
    credible: frozenset[str]
    b_cuts: list
    r_rows: dict[str, int]

    def benefit_cut(self, benefit: object, level: object, i: str, k: int) -> object:
        """``benefit <= a_k + b_k * level / saturation[i]``."""
        return benefit <= self.b_cuts[k][0] + self.b_cuts[k][1] / self.sat[i] * level

    def capacity(
        self,
        m: pyo.ConcreteModel,
        t: str,
        c: str,
        benefit: Callable[[str], object],
        benefit_ref: Callable[[str], object],
    ) -> object:
        """Channel ``c``'s capacity from each intervention's ``benefit(i)``, exported to others
        at period ``t``'s weight, influence and credibility (``benefit_ref(i)``: its value at
        the point)."""
        acting = [i for i in self.ids if self.effect[i, c] > 0]
        if c != "others":
            return sum(self.effect[i, c] * benefit(i) for i in acting)
        if not self.influence and not self.credible:
            return sum(self.effect[i, c] * self.weight[t, i] * benefit(i) for i in acting)
        return sum(
            self.effect[i, c]
            * self.weight[t, i]
            * _exported(m, t, i, self.influence, self.credible, benefit(i), benefit_ref(i))
            for i in acting
        )

    def residual_cut(
        self, m: pyo.ConcreteModel, residual: object, capacity: object, c: str, k: int
    ) -> object:
        """``residual >= residual_a[c,k] + residual_b[c,k] * capacity`` (Skip past channel
        ``c``'s rows)."""
        if k >= self.r_rows[c]:
            return pyo.Constraint.Skip
        return residual >= m.residual_a[c, k] + m.residual_b[c, k] * capacity


def _add_tail(m: pyo.ConcreteModel, rows: _Rows) -> None:
    """Declare the tail's rows with salvage (add_risk's docstring): ``benefit_tail_cut``,
    ``capacity_tail_def`` and ``residual_tail_cut``, at the last period's influence, export
    weight and credibility."""
    last = m.PERIODS.last()
    m.benefit_tail_cut = pyo.Constraint(
        m.TAIL,
        m.INTERVENTIONS,
        m.BENEFIT_CUTS,
        rule=lambda m, u, i, k: rows.benefit_cut(m.benefit_tail[u, i], m.level_tail[u, i], i, k),
    )
    m.capacity_tail_def = pyo.Constraint(
        m.TAIL,
        m.CHANNELS,
        rule=lambda m, u, c: (
            m.capacity_tail[u, c]
            == rows.capacity(
                m, last, c, lambda i: m.benefit_tail[u, i], lambda i: m.benefit_tail_ref[u, i]
            )
        ),
    )
    m.residual_tail_cut = pyo.Constraint(
        m.TAIL,
        m.CHANNELS,
        m.RESIDUAL_CUTS,
        rule=lambda m, u, c, k: rows.residual_cut(
            m, m.residual_tail[u, c], m.capacity_tail[u, c], c, k
        ),
    )


def _add_credibility(m: pyo.ConcreteModel, inp: Inputs) -> frozenset[str]:
    """Declare ``credibility[t]`` (an Expression, exact: linear in the velocities) when
    ``credibility_loss`` is on; return the advocacy interventions it scales (none when off)."""
    loss = inp.capability.credibility_loss
    if loss <= 0:
        return frozenset()
    weights, prior = racing_weights(inp)
    labels = list(m.PERIODS)

    def rule(m: pyo.ConcreteModel, t: str) -> object:
        n = labels.index(t)
        racing = float(prior[n]) + sum(
            float(weights[n, k]) * m.velocity[labels[k]] for k in range(n + 1)
        )
        return 1 - loss * racing

    m.credibility = pyo.Expression(m.PERIODS, rule=rule)
    return frozenset(i for i, on in zip(inp.ids, advocacy(inp), strict=True) if on)


def _exported(
    m: pyo.ConcreteModel,
    t: str,
    i: str,
    influence: bool,
    credible: frozenset[str],
    benefit: object,
    benefit_ref: object,
) -> object:
    """First-order expansion of ``influence[t] * credibility[t] * benefit`` around the point
    (influence 1 without ``influence_halflife_years``, credibility 1 for an intervention that is
    not advocacy): the value at the point times ``benefit`` plus ``benefit_ref`` (its value at
    the point: ``benefit[t,i]``, or ``benefit_tail[u,i]`` read at the last period t) times the
    move."""
    if not influence and i not in credible:
        return benefit
    scale: object = 1.0
    move: object = 0.0
    if influence:
        scale = m.influence_ref[t]
        move = m.influence_slope[t] * (m.delay[t] - m.delay_ref[t])
    if i in credible:
        move = move * m.credibility_ref[t] + scale * (m.credibility[t] - m.credibility_ref[t])
        scale = scale * m.credibility_ref[t]
    return scale * benefit + benefit_ref * move


FAMILY = Family(
    name="risk",
    add=add_risk,
    rows=(
        Row("benefit_cut", activity_at=1),
        Row("capacity_def"),
        Row("residual_cut"),
        Row("benefit_tail_cut", activity_at=1),
        Row("capacity_tail_def"),
        Row("residual_tail_cut"),
    ),
    params=(
        Mutable("residual_a", "ck", lambda inp, lin: residual_tangents(inp)[0]),
        Mutable("residual_b", "ck", lambda inp, lin: residual_tangents(inp)[1]),
    ),
    check=exact,
    columns={},
)
