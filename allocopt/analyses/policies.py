"""Policies: schedules written as rules, evaluated in the exact simulator and compared with the
optimum — how much risk reduction a rule of thumb leaves behind.

A rule is a feedback policy: period by period it reads Magma's delay so far (hence its budgets and
regime), picks a velocity hit and a split of safety work, and respects the staff frictions by
moving toward its target only as fast as re-assignment allows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from allocopt.model import evaluate
from allocopt.numeric.inputs import Inputs, prepare
from allocopt.numeric.simulate import Evaluation, Schedule
from allocopt.numeric.trajectory import point_at
from allocopt.optimize.session import Model
from allocopt.results.result import Result
from allocopt.scenario.schema import Scenario

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


def follow_rule(inp: Inputs, split: Target) -> Schedule:
    """Run a rule forward: in each period take the regime's full velocity-hit cap for safety work
    split by ``split``, moving toward it no faster than the staff frictions allow."""
    n_t, n_i = len(inp.periods), len(inp.ids)
    effort = np.zeros((n_t, n_i))
    caps = np.zeros((n_t, 2))
    budgets = np.zeros((n_t, 2))  # each period's budget at the delay it starts with
    delay = 0.0
    for t in range(n_t):
        point = point_at(inp, np.full(n_t, delay))
        budgets[t] = point.budget[t]
        post = bool(point.post_acceleration[t])
        hit = inp.hit_cap_by_regime[1] if post else inp.hit_cap_by_regime[0]
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


def capabilities_only(inp: Inputs) -> Schedule:
    """Everything to capabilities: no safety work, no velocity hit."""
    return Schedule(
        effort=np.zeros((len(inp.periods), len(inp.ids))), capabilities=inp.budget.copy()
    )


@dataclass(frozen=True)
class PolicyScore:
    """One line of a comparison."""

    policy: str
    risk_reduction: float
    probability_with_plan: float  # counting the own risk postponed past the horizon
    velocity_lost_years: float
    mean_velocity_hit: float
    violations: int


def _row(name: str, inp: Inputs, ev: Evaluation) -> PolicyScore:
    reduction = ev.risk_reduction(inp)
    cumulative = float(inp.hazard_full.sum() * inp.dt) - reduction
    return PolicyScore(
        name,
        reduction,
        float(-np.expm1(-cumulative)),
        ev.delay_end,
        float(ev.velocity_hit.mean()),
        len(ev.violations),
    )


def _solved(name: str, result: Result) -> PolicyScore:
    s = result.summary
    return PolicyScore(
        name,
        float(s["risk_reduction_exact"]),
        float(s["probability_with_plan_and_postponed"]),
        float(s["delay_at_horizon_years"]),
        float(result.knobs.velocity_hit.mean()),
        len(result.violations),
    )


def compare(scenario: Scenario, optimum: Result | None = None) -> pd.DataFrame:
    """Risk reduction (exact) and velocity lost of the optimum (``optimum``, a result of
    ``scenario``, or solved here) and of each policy. "Never slow" (the post-acceleration cap
    held at the pre-acceleration one) is solved on the same :class:`Model`, updated in place:
    with endogenous capability its outer loop restarts from the optimum's schedule."""
    inp = prepare(scenario)
    model = Model(scenario)
    best = optimum or model.solve()
    model.start = best.schedule
    cap = scenario.velocity.hit_cap_pre_acceleration
    model.update({"velocity.hit_cap_post_acceleration": cap})
    never_slow = model.solve()
    rows = [
        _solved("optimum", best),
        _row("essay_rule", inp, evaluate(inp, follow_rule(inp, essay_split))),
        _solved("never_slow", never_slow),
        _row("capabilities_only", inp, evaluate(inp, capabilities_only(inp))),
    ]
    table = pd.DataFrame([r.__dict__ for r in rows])
    table["share_of_optimum"] = table.risk_reduction / table.risk_reduction.iloc[0]
    return table
