"""Shadow prices of the endogenous program: the duals of the converged linearization, reported
only where a finite-difference re-solve of the outer loop confirms them (``source`` =
:data:`SLP_LOCAL`; docs/explore.md, "Shadow prices").

At a converged point the program linearized there is the first-order model of the nonconvex
program, so its row duals are candidate local sensitivities; the tangent cuts, the regime switch
and degenerate vertices can make them wrong. Each candidate row is checked by tightening its
right-hand side by a step ``step`` in the same persistent program (a mutable Param added to the
row's bound, :class:`RowShifts`), re-running the outer loop warm from the converged schedule and
differencing the *exact* risk reduction (:mod:`allocopt.numeric.simulate`) against the same re-run
with no row tightened (:func:`rerun_value`): ``fd = (V(re-run) - V(tightened)) / step``. The loop
ends anywhere within its resolution (``GAIN_TOLERANCE``, 1e-4 of the value), so a re-run that
tightens nothing may end that far from the converged point; differencing two runs of the one
procedure cancels that offset, which divided by a step of ``TARGET`` (5e-4 of the value) would
otherwise move ``fd`` by up to a fifth of the dual. The row is confirmed when
``|fd - dual| <= RTOL * |dual|``. The re-run stops as soon as the merit of a schedule it
accepted (often its first step's: one warm LP re-solve and an exact evaluation) proves that it
cannot confirm the dual (:func:`finite_difference`), so each verdict is the full re-run's. Tightening, not
relaxing: a tightened row keeps every schedule the loop finds inside the scenario's own
constraints (up to second order), which the exact check and the loop's merit judge; the check is
therefore of the left derivative.

The candidates are the binding inequality rows (``|dual| > ZERO``) of the budget, velocity-hit and
staff families. ``stock_balance`` rows are equalities that define the stocks: the exact simulator
recomputes stocks from the effort, so a stock added in the program alone has no exact value to
difference, and they are never confirmed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.repn import generate_standard_repn

from allocopt.errors import AllocoptError
from allocopt.model import evaluate
from allocopt.model.family import row_scale
from allocopt.model.linearization import Linearization, around
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import Schedule
from allocopt.optimize.duals import SLP_LOCAL, DualRows, velocity_price
from allocopt.optimize.outer import Iteration, Outcome, SolveAt, merit, successive_lp
from allocopt.optimize.slp_program import SlpProgram
from allocopt.results.result import DUAL_COLUMNS, empty_duals
from allocopt.results.status import Status

logger = logging.getLogger(__name__)
CANDIDATES = ("budget_limit", "velocity_hit_limit", "staff_growth", "staff_reassignment")
ZERO = 1e-12  # a dual this small is a slack row's: nothing to confirm
# the step's predicted change of the risk reduction, as a share of it: 5x the outer loop's
# GAIN_TOLERANCE (its resolution), well below the tangent cuts' approximation gap (0.3%)
TARGET = 5e-4
MAX_SHARE = 0.01  # largest step, as a share of the row's terms (:func:`scale`)
RTOL = 0.1  # relative agreement of the finite difference with the dual that confirms it
SAMPLE = 1  # rows :func:`allocopt.solve` checks per constraint and resource (largest |dual|)
SHIFT = "dual_shift"  # the Param added to each candidate row's bound
# LocalDuals.checks' columns after the labels
CHECKED = ["dual", "step", "fd", "confirmed", "settled_by"]
LOOP, BOUND = "loop", "bound"  # how a check was settled (:func:`finite_difference`)


class RowShifts:
    """A mutable Param ``dual_shift[k]`` (0 by default) added to the upper bound of the ``k``-th
    priced row of ``program`` (:class:`DualRows` order) for each ``k`` of ``candidates`` (the
    ``<=`` rows of :data:`CANDIDATES`): set it to move that row's right-hand side, in user units
    (times the factor the row's family scaled it by, ``row_scale``). Attach before the program's
    first solve, so that HiGHS tracks the bounds."""

    def __init__(self, program: SlpProgram) -> None:
        m = program.model
        self.rows = DualRows.of(m)
        self.candidates = [
            k for k, name in enumerate(self.rows.labels.constraint) if name in CANDIDATES
        ]
        m.add_component(SHIFT, pyo.Param(self.candidates, initialize=0.0, mutable=True))
        self.param = m.component(SHIFT)
        self.factors = [row_scale(m, con) for con in self.rows.rows]
        for k in self.candidates:
            con = self.rows.rows[k]
            con.set_value(con.body <= con.upper + self.factors[k] * self.param[k])


@dataclass(frozen=True)
class LocalDuals:
    """The duals of the converged linearization and their check.

    ``checks``: one line per candidate row (``period``, ``constraint``, ``resource``,
    ``activity``, ``dual``, ``step``, ``fd`` (NaN when the re-solve did not converge; the bound
    when the re-run stopped early), ``confirmed``, ``settled_by``: :data:`LOOP` or
    :data:`BOUND`, :func:`finite_difference`); ``table``: the confirmed rows as a duals table
    (``DUAL_COLUMNS``, ``source`` = :data:`SLP_LOCAL`) with the velocity-hit price where both its
    rows are confirmed; ``seconds``: wall time of the check."""

    checks: pd.DataFrame
    table: pd.DataFrame
    seconds: float


def local_duals(
    inp: Inputs,
    program: SlpProgram,
    shifts: RowShifts,
    outcome: Outcome,
    solve_at: SolveAt,
    per_group: int | None = None,
) -> LocalDuals:
    """Solve ``program`` (with ``shifts`` attached) at ``outcome``'s converged point, read its
    duals and confirm candidate rows by a tightened warm re-run of the outer loop (``solve_at``:
    its step on ``program``): every binding candidate, or the ``per_group`` largest |dual| of
    each constraint and resource. The program is left at the last re-run's point with every
    shift back at 0."""
    t0 = time.perf_counter()
    lin = around(outcome.schedule, outcome.evaluation, inp.capability.trust_region_years)
    frame = converged_duals(program, shifts, lin)
    if frame is None:
        empty = pd.DataFrame(columns=["period", "constraint", "resource", "activity", *CHECKED])
        return LocalDuals(empty, empty_duals(), time.perf_counter() - t0)
    base = rerun_value(inp, solve_at, outcome)
    binding = sample(frame, per_group)
    # at the converged solution, in user units
    sizes = [scale(shifts.rows.rows[k]) / shifts.factors[k] for k in binding]
    checks = []
    for k, size in zip(binding, sizes, strict=True):
        dual = float(frame.value.iloc[k])
        step = min(TARGET * abs(base) / abs(dual), MAX_SHARE * size)
        shifts.param[int(k)].set_value(-step)
        try:
            fd, how = finite_difference(inp, solve_at, outcome, base, dual, step)
        finally:
            shifts.param[int(k)].set_value(0.0)
        confirmed = bool(abs(fd - dual) <= RTOL * abs(dual))
        checks.append((int(k), dual, step, fd, confirmed, how))
        logger.debug(
            "%s %s: dual %.6g, finite difference %.6g (step %.6g, %s): %s",
            frame.constraint.iloc[k],
            " ".join(filter(None, (frame.period.iloc[k], frame.resource.iloc[k]))),
            dual,
            fd,
            step,
            how,
            "confirmed" if confirmed else "not confirmed",
        )
    check = pd.DataFrame(checks, columns=["row", *CHECKED])
    labels = frame.iloc[check.row.to_numpy(dtype=int)].reset_index(drop=True)
    checks_table = pd.concat(
        [labels[["period", "constraint", "resource", "activity"]], check.drop(columns="row")],
        axis=1,
    )
    kept = labels[check.confirmed.to_numpy(dtype=bool)]  # an empty mask selects rows, not columns
    table = pd.concat([kept, velocity_price(kept).dropna(subset=["value"])], ignore_index=True)
    return LocalDuals(
        checks_table,
        table.assign(source=SLP_LOCAL)[DUAL_COLUMNS].reset_index(drop=True),
        time.perf_counter() - t0,
    )


def rerun_value(inp: Inputs, solve_at: SolveAt, outcome: Outcome) -> float:
    """The exact risk reduction of the outer loop re-run warm from ``outcome``'s schedule with no
    row tightened (as :func:`finite_difference` re-runs it): the value the tightened re-runs are
    differenced against; ``outcome``'s own value when that re-run is not a local optimum free of
    violations."""
    again = successive_lp(inp, solve_at, outcome.schedule, accept_first=True)
    ok = Status(again.status).is_local_optimum and not again.evaluation.violations
    return (again if ok else outcome).evaluation.risk_reduction(inp)


def finite_difference(
    inp: Inputs, solve_at: SolveAt, outcome: Outcome, base: float, dual: float, step: float
) -> tuple[float, str]:
    """The finite difference ``(base - V(tightened)) / step`` of a row whose right-hand side
    ``program`` has tightened by ``step`` (``base``: :func:`rerun_value`): the outer loop re-run
    warm from ``outcome``'s schedule
    (NaN when it is infeasible, does not converge or violates a constraint; :data:`LOOP`), or a
    bound that proves the re-run cannot confirm ``dual`` (:data:`BOUND`).

    The loop accepts its first step whatever its merit and no later step lowers the merit by more
    than :func:`slack`; a loop that ends at a local optimum violates nothing, so its exact value
    is at least the merit ``M`` of any schedule it accepted, less that slack, and its finite
    difference at most ``bound = (base - M + slack) / step``. The loop stops as soon as ``bound <
    dual - RTOL * |dual|`` (often after its first step, one warm LP re-solve): the verdict is the
    full re-run's, without its remaining iterations."""
    latest: list[Schedule] = []

    def solve_and_keep(lin: Linearization) -> tuple[float, Schedule]:
        objective, schedule = solve_at(lin)
        latest[:] = [schedule]
        return objective, schedule

    def watch(it: Iteration) -> None:
        # merit <= exact value: a bound from the value that is not low enough spares the merit
        if it.accepted and (base - it.objective_exact) / step < dual - RTOL * abs(dual):
            m = merit(inp, latest[0], evaluate(inp, latest[0]))
            bound = (base - m + slack(inp, base, m)) / step
            if bound < dual - RTOL * abs(dual):
                raise _Settled(bound)

    try:
        again = successive_lp(inp, solve_and_keep, outcome.schedule, watch, accept_first=True)
    except _Settled as settled:
        return settled.bound, BOUND
    except AllocoptError:  # the tightened row made the scenario infeasible
        return np.nan, LOOP
    ok = Status(again.status).is_local_optimum and not again.evaluation.violations
    return ((base - again.evaluation.risk_reduction(inp)) / step if ok else np.nan), LOOP


def slack(inp: Inputs, base: float, m: float) -> float:
    """What the loop's later accepted steps may lose of the merit ``m`` in all: 1000x its
    acceptance test's allowance (1e-12 of the merit per step, at most ``slp.max_iterations``
    steps) at merits up to ``max(1, |base|, |m|)``."""
    return 1e-9 * inp.capability.max_iterations * max(1.0, abs(base), abs(m))


class _Settled(Exception):
    """Raised from the loop's callback: its best merit proves the check cannot confirm."""

    def __init__(self, bound: float) -> None:
        super().__init__(bound)
        self.bound = bound


def sample(frame: pd.DataFrame, per_group: int | None) -> np.ndarray:
    """Positions in ``frame`` (a duals table) of the binding candidate rows, in table order: all
    of them, or the ``per_group`` largest |value| per constraint and resource."""
    size = frame.value.abs()
    binding = frame[frame.constraint.isin(CANDIDATES) & (size > ZERO)]
    if per_group is not None:
        ranked = binding.assign(size=size).sort_values("size", ascending=False, kind="stable")
        binding = ranked.groupby(["constraint", "resource"], sort=False).head(per_group)
    return np.sort(frame.index.get_indexer(binding.index))


def scale(con: pyo.ConstraintData) -> float:
    """The size of ``con``'s terms at the loaded solution: sum of |coefficient * value| over its
    linear terms plus |constant| (the scale a step on its right-hand side is measured against)."""
    repn = generate_standard_repn(con.body, compute_values=True)
    terms = sum(
        abs(c * (v.value or 0.0)) for c, v in zip(repn.linear_coefs, repn.linear_vars, strict=True)
    )
    return float(terms + abs(repn.constant or 0.0))


def converged_duals(
    program: SlpProgram, shifts: RowShifts, lin: Linearization
) -> pd.DataFrame | None:
    """The priced rows' duals of ``program`` solved at ``lin`` (labels and ``value``, in
    :class:`DualRows` order; no velocity price); None unless HiGHS proves an optimum."""
    solved = program.solve(lin)
    if not solved.status.is_optimal:
        return None
    return shifts.rows.labels.assign(value=shifts.rows.values(program.run))
