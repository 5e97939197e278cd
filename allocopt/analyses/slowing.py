"""The value of slowing, period by period and term by term (docs/model.md, "The value of slowing").

At a solved schedule, one more percentage point of velocity hit in period ``t`` moves resources
from capabilities to safety work in that period (in the period's own safety mix: every effort of
the period grows by the same factor, and capabilities give up exactly the resources it uses, so
velocity falls by ``STEP`` and nothing else in the period moves). Every later period keeps its
velocity: its allocations follow its budget (capabilities per resource, effort by the
velocity-weighted budget ratio), so the delay of every later period grows by ``STEP * dt``.

The exact simulator evaluates the change of the exact risk reduction (``total``) and each term's
part of it: the inputs are frozen at the solved trajectory (every delay-dependent quantity fixed at
its value there, :func:`frozen`), and one term at a time follows the delay again (:func:`thawed`):

- ``safety_work``: the extra safety work of period ``t`` with everything frozen;
- ``own_hazard`` (``hazard_slope``): Magma's own hazards follow the delay;
- ``budgets`` (``budget_slope``): budgets, and the later allocations with them, follow the
  frontier;
- ``ai_labour`` (``ai_gain_slope``): the AI labour multiplier follows Magma's own speed-up;
- ``safety_difficulty`` (``ease_slope``): the effort an intervention needs follows Magma's own
  speed-up;
- ``influence`` (``influence_slope``): Magma's weight on other developers' safety;
- ``competition_relief``: other developers' hazard falls as Magma drops behind;
- ``credibility`` (term (g), ``credibility_loss``): advocacy's credibility follows the velocities
  (the hit of period ``t`` is remembered in it and every later period's);
- ``no_return`` (term (h), ``lock_slope``): the share locked in past the point of no return
  follows Magma's own speed-up;
- ``postponed_risk`` (``postponed_rate``): own risk left untraversed past the horizon (and met,
  with the tail, at the last residual share; with salvage the tail at its own periods' shares).

The terms sum to ``total`` up to their interactions (second order in ``STEP``); a term whose switch
is off in the scenario is exactly zero. Values are changes of the exact risk reduction (a cut in
cumulative hazard): positive is what the point buys, negative what it costs.

The step is a direction, not a plan the program could choose: ``breaks`` names the limits it
breaks (:func:`breaks`), e.g. the staff re-assignment limit when the period's mix needs more
staff than may move. A positive total where the hit is below its cap and the step breaks a
limit is no contradiction: the program's feasible ways to slow are worth less there.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from allocopt.numeric.inputs import Inputs, prepare
from allocopt.numeric.simulate import Evaluation, Schedule, simulate
from allocopt.numeric.trajectory import OWN, point_at, postponed
from allocopt.optimize.outer import excesses
from allocopt.results.result import Result

STEP = 0.01  # one percentage point of velocity hit
UNIT = "change of exact risk reduction (cumulative hazard) per percentage point of velocity hit"
TERMS = (
    "safety_work",
    "own_hazard",
    "budgets",
    "ai_labour",
    "safety_difficulty",
    "influence",
    "competition_relief",
    "credibility",
    "no_return",
    "postponed_risk",
)
TOTAL = "total"
# a limit counts as broken when one of its rows is exceeded by more than this (relative): the
# later periods' allocations, scaled by one velocity-weighted budget ratio, overshoot a budget by
# about 2e-5 of it (``slower``); the steps that break the staff re-assignment limit on the
# baseline exceed it by 1% to 14%
BREAK_TOLERANCE = 1e-3


def frozen(inp: Inputs, ev: Evaluation) -> Inputs:
    """``inp`` with every delay- or velocity-dependent quantity fixed at its value on ``ev``'s
    trajectory and every delay switch off: budgets, own and others' hazards, AI speed-up,
    influence (folded into ``export_weight``), safety difficulty (``ease_fixed``), the lock-in
    past the point of no return (``lock_fixed``), advocacy's credibility
    (``credibility_fixed``). Postponed risk is not in the inputs (:func:`_within`)."""
    cap = inp.capability
    point = ev.point
    return replace(
        inp,
        ease_fixed=point.ease,
        lock_fixed=point.lock,
        credibility_fixed=ev.credibility,
        budget=point.budget,
        hazard=point.hazard,
        speedup=point.speedup,
        export_weight=inp.export_weight * point.influence[:, None],
        capability=replace(
            cap,
            endogenous=False,
            hazard_follows_delay=False,
            budget_frontier_share=np.zeros_like(cap.budget_frontier_share),
            influence_halflife_years=None,
            competition_relief=(0.0, 0.0),
            competition_relief_per_doubling=0.0,
        ),
    )


def thawed(inp: Inputs, cold: Inputs, term: str, delay: np.ndarray) -> Inputs:
    """``cold`` (:func:`frozen`) with ``term`` following the delay again as in ``inp``
    (``safety_difficulty``, ``no_return``: held at their value on ``delay`` [T], the step's
    trajectory; ``credibility``: following the velocities of the schedule simulated)."""
    cap = cold.capability
    if term == "safety_difficulty":
        return replace(cold, ease_fixed=point_at(inp, delay).ease)
    if term == "no_return":
        return replace(cold, lock_fixed=point_at(inp, delay).lock)
    if term == "credibility":
        return replace(cold, credibility_fixed=None)
    if term == "own_hazard":
        hazard = np.where(OWN[None, :], inp.hazard, cold.hazard)
        follows = inp.capability.hazard_follows_delay
        return replace(cold, hazard=hazard, capability=replace(cap, hazard_follows_delay=follows))
    if term == "budgets":
        share = inp.capability.budget_frontier_share
        return replace(
            cold, budget=inp.budget, capability=replace(cap, budget_frontier_share=share)
        )
    if term == "ai_labour":
        endogenous = inp.capability.endogenous
        return replace(cold, speedup=inp.speedup, capability=replace(cap, endogenous=endogenous))
    if term == "influence":
        halflife = inp.capability.influence_halflife_years
        return replace(
            cold,
            export_weight=inp.export_weight,
            capability=replace(cap, influence_halflife_years=halflife),
        )
    if term == "competition_relief":
        hazard = np.where(OWN[None, :], cold.hazard, inp.hazard)
        relief = inp.capability.competition_relief
        per_doubling = inp.capability.competition_relief_per_doubling
        return replace(
            cold,
            hazard=hazard,
            capability=replace(
                cap, competition_relief=relief, competition_relief_per_doubling=per_doubling
            ),
        )
    raise ValueError(f"no delay-dependent inputs for term {term!r} (known: {TERMS[1:-1]})")


def _within(inp: Inputs, ev: Evaluation, base: Evaluation) -> float:
    """Exact risk reduction of ``ev`` counting the hazard still ahead at the end on ``base``'s
    trajectory (``base.postponed``, its tail's periods ``base.tail_piece`` with salvage) at
    ``ev``'s residual shares (``Evaluation.met_ahead``), against ``base.tail_full`` at full speed
    (what ``Evaluation.risk_reduction`` counts with its own)."""
    cut = (inp.hazard_full - ev.hazard_plan).sum() * inp.dt
    return float(cut + base.tail_full.sum() - ev.met_ahead(base.postponed, base.tail_piece))


def slower(inp: Inputs, schedule: Schedule, ev: Evaluation, t: int) -> tuple[Schedule, Schedule]:
    """The schedule with ``STEP`` more velocity hit in period ``t``: later allocations as solved
    (for frozen budgets), and later allocations following the budgets of the longer delay.

    Raises ValueError when the schedule has no safety effort at all (no mix to grow)."""
    effort, caps = schedule.effort.copy(), schedule.capabilities.copy()
    mix = effort[t] if effort[t].sum() > 0 else effort.sum(axis=0)
    if mix.sum() <= 0:
        raise ValueError("the schedule has no safety effort: no mix to move capabilities into")
    use = mix @ inp.intensity  # [R] resources of the mix
    scale = STEP / float(inp.weights @ (use / ev.point.budget[t]))
    effort[t] += scale * mix
    caps[t] -= scale * use
    at_t = Schedule(effort=effort, capabilities=caps)
    delay = ev.delay + np.where(np.arange(len(ev.delay)) > t, STEP * inp.dt, 0.0)
    ratio = point_at(inp, delay).budget / ev.point.budget  # [T, R], 1 up to t
    later = Schedule(effort=effort * (ratio @ inp.weights)[:, None], capabilities=caps * ratio)
    return at_t, later


def breaks(inp: Inputs, schedule: Schedule, ev: Evaluation) -> str:
    """The limits (:data:`allocopt.optimize.outer.LIMITS`) that ``schedule`` breaks on its exact
    trajectory ``ev`` by more than :data:`BREAK_TOLERANCE`, joined by ", " ("" if none)."""
    over = excesses(inp, schedule, ev)
    return ", ".join(name for name, rows in over.items() if (rows > BREAK_TOLERANCE).any())


def value_of_slowing(result: Result) -> pd.DataFrame:
    """Per period (in order) and term (TERMS, then ``total``): the change of the exact risk
    reduction that ``STEP`` more velocity hit in that period brings about, as the tidy table
    ``period, term, value, unit, breaks`` (``breaks``: the limits the step of that period
    breaks, :func:`breaks`; "velocity-hit cap" where the hit is at its cap). ``total`` is the
    exact change with every term on; the terms sum to it up to their interactions. Every value
    is NaN and ``breaks`` empty when the schedule has no safety effort at all (no mix to move
    capabilities into)."""
    inp = prepare(result.scenario)
    if result.schedule.effort.sum() <= 0:  # no safety mix to grow: nothing to decompose
        rows = [(p, term, np.nan) for p in inp.periods.labels for term in (*TERMS, TOTAL)]
        table = pd.DataFrame(rows, columns=["period", "term", "value"])
        return table.assign(unit=UNIT, breaks="")
    base = simulate(inp, result.schedule)
    cold = frozen(inp, base)
    rr0 = base.risk_reduction(inp)
    rows, broken = [], {}
    for t, period in enumerate(inp.periods.labels):
        at_t, later = slower(inp, result.schedule, base, t)
        slow = simulate(cold, at_t)
        values = {"safety_work": _within(cold, slow, base) - rr0}
        for term in TERMS[1:-1]:
            warm = thawed(inp, cold, term, slow.delay)
            ev = simulate(warm, later if term == "budgets" else at_t)
            values[term] = _within(warm, ev, base) - _within(cold, slow, base)
        moved, _ = postponed(inp, slow.delay_end)
        values["postponed_risk"] = -float(slow.residual_plan[-1] @ (moved - base.postponed))
        step = simulate(inp, later)
        values[TOTAL] = step.risk_reduction(inp) - rr0
        broken[period] = breaks(inp, later, step)
        rows += [(period, term, value) for term, value in values.items()]
    table = pd.DataFrame(rows, columns=["period", "term", "value"]).assign(unit=UNIT)
    return table.assign(breaks=table.period.map(broken))
