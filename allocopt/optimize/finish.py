"""The one path from a solved program to a :class:`~allocopt.results.result.Result`.

Every producer of results — :func:`allocopt.solve`, :meth:`allocopt.Model.solve`, the outer
loop, sweeps (through ``Model``), scenario trees — hands its schedule here: the exact simulator
checks it, an optimum (proven or local) it finds violating a constraint becomes ``check_failed``
(whichever path produced it), and the tables are built once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields

import pandas as pd

from allocopt.errors import SolverError
from allocopt.model import FAMILIES, evaluate
from allocopt.model.family import Family
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import Schedule
from allocopt.optimize.outer import Iteration
from allocopt.results.build import build_result
from allocopt.results.result import Result
from allocopt.results.status import Status
from allocopt.scenario.schema import Scenario

ITERATION_COLUMNS = [f.name for f in fields(Iteration)]  # the result's iterations table
# Phases of a solve, in the order they happen (seconds in Result.timings): prepare the scenario's
# arrays, build (or update in place) the Pyomo model, hand it over to HiGHS, HiGHS's run (timed
# around it) and HiGHS's own run clock, the tie-break's second LP (allocopt.optimize.smooth), the
# exact simulator's check, the result's tables.
PHASES = ("prepare", "build", "handover", "highs", "highs_clock", "smooth", "check", "report")


def add_timings(total: dict[str, float], more: Mapping[str, float]) -> None:
    """Add the seconds of ``more`` to ``total``, phase by phase (in place)."""
    for phase, seconds in more.items():
        total[phase] = total.get(phase, 0.0) + seconds


def to_result(
    inp: Inputs,
    scenario: Scenario,
    schedule: Schedule,
    status: Status,
    objective_model: float,
    timings: Mapping[str, float],
    *,
    message: str = "",
    allow_nonoptimal: bool = True,
    iterations: Sequence[Iteration] = (),
    objective_bound: float | None = None,
    relative_gap: float | None = None,
    duals: pd.DataFrame | None = None,
    families: Sequence[Family] = FAMILIES,
    per_iteration: float | None = None,
    starts: pd.DataFrame | None = None,
    tie_break: Mapping[str, float | str] | None = None,
) -> Result:
    """The :class:`Result` of ``schedule`` (solved for ``scenario``, prepared as ``inp``),
    after the exact simulator's check: an ``optimal`` or ``locally_optimal`` status whose
    schedule violates a constraint becomes ``check_failed``. Unless ``allow_nonoptimal``, a
    status other than those two raises :class:`SolverError` (``message`` says how the solve
    ended). ``starts``: the multi-start table (:func:`allocopt.optimize.starts.starts_table`).
    ``timings``: seconds by phase so far; ``check`` and ``report`` are added and every phase
    of :data:`PHASES` is present (0 where it did not happen), with ``per_iteration`` (the outer
    loop's wall time per iteration) where given. ``families``: the constraint families whose
    checks the schedule must pass (those the program was built from). ``tie_break``: the
    summary entries of the tie-break among near-equal optima
    (:meth:`allocopt.optimize.smooth.Tie.summary`), where one ran."""
    status = Status(status)
    t0 = time.perf_counter()
    ev = evaluate(inp, schedule, families)
    t1 = time.perf_counter()
    if status.is_local_optimum and ev.violations:
        status = Status.CHECK_FAILED
        message = f"the solve reported an optimum, but the exact check finds: {ev.violations[0]}"
    if not status.is_local_optimum and not allow_nonoptimal:
        raise SolverError(status, f"{message} (allow_nonoptimal=True returns the solution found)")
    seconds = {phase: 0.0 for phase in PHASES}
    add_timings(seconds, timings)
    add_timings(seconds, {"check": t1 - t0})
    if per_iteration is not None:
        seconds["per_iteration"] = per_iteration
    result = build_result(
        inp,
        scenario,
        schedule,
        ev,
        status,
        objective_model,
        seconds,
        pd.DataFrame([asdict(i) for i in iterations], columns=ITERATION_COLUMNS),
        objective_bound=objective_bound,
        relative_gap=relative_gap,
        duals=duals,
        starts=starts,
        tie_break=tie_break,
    )
    add_timings(seconds, {"report": time.perf_counter() - t1})  # the dict the result holds
    return result
