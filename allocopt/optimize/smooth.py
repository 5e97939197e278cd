"""Tie-break: among the schedules within a tiny tolerance of the optimum, the smoothest.

The program has many near-equal optima, and HiGHS returns whichever vertex it reaches first: the
allocations zig-zag from period to period for no reason the figures could show. A second LP on
the program HiGHS holds keeps the objective and minimizes the change of every allocation's
budget share from one period to the next (docs/model.md, "Tie-break: the smoothest optimum"):

    smooth_hold:  objective >= optimum - smooth_tolerance * |optimum|
    smooth_step:  use[t,a,r] / budget[t,r] - use[t-1,a,r] / budget[t-1,r]
                      = smooth_up[t,a,r] - smooth_down[t,a,r],   smooth_up, smooth_down >= 0
    minimize variation = sum_{t>first} sum_a sum_r (smooth_up[t,a,r] + smooth_down[t,a,r])

(``budget``: the scenario's budget per period and resource, ``Inputs.budget``, a constant; only
the pairs (a, r) an activity uses; use[t,a,r] = capabilities[t,r] for a = capabilities,
intensity[a,r] * effort[t,a] otherwise, as :func:`shares` reads a schedule.) Its rows are built
as arrays straight for HiGHS (:func:`extension`): ``smooth_hold``'s coefficients are the costs
HiGHS holds for the objective, each ``smooth_step`` row has the columns of two allocations and
its ``smooth_up``/``smooth_down``. It runs on the persistent HiGHS of the first program, from its
optimal basis with each step row's residual taken by ``smooth_up`` or ``smooth_down`` (a primal
feasible start; :meth:`allocopt.optimize.highs.runner.HighsRunner.solve_instead`), and HiGHS holds the
first program again afterwards.

The exact simulator then checks the smoothed schedule x1 against the optimum x0 (:func:`loss`):
its exact risk reduction may fall at most ``smooth_tolerance`` (relative) below x0's, and it may
violate no more constraints than x0. When x1 is refused, the largest step found along the
segment x(lam) = x0 + lam (x1 - x0) that passes is reported (:func:`along`: a few exact
evaluations), and the summary's note gives lam; when none passes, x0 is kept, and the note
says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from allocopt.model import evaluate
from allocopt.model.linearization import around
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import Evaluation, Schedule
from allocopt.optimize.highs.arrays import INF
from allocopt.optimize.highs.extension import Extension
from allocopt.optimize.highs.runner import HighsRunner, Solved
from allocopt.optimize.outer import Outcome
from allocopt.optimize.slp_program import SlpProgram
from allocopt.scenario.tables import RESOURCES

# the search along the segment (along): each step tried aims at AIM of the tolerance; a step
# losing at least ENOUGH of it ends the search; at most EVALUATIONS exact evaluations (~15 ms
# each); no step shorter than SMALLEST is tried (it would move the variation by less than 0.1% of
# the way to the smoothest optimum's)
AIM, ENOUGH, EVALUATIONS, SMALLEST = 0.9, 0.5, 6, 1e-3


@dataclass(frozen=True)
class Tie:
    """The outcome of the tie-break: the schedule to report, the total period-to-period variation
    before and after (:func:`variation`), and what happened, as the summary's ``tie_break``;
    ``solved``: the second LP's solve, when its schedule x1 or a step ``step`` (lam, in (0, 1])
    along the segment from the optimum to it is reported."""

    schedule: Schedule
    before: float
    after: float
    note: str
    solved: Solved | None = None
    step: float = 0.0

    def summary(self) -> dict[str, float | str]:
        """The summary entries: ``tie_break``, ``variation_before``, ``variation_after``."""
        return {
            "tie_break": self.note,
            "variation_before": self.before,
            "variation_after": self.after,
        }

    def objective(self, optimum: float, smoothed: Callable[[Solved], float]) -> float:
        """The program's value of the reported schedule: ``optimum`` (that of the optimum x0)
        when it is kept, else ``optimum + step * (smoothed(solved) - optimum)``, the value of
        x(step) (the objective is linear along the segment)."""
        if self.solved is None:
            return optimum
        return optimum + self.step * (smoothed(self.solved) - optimum)


def shares(inp: Inputs, schedule: Schedule) -> np.ndarray:
    """[T, A, R] each activity's use of each resource as a share of the period's budget
    (``Inputs.budget``); activities in the order of the model's ACTIVITIES (capabilities first)."""
    use = schedule.effort[:, :, None] * inp.intensity[None, :, :]  # [T, I, R]
    both = np.concatenate([schedule.capabilities[:, None, :], use], axis=1)
    return both / inp.budget[:, None, :]


def variation(inp: Inputs, schedule: Schedule) -> float:
    """Total period-to-period variation of ``schedule``: the sum over later periods, activities
    and resources of |share[t,a,r] - share[t-1,a,r]| (:func:`shares`; dimensionless, in budget
    shares)."""
    return float(np.abs(np.diff(shares(inp, schedule), axis=0)).sum())


def unsmoothed(inp: Inputs, schedule: Schedule, note: str) -> Tie:
    """The tie of a schedule left as it is (``note`` says why)."""
    total = variation(inp, schedule)
    return Tie(schedule, total, total, note)


def extension(m: pyo.ConcreteModel, inp: Inputs, run: HighsRunner, floor: float) -> Extension:
    """The second LP over the program ``m`` that ``run`` holds (its solution loaded in ``m``),
    as arrays: the columns ``smooth_up`` and ``smooth_down`` of each pair in turn (t > first,
    (a, r) used, in the order of a [T-1, A, R] array), the ``smooth_step`` rows [pairs] then
    ``smooth_hold`` (m.objective >= ``floor``, in units of ``|floor|`` so HiGHS's absolute
    tolerances act relative to the objective's size), minimizing the variation. A variable of
    ``use`` that HiGHS does not hold enters its rows at its value (0 when it has none). Each
    step row starts with the column that takes its residual at ``m``'s solution basic."""
    cost, offset = run.objective_costs()
    num_col = len(cost)
    columns = []  # [T][A][R] the variable behind each use[t,a,r]
    for t in m.PERIODS:
        capabilities = [m.capabilities[t, r] for r in RESOURCES]
        columns.append([capabilities] + [[m.effort[t, i]] * len(RESOURCES) for i in inp.ids])
    flat = [v for period in columns for activity in period for v in activity]
    col = np.array([-1 if (c := run.column_of(v)) is None else c for v in flat], dtype=int)
    value = np.array([v.value or 0.0 for v in flat])
    shape = (len(columns), 1 + len(inp.ids), len(RESOURCES))
    col, value = col.reshape(shape), value.reshape(shape)
    intensity = np.concatenate([np.ones((1, shape[2])), np.asarray(inp.intensity)], axis=0)
    coef = intensity[None, :, :] / np.asarray(inp.budget)[:, None, :]  # [T, A, R]
    n, a, r = np.nonzero(np.broadcast_to(intensity != 0, (shape[0] - 1, *shape[1:])))
    pairs = len(n)
    later, earlier = (n + 1, a, r), (n, a, r)
    up = num_col + 2 * np.arange(pairs)
    down = up + 1
    index = np.stack([col[later], col[earlier], up, down], axis=1)  # [pairs, 4]
    values = np.stack([coef[later], -coef[earlier], -np.ones(pairs), np.ones(pairs)], axis=1)
    held = index >= 0
    known = np.stack([value[later], value[earlier]], axis=1)
    rhs = -np.where(held[:, :2], 0.0, values[:, :2] * known).sum(axis=1)
    residual = coef[later] * value[later] - coef[earlier] * value[earlier]
    unit = abs(floor) if floor != 0 else 1.0
    nonzero = np.flatnonzero(cost)
    counts = np.concatenate([held.sum(axis=1), [len(nonzero)]])
    return Extension(
        col_lower=np.zeros(2 * pairs),
        col_upper=np.full(2 * pairs, INF),
        row_lower=np.concatenate([rhs, [(floor - offset) / unit]]),
        row_upper=np.concatenate([rhs, [INF]]),
        start=np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32),
        index=np.concatenate([index[held], nonzero]).astype(np.int32),
        value=np.concatenate([values[held], cost[nonzero] / unit]),
        cost=np.concatenate([np.zeros(num_col), np.ones(2 * pairs)]),
        basic=np.concatenate([np.where(residual >= 0, up, down), [-1]]),
    )


def second_lp(m: pyo.ConcreteModel, inp: Inputs, run: HighsRunner, tolerance: float) -> Solved:
    """Solve the second LP (:func:`extension`) over ``m`` (its optimum loaded; handed over to
    ``run`` already) warm on ``run``; the smoothed solution is loaded into ``m`` when one is
    found, and ``run`` holds the first program again afterwards. ``Solved.objective``:
    m.objective at it."""
    optimum = run.objective_value()
    return run.solve_instead(m, extension(m, inp, run, optimum - tolerance * abs(optimum)))


def loss(inp: Inputs, ev: Evaluation, schedule: Schedule) -> tuple[float, str]:
    """How much exact risk reduction ``schedule`` loses against the optimum (evaluated ``ev``),
    relative to the optimum's, and a phrase saying so; ``inf`` when it violates more
    constraints than the optimum."""
    after = evaluate(inp, schedule)
    if len(after.violations) > len(ev.violations):
        return math.inf, f"violates {after.violations[0]}"
    exact = ev.risk_reduction(inp)
    lost = (exact - after.risk_reduction(inp)) / abs(exact)
    return lost, f"loses {lost:.2e} of the exact value"


def blend(x0: Schedule, x1: Schedule, step: float) -> Schedule:
    """x0 + step (x1 - x0), effort and capabilities alike."""
    return Schedule(
        effort=x0.effort + step * (x1.effort - x0.effort),
        capabilities=x0.capabilities + step * (x1.capabilities - x0.capabilities),
    )


def guess(tried: list[tuple[float, float]], target: float, low: float, high: float) -> float:
    """The next step to try for the loss ``target``, from the losses ``tried`` (step, loss;
    finite): the loss modelled as c lam + d lam^2 (it is 0 at lam = 0), c and d through the
    last two tried (c alone through one); the middle of (``low``, ``high``) when the model has
    no root inside."""
    step = math.nan
    if len(tried) == 1:
        (b, lb) = tried[0]
        step = target * b / lb if lb > 0 else math.nan
    elif len(tried) > 1:
        (a, la), (b, lb) = tried[-2:]
        d = (lb / b - la / a) / (b - a)
        c = la / a - d * a
        if d == 0:
            step = target / c if c > 0 else math.nan
        elif c * c + 4 * d * target >= 0:
            step = (-c + math.sqrt(c * c + 4 * d * target)) / (2 * d)
    return step if low < step < high else (low + high) / 2


def along(loss_at: Callable[[float], float], tolerance: float, lost: float) -> float | None:
    """The largest step lam in (0, 1) found along the segment from the optimum x0 (lam = 0) to
    the refused x1 (lam = 1, losing ``lost``) whose x(lam) loses at most ``tolerance``;
    ``loss_at(lam)``: the loss of x(lam) (:func:`loss`; ``inf`` for a schedule that violates
    more). Each try aims at :data:`AIM` of the tolerance on the loss's model through the tries
    (:func:`guess`), within the bracket of the largest step passed and the smallest refused;
    the search ends at a step passed that loses at least :data:`ENOUGH` of the tolerance, or
    after :data:`EVALUATIONS` tries; no step below :data:`SMALLEST` is tried. None when no step
    tried passes."""
    low, high = 0.0, 1.0
    tried = [(1.0, lost)] if math.isfinite(lost) else []
    for _ in range(EVALUATIONS):
        step = max(guess(tried, AIM * tolerance, low, high), SMALLEST)
        if step >= high:
            break
        lost = loss_at(step)
        if math.isfinite(lost):
            tried.append((step, lost))
        if lost > tolerance:
            high = step
            continue
        low = step
        if lost >= ENOUGH * tolerance:
            break
    return low if low > 0 else None


def smoothest(
    m: pyo.ConcreteModel,
    inp: Inputs,
    run: HighsRunner,
    tolerance: float,
    schedule: Schedule,
    read: Callable[[pyo.ConcreteModel, Inputs], Schedule],
    ev: Evaluation | None = None,
) -> Tie:
    """The tie-break of ``schedule`` (the optimum x0, exact trajectory ``ev``, evaluated when
    not given; the program's optimum loaded in ``m``, handed over to ``run``): the second LP's
    schedule x1 (``read`` from ``m``) when HiGHS proves its optimum, it varies less than x0
    (in the endogenous program the second LP holds the optimum at the converged point, which
    may differ from x0) and it loses at most ``tolerance`` (:func:`loss`); when it is refused,
    the largest step along the segment from x0 to x1 found to pass (:func:`along`); else x0,
    with a note saying why."""
    solved = second_lp(m, inp, run, tolerance)
    if not solved.status.is_optimal:
        return unsmoothed(inp, schedule, f"unsmoothed: the second LP ended {solved.status}")
    smooth = read(m, inp)
    before, after = variation(inp, schedule), variation(inp, smooth)
    if after >= before:
        return Tie(
            schedule, before, before, "unsmoothed: no smoother schedule within the tolerance"
        )
    ev = ev if ev is not None else evaluate(inp, schedule)
    lost, why = loss(inp, ev, smooth)
    if lost <= tolerance:
        return Tie(smooth, before, after, "smoothest", solved, 1.0)
    step = along(lambda lam: loss(inp, ev, blend(schedule, smooth, lam))[0], tolerance, lost)
    if step is None:
        return Tie(schedule, before, before, f"unsmoothed: the smoothest optimum {why}")
    partial = blend(schedule, smooth, step)
    note = f"partly smoothed: {step:.3g} of the way to the smoothest optimum, which {why}"
    return Tie(partial, before, variation(inp, partial), note, solved, step)


def smoothest_converged(
    program: SlpProgram,
    outcome: Outcome,
    tolerance: float,
    read: Callable[[pyo.ConcreteModel, Inputs], Schedule],
) -> tuple[Tie, float]:
    """The tie-break of the outer loop's converged ``outcome`` (:func:`smoothest`), on the
    program whose optimum the converged schedule x0 is: the loop's program at the point
    ``outcome.point`` it was solved at. HiGHS still holds it when the program's last solve
    returned x0 (``program.held``: a warm re-solve, no local duals checked since); else the
    program is moved back there and solved warm (the same LP: x0 is among its optima, whichever
    vertex HiGHS returns). A start schedule the loop never left (no ``outcome.point``) is
    linearized around its exact trajectory within the loop's convergence radius
    (``tolerance_years``) instead. Returns the tie and the program's risk reduction at the
    schedule reported (:meth:`Tie.objective`: ``outcome.objective_model`` at x0)."""
    inp = program.inputs
    if program.held is not outcome.schedule:
        point = outcome.point
        if point is None:
            point = around(outcome.schedule, outcome.evaluation, inp.capability.tolerance_years)
        first = program.solve(point)
        if not first.status.is_optimal:
            note = f"unsmoothed: the program at the converged point ended {first.status}"
            return unsmoothed(inp, outcome.schedule, note), outcome.objective_model
    tie = smoothest(
        program.model, inp, program.run, tolerance, outcome.schedule, read, outcome.evaluation
    )
    program.held = None  # the model now holds the second LP's solution
    return tie, tie.objective(outcome.objective_model, program.risk_reduction)
