"""The point around which the endogenous terms are linearized, as plain numbers.

A model built for one point holds these values as constants (immutable Params); the outer loop's
program (:mod:`allocopt.optimize.slp_program`) holds them in mutable Params and moves them in place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import Evaluation, Schedule, simulate


@dataclass(frozen=True)
class Linearization:
    """Values (``*_ref``) and slopes in the delay (``*_slope``) of every endogenous term."""

    delay_ref: np.ndarray  # [T]
    budget: np.ndarray  # [T, R] budget at the point
    budget_slope: np.ndarray  # [T, R]
    capabilities_ref: np.ndarray  # [T, R]
    hit_cap: np.ndarray  # [T] cap of each period's regime at the point
    hazard: np.ndarray  # [T, CH] hazard before safety at the point
    hazard_slope: np.ndarray  # [T, CH]
    residual_ref: np.ndarray  # [T, CH]
    ai_gain_ref: np.ndarray  # [T]
    ai_gain_slope: np.ndarray  # [T]
    readiness_ref: np.ndarray  # [T]
    effort_ref: np.ndarray  # [T, I]
    benefit_ref: np.ndarray  # [T, I]
    influence_ref: np.ndarray  # [T]
    influence_slope: np.ndarray  # [T]
    ease_ref: np.ndarray  # [T] 1 / safety difficulty at the point
    ease_slope: np.ndarray  # [T]
    held_ref: np.ndarray  # [T, I] stock or effective effort at the point
    postponed_ref: np.ndarray  # [CH]
    postponed_rate: np.ndarray  # [CH]
    delay_end_ref: float
    trust: float
    credibility_ref: np.ndarray  # [T] advocacy's credibility at the point
    lock_ref: np.ndarray  # [T] share of hazard locked in past the point of no return
    lock_slope: np.ndarray  # [T]
    benefit_tail_ref: np.ndarray  # [N, I] benefit over the tail with salvage (N = 0 without)
    residual_tail_ref: np.ndarray  # [N, CH] residual share over the tail with salvage

    @property
    def staff_hires(self) -> np.ndarray:
        """max(0, budget[t,staff] - budget[t-1,staff]) at the point."""
        staff = self.budget[:, 1]
        return np.clip(np.diff(staff, prepend=staff[0]), 0, None)


def full_speed(inp: Inputs) -> Schedule:
    """Magma at full speed with no safety work: every resource to capabilities, no effort."""
    return Schedule(
        effort=np.zeros((len(inp.periods), len(inp.ids))), capabilities=inp.budget.copy()
    )


def reference(inp: Inputs) -> Linearization:
    """The reference point: the exact trajectory of :func:`full_speed` (no delay, nothing
    elicited)."""
    schedule = full_speed(inp)
    return around(schedule, simulate(inp, schedule), inp.capability.trust_region_years)


def around(schedule: Schedule, ev: Evaluation, trust: float) -> Linearization:
    """The point on ``schedule``'s exact trajectory ``ev``, with trust radius ``trust``."""
    p = ev.point
    return Linearization(
        delay_ref=p.delay,
        budget=p.budget,
        budget_slope=p.budget_slope,
        capabilities_ref=schedule.capabilities,
        hit_cap=ev.hit_cap,
        hazard=p.hazard,
        hazard_slope=p.hazard_slope,
        residual_ref=ev.residual,
        ai_gain_ref=p.ai_gain,
        ai_gain_slope=p.ai_gain_slope,
        readiness_ref=ev.readiness,
        effort_ref=schedule.effort,
        benefit_ref=ev.benefit,
        influence_ref=p.influence,
        influence_slope=p.influence_slope,
        ease_ref=p.ease,
        ease_slope=p.ease_slope,
        held_ref=ev.held,
        postponed_ref=ev.postponed,
        postponed_rate=ev.postponed_rate,
        delay_end_ref=ev.delay_end,
        trust=trust,
        credibility_ref=ev.credibility,
        lock_ref=p.lock,
        lock_slope=p.lock_slope,
        benefit_tail_ref=ev.benefit_tail,
        residual_tail_ref=ev.residual_tail,
    )
