"""Tie-break: among the schedules within a tiny tolerance of the optimum, the smoothest.

The program has many near-equal optima, and HiGHS returns whichever vertex it reaches first: the
allocations zig-zag from period to period for no reason the figures could show. A second LP on
the same Pyomo model holds the objective and minimizes the change of every allocation's budget
share from one period to the next (docs/model.md, "Tie-break: the smoothest optimum"):

    smooth_hold:  objective >= optimum - smooth_tolerance * |optimum|
    smooth_step:  use[t,a,r] / budget[t,r] - use[t-1,a,r] / budget[t-1,r]
                      = smooth_up[t,a,r] - smooth_down[t,a,r],   smooth_up, smooth_down >= 0
    minimize variation = sum_{t>first} sum_a sum_r (smooth_up[t,a,r] + smooth_down[t,a,r])

(``budget``: the scenario's budget per period and resource, ``Inputs.budget``, a constant; only
the pairs (a, r) an activity uses.) The second LP runs on the persistent HiGHS of the first, warm
from its optimal basis (:meth:`allocopt.optimize.highs.HighsRunner.solve_instead`); its rows live
in one block, removed afterwards, so the model and HiGHS hold the first program again. The exact
simulator then checks the smoothed schedule: its exact risk reduction may fall at most
``smooth_tolerance`` (relative) below the unsmoothed one's, and it may violate no constraint the
unsmoothed one meets; otherwise the unsmoothed schedule is kept, and the summary says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from allocopt.model import evaluate
from allocopt.model.linearization import around
from allocopt.model.sets import CAPABILITIES
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import Evaluation, Schedule
from allocopt.optimize.highs import HighsRunner, Solved
from allocopt.optimize.outer import Outcome
from allocopt.optimize.slp_program import SlpProgram
from allocopt.scenario.tables import RESOURCES

BLOCK = "smooth"  # the block holding the second LP's columns, rows and objective


@dataclass(frozen=True)
class Tie:
    """The outcome of the tie-break: the schedule to report, the total period-to-period variation
    before and after (:func:`variation`), and what happened, as the summary's ``tie_break``."""

    schedule: Schedule
    before: float
    after: float
    note: str
    solved: Solved | None = None  # the second LP's solve, when its schedule is kept

    def summary(self) -> dict[str, float | str]:
        """The summary entries: ``tie_break``, ``variation_before``, ``variation_after``."""
        return {
            "tie_break": self.note,
            "variation_before": self.before,
            "variation_after": self.after,
        }


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


def add_smoothing(m: pyo.ConcreteModel, inp: Inputs, floor: float) -> pyo.Block:
    """Add the second LP to ``m`` in the block :data:`BLOCK`: ``smooth_up``/``smooth_down``
    columns, the ``smooth_step`` rows, ``smooth_hold`` (m.objective >= ``floor``) and
    ``smooth_objective`` (minimize the summed change; the caller deactivates m.objective).
    Returns the block."""
    budget = {
        (t, r): float(inp.budget[n, k])
        for n, t in enumerate(m.PERIODS)
        for k, r in enumerate(RESOURCES)
    }
    used = {(CAPABILITIES, r) for r in RESOURCES} | {
        (i, r)
        for n, i in enumerate(inp.ids)
        for k, r in enumerate(RESOURCES)
        if inp.intensity[n, k] != 0
    }
    pairs = [(t, a, r) for t in m.LATER_PERIODS for a in m.ACTIVITIES for r in m.RESOURCES]
    pairs = [(t, a, r) for t, a, r in pairs if (a, r) in used]
    b = pyo.Block()
    setattr(m, BLOCK, b)
    b.PAIRS = pyo.Set(initialize=pairs, dimen=3, ordered=True)
    b.smooth_up = pyo.Var(b.PAIRS, domain=pyo.NonNegativeReals)
    b.smooth_down = pyo.Var(b.PAIRS, domain=pyo.NonNegativeReals)

    def step(b: pyo.Block, t: str, a: str, r: str) -> object:
        before = m.PERIODS.prev(t)
        change = m.use[t, a, r] / budget[t, r] - m.use[before, a, r] / budget[before, r]
        return change == b.smooth_up[t, a, r] - b.smooth_down[t, a, r]

    b.smooth_step = pyo.Constraint(b.PAIRS, rule=step)
    # in units of the floor, so HiGHS's absolute tolerances act relative to the objective's size
    unit = abs(floor) if floor != 0 else 1.0
    b.smooth_hold = pyo.Constraint(expr=m.objective.expr / unit >= floor / unit)
    total = sum(b.smooth_up.values()) + sum(b.smooth_down.values())
    b.smooth_objective = pyo.Objective(expr=total, sense=pyo.minimize)
    return b


def second_lp(m: pyo.ConcreteModel, inp: Inputs, run: HighsRunner, tolerance: float) -> Solved:
    """Solve the second LP on ``m`` (its optimum loaded; handed over to ``run`` already) warm on
    ``run``; the smoothed solution is loaded into ``m`` when one is found, and ``m`` and ``run``
    hold the first program again afterwards. ``Solved.objective``: m.objective at it."""
    optimum = float(pyo.value(m.objective))
    b = add_smoothing(m, inp, optimum - tolerance * abs(optimum))
    rows = list(b.component_data_objects(pyo.Constraint))
    m.objective.deactivate()
    try:
        return run.solve_instead(m, b.smooth_objective, rows)
    finally:
        m.objective.activate()
        m.del_component(b)


def accept(inp: Inputs, tolerance: float, ev: Evaluation, smooth: Schedule) -> str:
    """The note on the smoothed schedule ``smooth``: ``smoothest`` when its exact risk reduction
    is within ``tolerance`` (relative) of that of the unsmoothed schedule (evaluated ``ev``) and
    it violates no more constraints; else why it is refused."""
    after = evaluate(inp, smooth)
    exact, smoothed = ev.risk_reduction(inp), after.risk_reduction(inp)
    if len(after.violations) > len(ev.violations):
        return f"unsmoothed: the smoothest optimum violates {after.violations[0]}"
    if smoothed < exact - tolerance * abs(exact):
        loss = (exact - smoothed) / abs(exact)
        return f"unsmoothed: the smoothest optimum loses {loss:.2e} of the exact value"
    return "smoothest"


def smoothest(
    m: pyo.ConcreteModel,
    inp: Inputs,
    run: HighsRunner,
    tolerance: float,
    schedule: Schedule,
    read: Callable[[pyo.ConcreteModel, Inputs], Schedule],
) -> Tie:
    """The tie-break of ``schedule`` (the optimum loaded in ``m``, handed over to ``run``): the
    second LP's schedule (``read`` from ``m``) when HiGHS proves its optimum, the exact check
    (:func:`accept`) passes and it varies less than ``schedule`` (in the endogenous program the
    second LP holds the optimum at the converged point, which may differ from ``schedule``),
    else ``schedule``, with a note saying why."""
    solved = second_lp(m, inp, run, tolerance)
    if not solved.status.is_optimal:
        return unsmoothed(inp, schedule, f"unsmoothed: the second LP ended {solved.status}")
    smooth = read(m, inp)
    note = accept(inp, tolerance, evaluate(inp, schedule), smooth)
    before, after = variation(inp, schedule), variation(inp, smooth)
    if note == "smoothest" and after >= before:
        note = "unsmoothed: no smoother schedule within the tolerance"
    if note != "smoothest":
        return Tie(schedule, before, before, note)
    return Tie(smooth, before, after, note, solved)


def smoothest_converged(
    program: SlpProgram,
    outcome: Outcome,
    tolerance: float,
    read: Callable[[pyo.ConcreteModel, Inputs], Schedule],
) -> tuple[Tie, float]:
    """The tie-break of the outer loop's converged ``outcome``: ``program`` linearized at the
    converged schedule's exact trajectory, within the loop's convergence radius
    (``tolerance_years``: the trajectory stays where the loop left it), and solved warm,
    then :func:`smoothest` on it. Returns the tie and the program's risk reduction at the
    schedule it holds (``outcome.objective_model`` when the schedule is left as it is)."""
    inp = program.inputs
    lin = around(outcome.schedule, outcome.evaluation, inp.capability.tolerance_years)
    first = program.solve(lin)
    if not first.status.is_optimal:
        note = f"unsmoothed: the program at the converged point ended {first.status}"
        return unsmoothed(inp, outcome.schedule, note), outcome.objective_model
    tie = smoothest(program.model, inp, program.run, tolerance, outcome.schedule, read)
    if tie.solved is None:
        return tie, outcome.objective_model
    return tie, program.risk_reduction(tie.solved)
