"""Successive linear programming with a trust region: the outer loop for endogenous capability.

Each iteration solves the program linearized around the exact trajectory of the best schedule so
far (``solve_at``: in :func:`allocopt.solve` one persistent program moved in place,
:mod:`allocopt.optimize.slp_program`) and evaluates the new schedule exactly
(:mod:`allocopt.numeric.simulate`). The step is accepted when the exact merit (risk reduction less
a penalty on constraint excess) did not fall, or when it ends every violation of the best
point at a merit loss below :data:`GAIN_TOLERANCE` or the best point's tangent-cut gap (a
restoring step). The trust radius follows
the ratio of the actual to the predicted merit gain, as in standard trust-region SLP: a rejected
or poorly predicted step halves the radius below the step's length, a well predicted step whose
delay move reached the radius doubles it, anything else keeps it. The loop stops with status
``locally_optimal`` when an accepted step moves the delay by less than the tolerance with the
same regime in every period and no violated constraint, or when an accepted feasible step gains less than
:data:`GAIN_TOLERANCE` and the program predicts no more (the tangent cuts' accuracy is far
coarser). Whatever the step, a radius shrunk below the tolerance ends the loop at the best point
(no step within a vanishing region improves the exact merit: a stationary point):
``locally_optimal`` when it violates nothing, else ``not_converged``; after ``max_iterations``
it reports ``not_converged``. The program is nonconvex (products of the delay with decisions),
so a converged loop is a local optimum, never a proven global one: ``optimal`` is not claimed.

The loop reads schedules through an :class:`Exact` (default :class:`Single`: one scenario's
simulator); a scenario tree's extensive form passes its own (one schedule per branch, their
values combined by the tree's risk measure: :mod:`allocopt.optimize.extensive_slp`).

Each iteration is logged at DEBUG level to this module's logger (a child of ``allocopt``) and
handed to ``on_iteration`` (the CLI's live progress line).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from allocopt.model import evaluate
from allocopt.model.linearization import Linearization, around, full_speed
from allocopt.model.staff import friction_excess
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import Evaluation, Schedule
from allocopt.results.status import Status

LOGGER = logging.getLogger(__name__)
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
    """The schedule the loop settled on and how it got there (with a tree's :class:`Exact`:
    its plan, one schedule per branch, and their evaluations)."""

    schedule: Schedule
    evaluation: Evaluation
    objective_model: float
    status: Status  # LOCALLY_OPTIMAL (converged) or NOT_CONVERGED
    iterations: tuple[Iteration, ...]
    point: Any = None  # what solve_at was handed when it returned schedule (None: the start)


MAX_TRUST_FACTOR = 16.0  # widest trust region, as a multiple of the initial one
PENALTY = 10.0  # merit lost per unit of relative constraint excess
# relative merit gain below which a feasible accepted step ends the loop when the program predicts
# no more: 30x below the tangent cuts' approximation gap on the baseline (0.3%, docs/model.md)
GAIN_TOLERANCE = 1e-4
POOR, GOOD = 0.25, 0.75  # ratio of actual to predicted gain that shrinks / may widen the radius
BOUNDARY = 0.9  # a delay move this share of the radius long reached it (only such steps widen it)


# the limits the merit prices, by name (:func:`excesses`)
LIMITS = ("budget", "velocity-hit cap", "staff frictions")


def excesses(inp: Inputs, schedule: Schedule, ev: Evaluation) -> dict[str, np.ndarray]:
    """Each limit of :data:`LIMITS` by its rows' excess on ``schedule``'s exact trajectory
    ``ev``, in relative units, 0 where a row holds: ``budget`` [T, R] spending over the
    budget per unit of budget, ``velocity-hit cap`` [T] the hit over its cap,
    ``staff frictions`` [rows] staff beyond a friction's limit per unit of the limit
    (:func:`allocopt.model.staff.friction_excess`)."""
    spent = ev.use.sum(axis=1) + schedule.capabilities
    over = np.clip(spent - ev.point.budget, 0, None) / ev.point.budget
    hit = np.clip(ev.velocity_hit - ev.hit_cap, 0, None)
    return dict(zip(LIMITS, (over, hit, friction_excess(inp, schedule, ev)), strict=True))


def excess(inp: Inputs, schedule: Schedule, ev: Evaluation) -> float:
    """The sum of every row's excess (:func:`excesses`): 0 when ``schedule`` keeps the budgets,
    the velocity-hit cap and the staff frictions."""
    return float(sum(rows.sum() for rows in excesses(inp, schedule, ev).values()))


def merit(inp: Inputs, schedule: Schedule, ev: Evaluation) -> float:
    """Exact value less a penalty on budget, velocity-cap and staff-friction excess
    (:func:`excess`), so that a step toward feasibility can be accepted while the linearization
    is still off, and a point past a limit does not out-score its feasible neighbours by less
    than the penalty."""
    return ev.risk_reduction(inp) - PENALTY * excess(inp, schedule, ev)


class Exact(Protocol):
    """How the loop reads a schedule (for a tree: one per branch) exactly."""

    def start(self) -> Any:
        """The default start: full speed with no safety work."""

    def evaluate(self, schedule: Any) -> Any:
        """The exact trajectory of ``schedule``."""

    def value(self, ev: Any) -> float:
        """The exact objective (risk reduction, or the tree's risk measure of it)."""

    def merit(self, schedule: Any, ev: Any) -> float:
        """The exact value less the penalty on excess (:func:`merit`)."""

    def point(self, schedule: Any, ev: Any, trust: float) -> Any:
        """What ``solve_at`` is handed: the linearization around ``ev`` with radius ``trust``."""

    def steps(self, ev: Any, best: Any) -> tuple[float, float, int]:
        """From ``best`` to ``ev``: the largest delay move (years) and readiness move, and how
        many periods changed regime."""

    def violations(self, ev: Any) -> Sequence[str]:
        """The constraints the schedule of ``ev`` violates, one line each."""


@dataclass(frozen=True)
class Single:
    """:class:`Exact` for one scenario: its simulator (:func:`allocopt.model.evaluate`)."""

    inp: Inputs

    def start(self) -> Schedule:
        return full_speed(self.inp)

    def evaluate(self, schedule: Schedule) -> Evaluation:
        return evaluate(self.inp, schedule)

    def value(self, ev: Evaluation) -> float:
        return ev.risk_reduction(self.inp)

    def merit(self, schedule: Schedule, ev: Evaluation) -> float:
        return merit(self.inp, schedule, ev)

    def point(self, schedule: Schedule, ev: Evaluation, trust: float) -> Linearization:
        return around(schedule, ev, trust)

    def steps(self, ev: Evaluation, best: Evaluation) -> tuple[float, float, int]:
        return (
            float(np.abs(ev.delay - best.delay).max()),
            float(np.abs(ev.readiness - best.readiness).max()),
            int((ev.point.post_acceleration != best.point.post_acceleration).sum()),
        )

    def violations(self, ev: Evaluation) -> Sequence[str]:
        return ev.violations


@dataclass(frozen=True)
class _Point:
    """An accepted schedule, its exact trajectory and merit, and the program's value there."""

    schedule: Schedule
    ev: Evaluation
    score: float
    objective: float  # the program's value of the schedule (the exact value for a start)
    gap: float  # program value less exact value: the tangent cuts' part of a prediction
    point: Any = None  # what solve_at was handed when it returned schedule (None: the start)


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


def successive_lp(
    inp: Inputs,
    solve_at: SolveAt,
    start: Schedule | None = None,
    on_iteration: Callable[[Iteration], object] | None = None,
    accept_first: bool = False,
    exact: Exact | None = None,
) -> Outcome:
    """Run the trust-region loop from the exact trajectory of ``start`` (default: full speed with
    no safety work, :func:`allocopt.model.linearization.full_speed`) until it converges.

    ``solve_at(lin)`` solves the program linearized around ``lin`` and returns its risk reduction
    and schedule; it raises :class:`allocopt.errors.InfeasibleError` when the scenario admits no
    schedule (the trust rows are elastic, so the region alone never makes it infeasible). From
    full speed, or from a ``start`` that violates a constraint, the first solution is accepted
    whatever its merit (the merit does not price every constraint); from a feasible ``start`` (a
    restart from a converged schedule) no step may lower the merit, unless ``accept_first`` (a
    re-solve of a changed program from the old optimum, whose merit the change may have lowered:
    the local duals' finite differences). ``on_iteration`` is called with each
    :class:`Iteration` as it ends. ``exact`` reads schedules (default ``Single(inp)``; the
    loop's settings are ``inp.capability``'s whatever ``exact``).
    """
    settings = inp.capability
    exact = exact or Single(inp)
    widest = MAX_TRUST_FACTOR * settings.trust_region_years
    trust = settings.trust_region_years
    schedule = start if start is not None else exact.start()
    ev = exact.evaluate(schedule)
    best = _Point(schedule, ev, exact.merit(schedule, ev), exact.value(ev), 0.0)
    feasible = start is not None and not exact.violations(ev) and not accept_first
    log: list[Iteration] = []
    for n in range(settings.max_iterations):
        point = exact.point(best.schedule, best.ev, trust)
        objective, schedule = solve_at(point)
        ev = exact.evaluate(schedule)
        score = exact.merit(schedule, ev)
        d_step, r_step, regimes = exact.steps(ev, best.ev)
        gain = score - best.score
        predicted = objective - best.score - best.gap
        scale = GAIN_TOLERANCE * abs(score)
        # a step that ends every violation of the best point is taken unless it loses more merit
        # than the gain tolerance and the program's own error there (its tangent cuts' gap): a
        # point a hair past a limit (a velocity hit 3e-6 over its cap, an effort 4e-9 EU over its
        # bound) can out-score every feasible neighbour by less than the program can resolve,
        # and the radius would shrink around it to not_converged
        restores = bool(exact.violations(best.ev)) and not exact.violations(ev)
        restores = restores and gain >= -max(scale, best.gap)
        accepted = (
            (not log and not feasible) or gain >= -1e-12 * max(1.0, abs(best.score)) or restores
        )
        ratio = gain / predicted if predicted > scale else 1.0
        it = Iteration(
            n,
            trust,
            objective,
            exact.value(ev),
            d_step,
            r_step,
            regimes,
            len(exact.violations(ev)),
            accepted,
        )
        log.append(it)
        _report(it, on_iteration)
        trust = resize(trust, d_step, r_step, ratio if accepted else -1.0, widest)
        if accepted:
            best = _Point(schedule, ev, score, objective, objective - exact.value(ev), point)
            moved = d_step >= settings.tolerance_years or regimes > 0
            flat = n > 0 and abs(gain) < scale and predicted < scale
            if not exact.violations(ev) and (not moved or flat):
                return _end(best, Status.LOCALLY_OPTIMAL, log)
        if trust < settings.tolerance_years:
            # no step within a vanishing region improves the exact merit (or the program keeps
            # answering the point itself): a stationary point, in every branch
            status = Status.NOT_CONVERGED if exact.violations(best.ev) else Status.LOCALLY_OPTIMAL
            return _end(best, status, log)
    return _end(best, Status.NOT_CONVERGED, log)


def _report(it: Iteration, on_iteration: Callable[[Iteration], object] | None) -> None:
    """Log one iteration (DEBUG) and hand it to ``on_iteration``."""
    LOGGER.debug(
        "outer iteration %d: exact risk reduction %.6f (program %.6f), delay step %.2e years, "
        "trust radius %.2e years, %d violations, %s",
        it.iteration,
        it.objective_exact,
        it.objective_model,
        it.delay_step_years,
        it.trust,
        it.violations,
        "accepted" if it.accepted else "rejected",
    )
    if on_iteration is not None:
        on_iteration(it)


def _end(best: _Point, status: Status, log: list[Iteration]) -> Outcome:
    LOGGER.debug("outer loop: %s after %d iterations", status, len(log))
    return Outcome(best.schedule, best.ev, best.objective, status, tuple(log), best.point)
