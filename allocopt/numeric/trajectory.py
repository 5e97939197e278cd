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
    # into relief follows the world's (reference) regime
    relief = np.where(inp.post_acceleration, cap.competition_relief[1], cap.competition_relief[0])
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
        ease=ease,
        ease_slope=ease_slope,
    )


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
