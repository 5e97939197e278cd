"""Successive linear programming with a trust region: the outer loop for endogenous capability.

Each iteration solves the program linearized around the exact trajectory of the best schedule so
far (``solve_at``: in :func:`allocopt.solve` one persistent program moved in place,
:mod:`allocopt.optimize.slp_program`) and evaluates the new schedule exactly
(:mod:`allocopt.numeric.simulate`). The step is accepted when the exact merit (risk reduction less
a penalty on constraint excess) did not fall. The trust radius follows the ratio of the actual to
the predicted merit gain, as in standard trust-region SLP: a rejected or poorly predicted step
halves the radius below the step's length, a well predicted step whose delay move reached the
radius doubles it, anything else keeps it. The loop stops with status ``optimal`` when an
accepted step moves the delay by less than the tolerance with the same regime in every period and
no violated constraint, when an accepted feasible step gains less than :data:`GAIN_TOLERANCE` and
the program predicts no more (the tangent cuts' accuracy is far coarser), or when the radius
shrinks below the tolerance around a feasible point (no step improves the exact merit: a
stationary point); after ``max_iterations`` it reports ``not_converged``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from allocopt.model import evaluate
from allocopt.model.linearization import Linearization, around, full_speed
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import Evaluation, Schedule

SolveAt = Callable[[Linearization], tuple[float, Schedule]]


@dataclass(frozen=True)
class Iteration:
    """One pass of the outer loop."""

    iteration: int
    trust: float
    objective_model: float
    objective_exact: float
    delay_step_years: float
    readiness_step: float
    regimes_changed: int
    violations: int
    accepted: bool


@dataclass(frozen=True)
class Outcome:
    """The schedule the loop settled on and how it got there."""

    schedule: Schedule
    evaluation: Evaluation
    objective_model: float
    status: str  # "optimal" (converged) or "not_converged"
    iterations: tuple[Iteration, ...]


MAX_TRUST_FACTOR = 16.0  # widest trust region, as a multiple of the initial one
PENALTY = 10.0  # merit lost per unit of relative constraint excess
# relative merit gain below which a feasible accepted step ends the loop when the program predicts
# no more: 30x below the tangent cuts' approximation gap on the baseline (0.3%, docs/model.md)
GAIN_TOLERANCE = 1e-4
POOR, GOOD = 0.25, 0.75  # ratio of actual to predicted gain that shrinks / may widen the radius
BOUNDARY = 0.9  # a delay move this share of the radius long reached it (only such steps widen it)


def merit(inp: Inputs, schedule: Schedule, ev: Evaluation) -> float:
    """Exact value less a penalty on budget and velocity-cap excess (relative units), so that a
    step toward feasibility can be accepted while the linearization is still off."""
    spent = ev.use.sum(axis=1) + schedule.capabilities
    excess = np.clip(spent - ev.point.budget, 0, None) / ev.point.budget
    hit = np.clip(ev.velocity_hit - ev.hit_cap, 0, None)
    return ev.risk_reduction(inp) - PENALTY * float(excess.sum() + hit.sum())


@dataclass(frozen=True)
class _Point:
    """An accepted schedule, its exact trajectory and merit, and the program's value there."""

    schedule: Schedule
    ev: Evaluation
    score: float
    objective: float  # the program's value of the schedule (the exact value for a start)
    gap: float  # program value less exact value: the tangent cuts' part of a prediction


def resize(trust: float, delay: float, readiness: float, ratio: float, widest: float) -> float:
    """The next trust radius after a step that moved the delay by ``delay`` years and readiness
    by ``readiness`` (largest over periods), and whose actual merit gain was ``ratio`` times the
    predicted one. Only the delay's move tells whether the step reached the radius: readiness is
    a share, and the exact readiness strays from the program's (tangent cuts) by more than the
    radius allows."""
    if ratio < POOR:
        return 0.5 * min(trust, max(delay, readiness))
    if ratio > GOOD and delay >= BOUNDARY * trust:
        return min(2 * trust, widest)
    return trust


def successive_lp(inp: Inputs, solve_at: SolveAt, start: Schedule | None = None) -> Outcome:
    """Run the trust-region loop from the exact trajectory of ``start`` (default: full speed with
    no safety work, :func:`allocopt.model.linearization.full_speed`) until it converges.

    ``solve_at(lin)`` solves the program linearized around ``lin`` and returns its risk reduction
    and schedule; it raises :class:`allocopt.errors.InfeasibleError` when the scenario admits no
    schedule (the trust rows are elastic, so the region alone never makes it infeasible). From
    full speed, or from a ``start`` that violates a constraint, the first solution is accepted
    whatever its merit (the merit does not price every constraint); from a feasible ``start`` (a
    restart from a converged schedule) no step may lower the merit.
    """
    settings = inp.capability
    widest = MAX_TRUST_FACTOR * settings.trust_region_years
    trust = settings.trust_region_years
    schedule = start if start is not None else full_speed(inp)
    ev = evaluate(inp, schedule)
    best = _Point(schedule, ev, merit(inp, schedule, ev), ev.risk_reduction(inp), 0.0)
    feasible = start is not None and not ev.violations  # a start worth keeping
    log: list[Iteration] = []
    for n in range(settings.max_iterations):
        objective, schedule = solve_at(around(best.schedule, best.ev, trust))
        ev = evaluate(inp, schedule)
        score = merit(inp, schedule, ev)
        d_step = float(np.abs(ev.delay - best.ev.delay).max())
        r_step = float(np.abs(ev.readiness - best.ev.readiness).max())
        regimes = int((ev.point.post_acceleration != best.ev.point.post_acceleration).sum())
        gain = score - best.score
        predicted = objective - best.score - best.gap
        accepted = (not log and not feasible) or gain >= -1e-12 * max(1.0, abs(best.score))
        scale = GAIN_TOLERANCE * abs(score)
        ratio = gain / predicted if predicted > scale else 1.0
        log.append(
            Iteration(
                n,
                trust,
                objective,
                ev.risk_reduction(inp),
                d_step,
                r_step,
                regimes,
                len(ev.violations),
                accepted,
            )
        )
        trust = resize(trust, d_step, r_step, ratio if accepted else -1.0, widest)
        if accepted:
            best = _Point(schedule, ev, score, objective, objective - ev.risk_reduction(inp))
            moved = d_step >= settings.tolerance_years or regimes > 0
            flat = n > 0 and abs(gain) < scale and predicted < scale
            if not ev.violations and (not moved or flat):
                return Outcome(schedule, ev, objective, "optimal", tuple(log))
        elif trust < settings.tolerance_years:
            # no step within a vanishing region improves the exact merit: a stationary point
            status = "not_converged" if best.ev.violations else "optimal"
            return Outcome(best.schedule, best.ev, best.objective, status, tuple(log))
    return Outcome(best.schedule, best.ev, best.objective, "not_converged", tuple(log))
