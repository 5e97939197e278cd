"""Magma's own capability trajectory: reference series read at a delayed time, with slopes.

A velocity hit delays Magma's trajectory by ``delay`` years, so every quantity that depends on its
own capability is the reference series read at ``mid_year - delay`` (docs/model.md, "Endogenous
capability"). Series are interpolated log-linearly between period midpoints (linearly where a
series touches zero) and extrapolated with the end segments' slopes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocopt.data import CHANNELS
from allocopt.inputs import Inputs

OWN = np.array([c.startswith("own_") for c in CHANNELS])
LN2 = float(np.log(2.0))


def read(xs: np.ndarray, ys: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value and slope at ``x`` of the piecewise (log-)linear interpolant of ``ys`` over ``xs``."""
    x = np.asarray(x, dtype=float)
    if len(xs) == 1:
        return np.full_like(x, ys[0]), np.zeros_like(x)
    log = bool((ys > 0).all())
    fy = np.log(ys) if log else ys
    seg = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(xs) - 2)
    slope = (fy[seg + 1] - fy[seg]) / (xs[seg + 1] - xs[seg])
    value = fy[seg] + slope * (x - xs[seg])
    if log:
        value = np.exp(value)
        return value, value * slope
    return value, slope


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

    speedup, speed_rate = read(mid, inp.speedup, mid - delay)
    post = speedup >= inp.acceleration_threshold

    hazard = inp.hazard.copy()
    hazard_slope = np.zeros_like(hazard)
    if cap.hazard_follows_delay:
        for k in np.flatnonzero(OWN):
            hazard[:, k], rate = read(mid, inp.hazard[:, k], mid - delay)
            hazard_slope[:, k] = -rate
    relief = np.where(post, cap.competition_relief[1], cap.competition_relief[0])
    others = ~OWN
    hazard[:, others] *= np.exp(-relief * delay)[:, None]
    hazard_slope[:, others] = -relief[:, None] * hazard[:, others]

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
    )
