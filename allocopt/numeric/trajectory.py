"""Magma's own capability trajectory: reference series read at a delayed time, with slopes.

A velocity hit delays Magma's trajectory by ``delay`` years, so every quantity that depends on its
own capability is the reference series read at ``mid_year - delay`` (docs/model.md, "Endogenous
capability"). Series are interpolated log-linearly between period midpoints (linearly where a
series touches zero) and extrapolated with the end segments' slopes.

>>> from allocopt.numeric.inputs import prepare
>>> from allocopt.scenario.load import load_scenario
>>> baseline = load_scenario("models/magma_baseline.yaml")
>>> inp = prepare(baseline.with_updates({"horizon.end": "2025Q4"}))
>>> on_time, behind = point_at(inp, np.zeros(4)), point_at(inp, np.full(4, 0.25))
>>> bool(np.allclose(on_time.budget, inp.budget)), bool((behind.budget < inp.budget).all())
(True, True)
>>> later, rate = postponed(inp, 0.25)  # own risk a quarter-year behind, and the tail
>>> bool((later[OWN] > postponed(inp, 0.0)[0][OWN]).all()), bool((rate[~OWN] == 0).all())
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocopt.numeric.inputs import Inputs
from allocopt.numeric.series import read
from allocopt.scenario.tables import CHANNELS

OWN = np.array([c.startswith("own_") for c in CHANNELS])
LN2 = float(np.log(2.0))
POSTPONED_NODES = 129  # trapezoid nodes for the postponed-risk integral


@dataclass(frozen=True)
class Point:
    """Capability-dependent quantities per period at a given delay, and their slopes in delay."""

    delay: np.ndarray  # [T] years of progress lost before each period starts
    budget: np.ndarray  # [T, R]
    budget_slope: np.ndarray  # [T, R] d budget / d delay
    hazard: np.ndarray  # [T, CH] per year, before safety work
    hazard_slope: np.ndarray  # [T, CH]
    speedup: np.ndarray  # [T] Magma's own AI software R&D speed-up
    post_acceleration: np.ndarray  # [T] bool: own speed-up has reached the threshold
    ai_gain: np.ndarray  # [T] AI labour multiplier minus one (0 when ai_labour is off)
    ai_gain_slope: np.ndarray  # [T]
    influence: np.ndarray  # [T] weight of Magma's work on other developers (1 at the frontier)
    influence_slope: np.ndarray  # [T]
    lock: np.ndarray  # [T] share of hazard locked in past the point of no return (0 when off)
    lock_slope: np.ndarray  # [T] d lock / d delay
    ease: np.ndarray  # [T] 1 / safety difficulty: (speedup / speed-up of the first period)^-e
    ease_slope: np.ndarray  # [T] d ease / d delay


def point_at(inp: Inputs, delay: np.ndarray) -> Point:
    """Every capability-dependent quantity when Magma is ``delay`` years behind its reference."""
    cap = inp.capability
    mid = inp.periods.mid_year
    delay = np.asarray(delay, dtype=float)

    budget = np.empty_like(inp.budget)
    budget_slope = np.empty_like(inp.budget)
    for k, share in enumerate(cap.budget_frontier_share):
        value, rate = read(mid, inp.budget[:, k], mid - share * delay)
        budget[:, k], budget_slope[:, k] = value, -share * rate

    # Magma's own speed-up (and regime) follows its delayed trajectory only when capability is
    # endogenous; the core program keeps the reference dates
    own = mid - delay if cap.endogenous else mid
    speedup, speed_rate = read(mid, inp.speedup, own)
    post = speedup >= inp.acceleration_threshold

    hazard = inp.hazard.copy()
    hazard_slope = np.zeros_like(hazard)
    if cap.hazard_follows_delay:
        for k in np.flatnonzero(OWN):
            hazard[:, k], rate = read(mid, inp.hazard[:, k], mid - delay)
            hazard_slope[:, k] = -rate
    # the political will that turns Magma's lag into relief follows the world's (reference) regime
    # others' hazard falls by up to ``relief`` as Magma drops out of the race (lag scale tau):
    # multiplier = 1 - relief * (1 - exp(-delay / tau)); the political will that turns Magma's lag
    # into relief follows the world's (reference) regime and speed-up (competition_relief)
    relief = competition_relief(inp)
    tau = cap.competition_lag_scale_years
    fade = np.exp(-delay / tau)
    others = ~OWN
    hazard[:, others] *= (1 - relief * (1 - fade))[:, None]
    hazard_slope[:, others] = -(relief * fade / tau)[:, None] * inp.hazard[:, others]

    if cap.ai_labour:
        capped = speedup >= cap.ai_multiplier_max
        ai_gain = np.minimum(speedup, cap.ai_multiplier_max) - 1
        ai_gain_slope = np.where(capped, 0.0, -speed_rate)
    else:
        ai_gain = ai_gain_slope = np.zeros_like(delay)

    if cap.influence_halflife_years is not None:
        influence = 2.0 ** (-delay / cap.influence_halflife_years)
        influence_slope = -LN2 / cap.influence_halflife_years * influence
    else:
        influence, influence_slope = np.ones_like(delay), np.zeros_like(delay)

    lock, lock_slope = no_return(inp, speedup, speed_rate)
    if inp.lock_fixed is not None:
        lock, lock_slope = inp.lock_fixed, np.zeros_like(delay)
    # safety difficulty grows with Magma's own capability: the level an intervention's benefit
    # reads is multiplied by ease = (speedup / speedup[first])^-elasticity; a delay lowers the
    # speed-up (d speedup / d delay = -speed_rate), so it raises ease
    elasticity = cap.safety_difficulty_elasticity
    ease = (speedup / inp.speedup[0]) ** -elasticity
    ease_slope = elasticity * ease * speed_rate / speedup if cap.endogenous else 0 * ease
    if cap.hazard_follows_delay or cap.tail_years > 0:
        # the last period's safety also meets the hazard past the horizon (postponed, tail),
        # whose path is traversed whatever the delay: its difficulty is read where the
        # full-speed path stands at the end, so a delay does not make it easier
        ease[-1] = (inp.speedup[-1] / inp.speedup[0]) ** -elasticity
        ease_slope = np.where(np.arange(len(ease)) == len(ease) - 1, 0.0, ease_slope)
    if inp.ease_fixed is not None:
        ease, ease_slope = inp.ease_fixed, np.zeros_like(delay)

    return Point(
        delay=delay,
        budget=budget,
        budget_slope=budget_slope,
        hazard=hazard,
        hazard_slope=hazard_slope,
        speedup=speedup,
        post_acceleration=post,
        ai_gain=ai_gain,
        ai_gain_slope=ai_gain_slope,
        influence=influence,
        influence_slope=influence_slope,
        lock=lock,
        lock_slope=lock_slope,
        ease=ease,
        ease_slope=ease_slope,
    )


def no_return(
    inp: Inputs, speedup: np.ndarray, speed_rate: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The share of hazard locked in past the point of no return at Magma's own speed-up
    ``speedup`` [T] (rising at ``speed_rate`` per year of its own trajectory), and its slope in
    the delay: ``lock = no_return_share * sigmoid(z)``,
    ``z = log2(speedup / no_return_speedup) / no_return_width_doublings``, so
    ``d lock / d delay = -lock * (1 - sigmoid(z)) * speed_rate / (speedup * ln 2 * width)``.
    Zeros when ``no_return_speedup`` is None."""
    cap = inp.capability
    if cap.no_return_speedup is None:
        return np.zeros_like(speedup), np.zeros_like(speedup)
    width = cap.no_return_width_doublings
    z = np.log2(speedup / cap.no_return_speedup) / width
    crossed = 1 / (1 + np.exp(-z))
    lock = cap.no_return_share * crossed
    slope = -lock * (1 - crossed) * speed_rate / (speedup * LN2 * width)
    return lock, slope


def competition_relief(inp: Inputs) -> np.ndarray:
    """Largest share of other developers' hazard that Magma's dropping out of the race removes,
    per period [T]: the regime's ``competition_relief`` (by the reference regime), and with
    ``competition_relief_per_doubling`` = k a further share k of what remains per doubling of the
    frontier's (reference) AI software R&D speed-up A(t) (none below 1x):
    ``1 - (1 - relief_regime[t]) * (1 - k) ** log2(max(A(t), 1))``. Competition grows more
    dangerous as capabilities rise (essay section 5), so dropping out relieves more."""
    cap = inp.capability
    regime = np.where(inp.post_acceleration, cap.competition_relief[1], cap.competition_relief[0])
    doublings = np.log2(np.maximum(inp.speedup, 1.0))
    return 1 - (1 - regime) * (1 - cap.competition_relief_per_doubling) ** doublings


ADVOCACY = "governance_communication"  # the category whose export credibility scales


def advocacy(inp: Inputs) -> np.ndarray:
    """[I] bool: the interventions whose effect on other developers is advocacy
    (category ``governance_communication``)."""
    return np.array([i.category == ADVOCACY for i in inp.interventions], dtype=bool)


def racing_weights(inp: Inputs) -> tuple[np.ndarray, np.ndarray]:
    """The memory of Magma's racing: ``racing[t] = prior[t] + sum_k weights[t,k] * velocity[k]``,
    an exponentially weighted mean of the velocities up to and including period t with half-life
    ``credibility_halflife_years`` (``q = 2^(-dt/halflife)``: ``weights[t,k] = (1 - q) q^(t-k)``
    for k <= t), Magma at full speed before the horizon (``prior[t] = q^(t+1)``); the weights of
    each period sum to 1 with its prior. Returns (weights [T, T], prior [T])."""
    n = len(inp.periods.labels)
    q = 2.0 ** (-inp.dt / inp.capability.credibility_halflife_years)
    lag = np.arange(n)[:, None] - np.arange(n)[None, :]
    weights = np.where(lag >= 0, (1 - q) * q ** np.maximum(lag, 0), 0.0)
    return weights, q ** (np.arange(n) + 1.0)


def credibility(inp: Inputs, velocity: np.ndarray) -> np.ndarray:
    """[T] weight of advocacy's effect on other developers while Magma races:
    ``1 - credibility_loss * racing[t]`` (:func:`racing_weights`); ``1 - credibility_loss`` at
    full speed throughout, rising with every velocity hit (essay section 5: scaling can "Reduce
    the credibility of advocacy"; Appendix A: a pause "might provide a costly signal"). All ones
    when ``credibility_loss`` is 0; ``inp.credibility_fixed`` where it is held fixed."""
    if inp.credibility_fixed is not None:
        return inp.credibility_fixed
    weights, prior = racing_weights(inp)
    return 1 - inp.capability.credibility_loss * (prior + weights @ velocity)


def postponed(inp: Inputs, delay_end: float) -> tuple[np.ndarray, np.ndarray]:
    """Hazard still ahead at the horizon's end, to be met at the last period's residual share:
    for an own channel ``integral of hazard[c](s) for s from end - delay_end to end + tail``
    (the part of Magma's reference path a delay of ``delay_end`` years left untraversed, and
    ``tail = capability.tail_years`` years of progress beyond the horizon), for the other
    developers' ``from end to end + tail`` (per year * year); and the slope in ``delay_end``
    (the own hazard at ``end - delay_end``; 0 for others). An own channel's path shifts only with
    ``hazard_follows_delay``: slowing down postpones Magma's own risk, it does not remove it.
    ``postponed(inp, 0.0)[0]`` is the tail with Magma at full speed (zero without a tail)."""
    cap = inp.capability
    total, rate = np.zeros(len(CHANNELS)), np.zeros(len(CHANNELS))
    if not (cap.hazard_follows_delay or cap.tail_years > 0):
        return total, rate
    shift = max(delay_end, 0.0) if cap.hazard_follows_delay else 0.0
    mid = inp.periods.mid_year
    end = mid[-1] + inp.dt / 2
    for k, own in enumerate(OWN):
        s = np.linspace(end - (shift if own else 0.0), end + cap.tail_years, POSTPONED_NODES)
        values, _ = read(mid, inp.hazard[:, k], s)
        total[k] = float(np.trapezoid(values, s))
        rate[k] = float(values[0]) if own and cap.hazard_follows_delay else 0.0
    return total, rate


def tail_periods(inp: Inputs) -> int:
    """Periods of ``dt`` past the horizon's end that the tail spans with ``capability.salvage``
    (the last one possibly cut short); 0 without salvage or without a tail."""
    cap = inp.capability
    if not cap.salvage:
        return 0
    return int(np.ceil(cap.tail_years / inp.dt - 1e-9))


def tail_pieces(inp: Inputs) -> np.ndarray:
    """[N, CH] the tail at full speed, ``postponed(inp, 0.0)[0]``, split over the
    :func:`tail_periods` N: piece u holds ``integral of hazard[c](s) for s from end + (u - 1) * dt
    to end + min(u * dt, tail_years)`` (per year * year), scaled so that the pieces of a channel
    sum to its tail exactly. Shape (0, CH) without salvage."""
    n = tail_periods(inp)
    full = postponed(inp, 0.0)[0]
    pieces = np.zeros((n, len(CHANNELS)))
    mid = inp.periods.mid_year
    end = mid[-1] + inp.dt / 2
    for u in range(n):
        s = np.linspace(
            end + u * inp.dt, end + min((u + 1) * inp.dt, inp.capability.tail_years), 33
        )
        for k in range(len(CHANNELS)):
            values, _ = read(mid, inp.hazard[:, k], s)
            pieces[u, k] = float(np.trapezoid(values, s))
    total = pieces.sum(axis=0)
    return pieces * np.divide(full, total, out=np.zeros_like(full), where=total > 0)
