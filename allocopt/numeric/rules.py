"""Schedules written as rules of thumb: the essay's split of safety work, a random split, and a
feedback rule that runs one forward through the exact trajectory.

They sit below the optimizer so that both the policy comparison
(:mod:`allocopt.analyses.policies`) and the outer loop's starting schedules
(:mod:`allocopt.optimize.starts`) use them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import Schedule
from allocopt.numeric.trajectory import point_at

ESSAY_PRIORITIES = ("P0", "P1", "P2")
Target = Callable[[Inputs, bool], np.ndarray]  # (inputs, post-acceleration) -> effort weights [I]


def essay_split(inp: Inputs, post: bool) -> np.ndarray:
    """The essay's heuristics as a split of safety effort: before the switch, preparation only,
    on the P0/P1/P2 interventions; after it, half preparation and half mitigation, spread evenly."""
    priority = np.array([i.essay_priority in ESSAY_PRIORITIES for i in inp.interventions])
    if not post:
        return priority / priority.sum()
    prep, mitig = inp.is_preparation, ~inp.is_preparation
    return 0.5 * prep / prep.sum() + 0.5 * mitig / mitig.sum()


def follow_rule(inp: Inputs, split: Target, hits: tuple[float, float] | None = None) -> Schedule:
    """Run a rule forward: in each period take the regime's velocity hit (``hits``: before and
    after the switch, shares; default each regime's cap) for safety work split by ``split``,
    moving toward it no faster than the staff frictions allow."""
    n_t, n_i = len(inp.periods), len(inp.ids)
    effort = np.zeros((n_t, n_i))
    caps = np.zeros((n_t, 2))
    budgets = np.zeros((n_t, 2))  # each period's budget at the delay it starts with
    delay = 0.0
    for t in range(n_t):
        point = point_at(inp, np.full(n_t, delay))
        budgets[t] = point.budget[t]
        post = bool(point.post_acceleration[t])
        hit = (inp.hit_cap_by_regime if hits is None else hits)[int(post)]
        weights = split(inp, post)
        use_per_unit = (weights[:, None] * inp.intensity).sum(axis=0)  # resources per unit [R]
        scale = hit / float(inp.weights @ (use_per_unit / budgets[t]))
        target = np.minimum(weights * scale, inp.max_effort)
        effort[t] = _ramp(inp, t, effort, caps, target, budgets)
        caps[t] = budgets[t] - (effort[t][:, None] * inp.intensity).sum(axis=0)
        delay += (1 - float(inp.weights @ (caps[t] / budgets[t]))) * inp.dt
    return Schedule(effort=effort, capabilities=np.clip(caps, 0, None))


def _ramp(
    inp: Inputs,
    t: int,
    effort: np.ndarray,
    caps: np.ndarray,
    target: np.ndarray,
    budgets: np.ndarray,
) -> np.ndarray:
    """Effort in period t: the blend from the previous period's effort toward ``target`` whose
    staff moves stay within the re-assignment limit (the first period: within the initial safety
    staff plus one period of re-assignment)."""
    reassign = inp.reassignment_share_per_year * inp.dt
    staff_target = target * inp.intensity[:, 1]
    if t == 0:
        if inp.initial_safety_share is None or staff_target.sum() <= 0:
            return target
        limit = (inp.initial_safety_share + reassign) * budgets[0, 1]
        return target * min(1.0, limit / staff_target.sum())
    before = np.concatenate([[caps[t - 1, 1]], effort[t - 1] * inp.intensity[:, 1]])
    after = np.concatenate([[budgets[t, 1] - staff_target.sum()], staff_target])
    limit = max(0.0, budgets[t, 1] - budgets[t - 1, 1]) + reassign * budgets[t - 1, 1]
    lam, moving = 1.0, np.clip(after - before, 0, None).sum()
    if moving > limit:  # the inflow is piecewise linear in the blend weight: bisect
        lo, hi = 0.0, 1.0
        for _ in range(50):
            mid = (lo + hi) / 2
            mix = before + mid * (after - before)
            mix[0] = budgets[t, 1] - mix[1:].sum()
            lo, hi = (mid, hi) if np.clip(mix - before, 0, None).sum() <= limit else (lo, mid)
        lam = lo
    return effort[t - 1] + lam * (target - effort[t - 1])


def random_split(rng: np.random.Generator, n: int) -> Target:
    """A split drawn once from ``rng``: effort weights over ``n`` interventions, uniform on the
    simplex (Dirichlet(1, ..., 1)), one draw before and one after the switch."""
    before, after = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))
    return lambda inp, post: after if post else before
