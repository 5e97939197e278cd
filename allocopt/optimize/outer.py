"""Successive linear programming with a trust region: the outer loop for endogenous capability.

Each iteration solves the program linearized around the exact trajectory of the best schedule so
far, evaluates the new schedule exactly (:mod:`allocopt.numeric.simulate`), accepts it if the exact risk
reduction (less a penalty on constraint excess) did not fall, doubling the trust radius, or
rejects it, halving the radius. It stops with status ``optimal`` when an accepted step moves the
delay by less than the tolerance with the same regime in every period and no violated constraint,
or when the radius shrinks below the tolerance around a feasible point (no step improves the exact
merit: a stationary point, up to the tangent cuts' accuracy); after ``max_iterations`` it reports
``not_converged``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from allocopt.errors import InfeasibleError, SolverError
from allocopt.model import evaluate
from allocopt.model.linearization import Linearization, around, reference
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


def merit(inp: Inputs, schedule: Schedule, ev: Evaluation) -> float:
    """Exact value less a penalty on budget and velocity-cap excess (relative units), so that a
    step toward feasibility can be accepted while the linearization is still off."""
    spent = ev.use.sum(axis=1) + schedule.capabilities
    excess = np.clip(spent - ev.point.budget, 0, None) / ev.point.budget
    hit = np.clip(ev.velocity_hit - ev.hit_cap, 0, None)
    return ev.risk_reduction(inp) - PENALTY * float(excess.sum() + hit.sum())


def successive_lp(inp: Inputs, solve_at: SolveAt) -> Outcome:
    """Run the trust-region loop from the reference point until it converges.

    ``solve_at(lin)`` builds and solves the program linearized around ``lin`` and returns its
    objective and schedule; it raises :class:`InfeasibleError` when the scenario itself admits no
    schedule, and a plain ``infeasible`` :class:`SolverError` when only the trust region is to
    blame — the loop then widens the region (up to ``MAX_TRUST_FACTOR`` times the initial one).
    """
    settings = inp.capability
    widest = MAX_TRUST_FACTOR * settings.trust_region_years
    trust = settings.trust_region_years
    lin = reference(inp)
    best: tuple[Schedule, Evaluation, float, float] | None = None
    log: list[Iteration] = []
    for n in range(settings.max_iterations):
        try:
            objective, schedule = solve_at(lin)
        except SolverError as exc:
            if exc.status != "infeasible" or isinstance(exc, InfeasibleError) or trust >= widest:
                raise
            trust = min(4 * trust, widest)
            lin = around(best[0], best[1], trust) if best else replace(lin, trust=trust)
            continue
        ev = evaluate(inp, schedule)
        score = merit(inp, schedule, ev)
        ref = best[1] if best else None
        d_step = float(np.abs(ev.delay - ref.delay).max()) if ref else float(ev.delay.max())
        r_step = float(np.abs(ev.readiness - ref.readiness).max()) if ref else 1.0
        regimes = (
            int((ev.point.post_acceleration != ref.point.post_acceleration).sum()) if ref else 0
        )
        accepted = best is None or score >= best[3] - 1e-12 * max(1.0, abs(best[3]))
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
        if accepted:
            best = (schedule, ev, objective, score)
            if (
                ref is not None
                and d_step < settings.tolerance_years
                and regimes == 0
                and not ev.violations
            ):
                return Outcome(schedule, ev, objective, "optimal", tuple(log))
            trust = min(2 * trust, widest)
        else:
            trust /= 2
            if trust < settings.tolerance_years:
                # no step within a vanishing region improves the exact merit: a stationary point
                status = "not_converged" if best[1].violations else "optimal"
                return Outcome(best[0], best[1], best[2], status, tuple(log))
        lin = around(best[0], best[1], trust)
    assert best is not None
    return Outcome(best[0], best[1], best[2], "not_converged", tuple(log))
