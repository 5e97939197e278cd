"""Exact evaluation of any schedule (numpy only, no solver): delay, budgets, stocks, AI labour,
hazards and risk under the exact nonlinear dynamics — the numbers each constraint family's check
judges (``allocopt.model.evaluate``), an independent check of the program's answer
(docs/model.md, "Exact simulator").

>>> from allocopt.numeric.inputs import prepare
>>> from allocopt.scenario.load import load_scenario
>>> core = load_scenario("models/magma_core.yaml").with_updates({"horizon.end": "2025Q4"})
>>> inp = prepare(core)
>>> no_safety = np.zeros((len(inp.periods), len(inp.ids)))
>>> ev = simulate(inp, Schedule(effort=no_safety, capabilities=inp.budget))  # full speed
>>> ev.violations, ev.risk_reduction(inp), ev.velocity.round(9).tolist()
((), 0.0, [1.0, 1.0, 1.0, 1.0])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from allocopt.numeric.curves import benefit, residual
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.trajectory import (
    Point,
    advocacy,
    credibility,
    point_at,
    postponed,
    tail_periods,
    tail_pieces,
)
from allocopt.scenario.tables import CHANNELS

TOLERANCE = 1e-6  # relative slack allowed before a constraint counts as violated
OTHERS = CHANNELS.index("others")


@dataclass(frozen=True)
class Schedule:
    """A plan: effort per period and intervention (EU), resources to capabilities (kH100e, FTE)."""

    effort: np.ndarray  # [T, I]
    capabilities: np.ndarray  # [T, R]


@dataclass(frozen=True)
class Evaluation:
    """Exact consequences of a schedule under the scenario's nonlinear dynamics."""

    point: Point  # delay and every capability-dependent quantity on the schedule's trajectory
    use: np.ndarray  # [T, I, R] resources to each intervention
    readiness: np.ndarray  # [T] elicitation readiness at the start of each period, in [0, 1)
    effective_effort: np.ndarray  # [T, I] effort including AI labour (EU)
    stock: np.ndarray  # [T, I] preparation stocks (EU*year; zero for mitigation)
    held: np.ndarray  # [T, I] stock or effective effort acting in each period
    level: np.ndarray  # [T, I] what the benefit reads: held * ease (1 / safety difficulty)
    benefit: np.ndarray  # [T, I] in [0, 1)
    capacity: np.ndarray  # [T, CH] e-folds
    residual: np.ndarray  # [T, CH] share of the period's hazard remaining
    hazard_plan: np.ndarray  # [T, CH] per year
    velocity: np.ndarray  # [T]
    hit_cap: np.ndarray  # [T] cap of each period's regime on this trajectory
    delay_end: float  # years of progress lost by the end of the horizon
    postponed: np.ndarray  # [CH] hazard ahead at the end: own path left and tail (yr^-1 yr)
    postponed_rate: np.ndarray  # [CH] its slope in delay_end
    tail_full: np.ndarray  # [CH] the tail at full speed, no safety work (yr^-1 yr)
    violations: tuple[str, ...]  # one line per violated constraint, in the check's order
    credibility: np.ndarray  # [T] weight of advocacy's effect on other developers (1: credible)
    residual_plan: np.ndarray  # [T, CH] share of the hazard remaining, counting the lock-in
    # with capability.salvage, over the N tail periods past the horizon (N = 0 without it):
    held_tail: np.ndarray  # [N, I] stocks evolving with no new effort; mitigation at held[T]
    benefit_tail: np.ndarray  # [N, I]
    residual_tail: np.ndarray  # [N, CH] share of the hazard remaining in each tail period
    residual_tail_plan: np.ndarray  # [N, CH] the same, counting the lock-in
    tail_piece: np.ndarray  # [N, CH] the tail at full speed met in each tail period (yr^-1 yr)

    @property
    def postponed_risk(self) -> float:
        """Hazard still ahead at the horizon's end (the own path the plan postponed, and the tail
        past the horizon), met at the last period's residual share counting the lock-in; with
        salvage the tail is met period by period at ``residual_tail_plan``."""
        return self.met_ahead(self.postponed, self.tail_piece)

    def met_ahead(self, later: np.ndarray, pieces: np.ndarray) -> float:
        """The hazard ``later`` [CH] ahead at the end met by this plan: ``pieces`` [N, CH] of it in
        the tail's periods at ``residual_tail_plan``, the rest at the last period's residual share
        (counting the lock-in); all of it there without salvage (N = 0)."""
        at_end = later - pieces.sum(axis=0)
        return float(self.residual_plan[-1] @ at_end) + float(
            (self.residual_tail_plan * pieces).sum()
        )

    @property
    def velocity_hit(self) -> np.ndarray:
        """One minus velocity, per period."""
        return 1 - self.velocity

    def risk_reduction(self, inp: Inputs) -> float:
        """Exact cut in cumulative hazard against full speed with no safety work, counting the
        own risk the plan postpones beyond the horizon and the tail past it (at the last
        period's residual share, counting the lock-in), against the tail at full speed."""
        later = self.postponed_risk - float(self.tail_full.sum())
        return float((inp.hazard_full - self.hazard_plan).sum() * inp.dt) - later

    @property
    def delay(self) -> np.ndarray:
        """Years of progress lost before each period starts."""
        return self.point.delay


def locked_in(inp: Inputs, lock: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """[T, CH] share of each channel's hazard remaining when a share ``lock[t]`` [T] of it is
    locked in past the point of no return: the share that locks in during period k keeps period
    k's residual ``rho[k]`` from then on, the rest follows the period's own residual:
    ``(1 - lock[t]) * rho[t] + sum_{k<=t} (lock[k] - lock[k-1]) * rho[k]``, ``lock[-1] = 0``, on the
    channels of ``no_return_channels``; ``rho`` itself elsewhere and when the term is off."""
    if inp.capability.no_return_speedup is None:
        return rho
    fresh = np.diff(lock, prepend=0.0)[:, None]  # share locking in during each period
    held = (1 - lock)[:, None] * rho + np.cumsum(fresh * rho, axis=0)
    channels = np.isin(CHANNELS, inp.capability.no_return_channels)
    return np.where(channels[None, :], held, rho)


def salvage(
    inp: Inputs, point: Point, stock: np.ndarray, effective: np.ndarray, credible: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tail's safety with ``capability.salvage``, over the N = :func:`tail_periods` periods
    past the horizon's end (u = 1..N, period T + u), with no new effort: a preparation stock
    evolves as ``stock_tail[u,p] = retention[p] * stock_tail[u-1,p] + dt * effective_effort[T+u-
    lead_periods[p], p]`` (the effort still in flight at the end: source period in the horizon),
    ``stock_tail[0] = stock[T]``; mitigation holds ``effective_effort[T]``; the level reads the
    last period's ``ease[T]``, other developers' share its influence, export weight and
    credibility. Returns ``held_tail`` [N, I], ``benefit_tail`` [N, I] and ``residual_tail``
    [N, CH], all (0, ...) without salvage."""
    n_t = len(stock)
    n = tail_periods(inp)
    held = np.zeros((n, len(inp.ids)))
    last = stock[-1].copy()
    for u in range(n):
        for i in np.flatnonzero(inp.is_preparation):
            source = n_t + u - int(inp.lead_periods[i])  # the period whose effort joins now
            joins = inp.dt * effective[source, i] if 0 <= source < n_t else 0.0
            last[i] = inp.retention[i] * last[i] + joins
        held[u] = np.where(inp.is_preparation, last, effective[-1])
    ben = benefit(held * point.ease[-1] / inp.saturation[None, :])
    effect = inp.effect.copy()
    effect[:, OTHERS] *= point.influence[-1] * inp.export_weight[-1]
    effect[advocacy(inp), OTHERS] *= credible[-1]
    rho = residual(ben @ effect, inp.residual_floor[None, :])
    return held, ben, rho


def locked_tail(inp: Inputs, lock: np.ndarray, rho: np.ndarray, rho_tail: np.ndarray) -> np.ndarray:
    """[N, CH] the tail's residual share counting the lock-in: the share locked by the end keeps
    what it held (no further crossing past the horizon), the rest follows the tail's residual,
    ``locked_in(...)[T] + (1 - lock[T]) * (rho_tail[u] - rho[T])`` on the channels of
    ``no_return_channels``; ``rho_tail`` itself elsewhere and when the term is off."""
    if inp.capability.no_return_speedup is None:
        return rho_tail
    at_end = locked_in(inp, lock, rho)[-1]
    held = at_end[None, :] + (1 - lock[-1]) * (rho_tail - rho[-1][None, :])
    channels = np.isin(CHANNELS, inp.capability.no_return_channels)
    return np.where(channels[None, :], held, rho_tail)


# (inputs, schedule, its evaluation with no violations yet) -> one line per violated constraint
Judge = Callable[[Inputs, Schedule, Evaluation], Sequence[str]]


def simulate(inp: Inputs, schedule: Schedule, check: Judge | None = None) -> Evaluation:
    """Run the exact dynamics of ``schedule`` period by period; ``violations`` lists what
    ``check`` finds in the numbers (empty without one: the trajectory only, as a linearization
    point needs). :func:`allocopt.model.evaluate` checks every registered constraint family."""
    effort, caps = schedule.effort, schedule.capabilities
    n_t, n_i = effort.shape
    delay = np.zeros(n_t)
    velocity = np.zeros(n_t)
    for t in range(n_t):  # delay depends on velocity before t, velocity on the budget at delay[t]
        if t > 0:
            delay[t] = delay[t - 1] + (1 - velocity[t - 1]) * inp.dt
        budget = point_at(inp, np.full(n_t, delay[t])).budget[t]
        velocity[t] = float(inp.weights @ (caps[t] / budget))
    point = point_at(inp, delay)

    readiness = np.zeros(n_t)
    effective = np.zeros((n_t, n_i))
    stock = np.zeros((n_t, n_i))
    ben = np.zeros((n_t, n_i))
    for t in range(n_t):
        if not inp.capability.readiness_required:
            readiness[t] = 1.0
        elif t > 0:
            readiness[t] = inp.readiness_weight @ ben[t - 1]
        effective[t] = effort[t] * (1 + inp.ai_leverage * point.ai_gain[t] * readiness[t])
        for i in np.flatnonzero(inp.is_preparation):
            lead = int(inp.lead_periods[i])
            carried = inp.retention[i] * stock[t - 1, i] if t > 0 else 0.0
            stock[t, i] = carried + (inp.dt * effective[t - lead, i] if t >= lead else 0.0)
        level_t = np.where(inp.is_preparation, stock[t], effective[t]) * point.ease[t]
        ben[t] = benefit(level_t / inp.saturation)
    held = np.where(inp.is_preparation[None, :], stock, effective)
    effect = np.repeat(inp.effect[None, :, :], n_t, axis=0)
    effect[:, :, OTHERS] *= point.influence[:, None] * inp.export_weight
    credible = credibility(inp, velocity)
    effect[:, advocacy(inp), OTHERS] *= credible[:, None]
    capacity = np.einsum("ti,tic->tc", ben, effect)
    rho = residual(capacity, inp.residual_floor[None, :])
    # on the fixed reference each period keeps its own cap; endogenously the cap follows the regime
    hit_cap = (
        np.where(point.post_acceleration, inp.hit_cap_by_regime[1], inp.hit_cap_by_regime[0])
        if inp.capability.endogenous
        else inp.hit_cap
    )
    rho_plan = locked_in(inp, point.lock, rho)
    use = effort[:, :, None] * inp.intensity[None, :, :]
    delay_end = float(delay[-1] + (1 - velocity[-1]) * inp.dt)
    later, later_rate = postponed(inp, delay_end)
    held_tail, ben_tail, rho_tail = salvage(inp, point, stock, effective, credible)
    ev = Evaluation(
        point=point,
        use=use,
        readiness=readiness,
        effective_effort=effective,
        stock=stock,
        held=held,
        level=held * point.ease[:, None],
        benefit=ben,
        capacity=capacity,
        residual=rho,
        hazard_plan=point.hazard * rho_plan,
        velocity=velocity,
        hit_cap=hit_cap,
        delay_end=delay_end,
        postponed=later,
        postponed_rate=later_rate,
        tail_full=postponed(inp, 0.0)[0],
        violations=(),
        credibility=credible,
        residual_plan=rho_plan,
        held_tail=held_tail,
        benefit_tail=ben_tail,
        residual_tail=rho_tail,
        residual_tail_plan=locked_tail(inp, point.lock, rho, rho_tail),
        tail_piece=tail_pieces(inp),
    )
    return replace(ev, violations=tuple(check(inp, schedule, ev))) if check else ev
