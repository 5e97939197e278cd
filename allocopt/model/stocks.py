"""AI labour, preparation stocks with lead time and depreciation, and the level acting on risk:
current mitigation acts in its own period."""

from __future__ import annotations

import pyomo.environ as pyo

from allocopt.model.family import Family, Price, Row, exact
from allocopt.model.velocity import OUTSIDE
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.trajectory import tail_periods


def add_stocks(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """readiness[t] = sum_i readiness_weight[i] * benefit[t-1,i]  (0 in the first period; 1 in every
        period when readiness_required is off: AI labour needs no elicitation readiness);
    effective_effort[t,i] = effort[t,i] + ai_leverage[i] * (
        ai_gain_ref[t] * readiness_ref[t] * effort[t,i]
        + effort_ref[t,i] * readiness_ref[t] * ai_gain_slope[t] * (delay[t] - delay_ref[t])
        + effort_ref[t,i] * ai_gain_ref[t] * (readiness[t] - readiness_ref[t]))
        (= effort[t,i] without AI labour);
    readiness_trust:  |readiness[t] - readiness_ref[t] + readiness_outside[t,below]
        - readiness_outside[t,above]| <= trust  (after the first period; elastic as delay_trust);
    stock_balance:  stock[t,p] = retention[p] * stock[t-1,p] + dt * effective_effort[t - lead_periods[p], p];
    held[t,i] = stock[t,i] if i is preparation else effective_effort[t,i];
    level_def:  level[t,i] = held[t,i], or with safety difficulty (what the benefit reads)
        ease_ref[t] * held[t,i] + held_ref[t,i] * ease_slope[t] * (delay[t] - delay_ref[t]);
    with salvage, over the tail's periods u = 1..N past the last period T (no new effort):
    held_tail[u,p] = retention[p] * held_tail[u-1,p] + dt * effective_effort[T+u - lead_periods[p], p]
        (the effort in flight: only a source period within the horizon), held_tail[0,p] = stock[T,p];
    held_tail[u,i] = effective_effort[T,i] for mitigation;
    level_tail_def:  level_tail[u,i] = ease_ref[T] * held_tail[u,i]  (held_tail without safety
        difficulty; ease_slope[T] = 0 with a tail: docs/model.md, "Safety difficulty")."""
    labels = list(m.PERIODS)
    position = {t: n for n, t in enumerate(labels)}
    ids = list(inp.ids)
    lead = dict(zip(ids, map(int, inp.lead_periods), strict=True))
    keep = dict(zip(ids, map(float, inp.retention), strict=True))
    ai = inp.capability.ai_labour
    gated = inp.capability.readiness_required
    # read only when used: what the build reads is the program's structure (allocopt.model.structure)
    weight = dict(zip(ids, map(float, inp.readiness_weight), strict=True)) if gated else {}
    leverage = dict(zip(ids, map(float, inp.ai_leverage), strict=True)) if ai else {}

    def readiness_rule(m: pyo.ConcreteModel, t: str) -> object:
        if not gated:
            return 1.0
        if position[t] == 0:
            return 0.0
        return sum(weight[i] * m.benefit[m.PERIODS.prev(t), i] for i in ids if weight[i] > 0)

    m.readiness = pyo.Expression(m.PERIODS, rule=readiness_rule)

    def effective_rule(m: pyo.ConcreteModel, t: str, i: str) -> object:
        if not ai or leverage[i] == 0:
            return m.effort[t, i]
        gain = m.ai_gain_ref[t] * m.readiness_ref[t] * m.effort[t, i]
        if gated:
            gain += m.effort_ref[t, i] * m.ai_gain_ref[t] * (m.readiness[t] - m.readiness_ref[t])
        if inp.capability.endogenous:
            gain += (
                m.effort_ref[t, i]
                * m.readiness_ref[t]
                * m.ai_gain_slope[t]
                * (m.delay[t] - m.delay_ref[t])
            )
        return m.effort[t, i] + leverage[i] * gain

    m.effective_effort = pyo.Expression(m.PERIODS, m.INTERVENTIONS, rule=effective_rule)
    if ai and gated:
        m.readiness_outside = pyo.Var(m.LATER_PERIODS, OUTSIDE, domain=pyo.NonNegativeReals)
        m.readiness_trust = pyo.Constraint(
            m.LATER_PERIODS,
            rule=lambda m, t: pyo.inequality(
                -m.trust,
                m.readiness[t]
                - m.readiness_ref[t]
                + m.readiness_outside[t, "below"]
                - m.readiness_outside[t, "above"],
                m.trust,
            ),
        )

    def balance_rule(m: pyo.ConcreteModel, t: str, p: str) -> object:
        n = position[t]
        carried = keep[p] * m.stock[labels[n - 1], p] if n > 0 else 0.0
        source = n - lead[p]
        added = m.dt * m.effective_effort[labels[source], p] if source >= 0 else 0.0
        return m.stock[t, p] == carried + added

    m.stock_balance = pyo.Constraint(m.PERIODS, m.PREPARATION, rule=balance_rule)
    hard = inp.capability.safety_difficulty_elasticity > 0

    def level_rule(m: pyo.ConcreteModel, t: str, i: str) -> object:
        held = m.stock[t, i] if i in m.PREPARATION else m.effective_effort[t, i]
        if not hard:
            return m.level[t, i] == held
        moved = m.held_ref[t, i] * m.ease_slope[t] * (m.delay[t] - m.delay_ref[t])
        return m.level[t, i] == m.ease_ref[t] * held + moved

    m.level_def = pyo.Constraint(m.PERIODS, m.INTERVENTIONS, rule=level_rule)

    if tail_periods(inp) > 0:
        _add_held_tail(m, labels, lead, keep)
        last = labels[-1]
        m.level_tail_def = pyo.Constraint(
            m.TAIL,
            m.INTERVENTIONS,
            rule=lambda m, u, i: (
                m.level_tail[u, i]
                == (m.ease_ref[last] * m.held_tail[u, i] if hard else m.held_tail[u, i])
            ),
        )


def _add_held_tail(
    m: pyo.ConcreteModel, labels: list[str], lead: dict[str, int], keep: dict[str, float]
) -> None:
    """Declare ``held_tail[u,i]`` (add_stocks' docstring) over the tail's periods TAIL."""
    last = labels[-1]
    carried = {p: m.stock[last, p] for p in m.PREPARATION}
    held_tail = {}
    for n, u in enumerate(m.TAIL):
        for p in m.PREPARATION:
            source = len(labels) + n - lead[p]  # the period whose effort joins the stock in u
            joins = m.dt * m.effective_effort[labels[source], p] if 0 <= source < len(labels) else 0
            carried[p] = keep[p] * carried[p] + joins
        for i in m.INTERVENTIONS:
            held_tail[u, i] = carried[i] if i in carried else m.effective_effort[last, i]
    m.held_tail = pyo.Expression(m.TAIL, m.INTERVENTIONS, rule=lambda m, u, i: held_tail[u, i])


FAMILY = Family(
    name="stocks",
    add=add_stocks,
    rows=(
        Row("readiness_trust"),
        Row(
            "stock_balance",
            activity_at=1,
            price=Price(4, lambda idx: ("", idx[1], "risk reduction per EU*year of stock")),
        ),
        Row("level_def"),
        Row("level_tail_def"),
    ),
    params=(),
    check=exact,
    columns={"readiness_outside": "own"},
)
