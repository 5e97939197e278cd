"""Objective: the cut in cumulative hazard over the horizon (log-survival), against Magma scaling
at full speed with no safety work."""

from __future__ import annotations

import pyomo.environ as pyo

from allocopt.model.family import Family, Mutable, exact
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.trajectory import postponed, tail_periods, tail_pieces

ELASTIC = ("delay_outside", "readiness_outside")  # slacks of the outer loop's trust rows
# risk reduction given up per year of delay (or unit of readiness) outside the trust radius: far
# above the program's sensitivity to either (< 1), so a slack is used only where the region
# cannot be met at all
TRUST_PENALTY = 100.0


def add_objective(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """risk_reduction = sum_t sum_c dt * (hazard_full[t,c] - hazard[t,c] * residual[t,c]
        - residual_ref[t,c] * hazard_slope[t,c] * (delay[t] - delay_ref[t]))
        + sum_c tail_full[c] - postponed_risk;
    postponed_risk = sum_c (postponed_ref[c] * residual[T,c]
        + residual_ref[T,c] * postponed_rate[c] * (delay_end - delay_end_ref))
        (own channels; every channel with a tail, capability.tail_years > 0),
    delay_end = delay[T] + (1 - velocity[T]) * dt;  maximize risk_reduction.
    With salvage the tail is met period by period past the horizon (:func:`_met_in_tail`):
    postponed_ref[c] * residual[T,c] above becomes
    (postponed_ref[c] - sum_u tail_piece[u,c]) * residual[T,c] + sum_u tail_piece[u,c] * residual_tail[u,c].
    With the point of no return, each locked channel's residual[t,c] above (and residual_ref in
    the hazard_slope and postponed_rate terms) is residual[t,c] + locked[t,c]
    (residual_ref + locked_ref: :func:`_lock_in`).
    (Products linearized around the reference point; without endogenous capability
    hazard = hazard_full and the delay terms are absent.) The elastic trust rows' slacks
    (:data:`ELASTIC`) cost TRUST_PENALTY each: the objective is risk_reduction less that cost."""
    cap = inp.capability
    moves = (
        cap.hazard_follows_delay
        or any(cap.competition_relief)
        or cap.competition_relief_per_doubling > 0
    )
    tail = cap.tail_years > 0
    last = m.PERIODS.last()

    locks = _lock_in(m, inp)

    def term(t: str, c: str) -> object:
        cut = m.hazard_full[t, c] - m.hazard[t, c] * m.residual[t, c]
        if moves:
            cut -= m.residual_ref[t, c] * m.hazard_slope[t, c] * (m.delay[t] - m.delay_ref[t])
        if c in locks:
            cut -= m.hazard[t, c] * m.locked[t, c]
            if moves:
                cut -= m.locked_ref[t, c] * m.hazard_slope[t, c] * (m.delay[t] - m.delay_ref[t])
        return m.dt * cut

    def last_residual(c: str) -> tuple[object, object]:  # residual[T,c] and its value at the point
        share, at_point = m.residual[last, c], m.residual_ref[last, c]
        if c in locks:
            share, at_point = share + m.locked[last, c], at_point + m.locked_ref[last, c]
        return share, at_point

    follows = cap.hazard_follows_delay
    salvage = tail_periods(inp) > 0
    if follows:
        m.delay_end = pyo.Expression(expr=m.delay[last] + (1 - m.velocity[last]) * m.dt)

    def ahead(c: str) -> object:  # hazard still ahead at the end, met at the last residual
        share, at_point = last_residual(c)
        met = _met_in_tail(m, c, share, locks) if salvage else m.postponed_ref[c] * share
        if follows and c.startswith("own_"):
            met += at_point * m.postponed_rate[c] * (m.delay_end - m.delay_end_ref)
        return met

    counted = [c for c in m.CHANNELS if tail or (follows and c.startswith("own_"))]
    m.postponed_risk = pyo.Expression(expr=sum(ahead(c) for c in counted) if counted else 0.0)
    within = sum(term(t, c) for t in m.PERIODS for c in m.CHANNELS)
    if tail:
        within += sum(m.tail_full[c] for c in m.CHANNELS)
    m.risk_reduction = pyo.Expression(expr=within - m.postponed_risk)
    slacks = outside(m)
    merit = m.risk_reduction - TRUST_PENALTY * sum(slacks) if slacks else m.risk_reduction
    m.objective = pyo.Objective(expr=merit, sense=pyo.maximize)


def _met_in_tail(m: pyo.ConcreteModel, c: str, share: object, locks: tuple[str, ...]) -> object:
    """The hazard ahead of channel ``c`` at the end with salvage: the own path the plan postponed
    met at the last period's share ``share`` (``residual[T,c]``, counting the lock-in), the tail's
    periods u at their own residual share:
        (postponed_ref[c] - sum_u tail_piece[u,c]) * share + sum_u tail_piece[u,c] * share_tail[u,c],
    share_tail = residual_tail[u,c]; on a locked channel the share locked by the end keeps what
    it held (no further crossing past the horizon), the rest follows the tail, to first order:
    share + (1 - lock_ref[T]) * (residual_tail[u,c] - residual[T,c])
          - (residual_tail_ref[u,c] - residual_ref[T,c]) * lock_slope[T] * (delay[T] - delay_ref[T])."""
    last = m.PERIODS.last()
    met = (m.postponed_ref[c] - sum(m.tail_piece[u, c] for u in m.TAIL)) * share
    for u in m.TAIL:
        tail = m.residual_tail[u, c]
        if c in locks:
            move = m.lock_slope[last] * (m.delay[last] - m.delay_ref[last])
            tail = (
                share
                + (1 - m.lock_ref[last]) * (tail - m.residual[last, c])
                - (m.residual_tail_ref[u, c] - m.residual_ref[last, c]) * move
            )
        met += m.tail_piece[u, c] * tail
    return met


def _lock_in(m: pyo.ConcreteModel, inp: Inputs) -> tuple[str, ...]:
    """Declare, for the channels of ``no_return_channels`` when the point of no return is on,
    ``locked[t,c]``: the first-order change of the residual share the lock-in brings,
    ``sum_{k<=t} (lock[k] - lock[k-1]) * residual[k,c] - lock[t] * residual[t,c]`` expanded
    around the point, with ``move[k] = lock_slope[k] * (delay[k] - delay_ref[k])``:
        locked = sum_{k<=t} ((lock_ref[k] - lock_ref[k-1]) * residual[k,c]
                             + residual_ref[k,c] * (move[k] - move[k-1]))
                 - lock_ref[t] * residual[t,c] - residual_ref[t,c] * move[t],
    and ``locked_ref[t,c]``, its value at the point. Returns those channels (none when off)."""
    cap = inp.capability
    if cap.no_return_speedup is None:
        return ()
    channels = tuple(cap.no_return_channels)
    labels = list(m.PERIODS)

    def lock(k: int) -> object:
        return m.lock_ref[labels[k]] if k >= 0 else 0.0

    def move(k: int) -> object:
        t = labels[k] if k >= 0 else None
        return m.lock_slope[t] * (m.delay[t] - m.delay_ref[t]) if t else 0.0

    def locked(m: pyo.ConcreteModel, t: str, c: str) -> object:
        n = labels.index(t)
        held = sum(
            (lock(k) - lock(k - 1)) * m.residual[labels[k], c]
            + m.residual_ref[labels[k], c] * (move(k) - move(k - 1))
            for k in range(n + 1)
        )
        return held - m.lock_ref[t] * m.residual[t, c] - m.residual_ref[t, c] * move(n)

    def locked_ref(m: pyo.ConcreteModel, t: str, c: str) -> object:
        n = labels.index(t)
        held = sum((lock(k) - lock(k - 1)) * m.residual_ref[labels[k], c] for k in range(n + 1))
        return held - m.lock_ref[t] * m.residual_ref[t, c]

    m.locked = pyo.Expression(m.PERIODS, channels, rule=locked)
    m.locked_ref = pyo.Expression(m.PERIODS, channels, rule=locked_ref)
    return channels


def outside(m: pyo.ConcreteModel) -> list[pyo.Var]:
    """The slacks of the elastic trust rows of ``m`` (:data:`ELASTIC`; none in the core program)."""
    return [
        x for name in ELASTIC if m.component(name) is not None for x in m.component(name).values()
    ]


FAMILY = Family(
    name="objective",
    add=add_objective,
    rows=(),
    params=(
        Mutable("hazard_full", "tc", lambda inp, lin: inp.hazard_full),
        Mutable("hazard", "tc", lambda inp, lin: lin.hazard),
        Mutable("tail_full", "c", lambda inp, lin: postponed(inp, 0.0)[0]),
        Mutable("tail_piece", "uc", lambda inp, lin: tail_pieces(inp)),
    ),
    check=exact,
    columns={},
)
