"""The outer loop over a scenario tree's extensive form, for endogenous capability in every branch.

:class:`TreeProgram` is the extensive form of the branches' endogenous programs, each block
linearized around its branch's OWN trajectory: the "point" is one
:class:`~allocopt.model.linearization.Linearization` per branch (:class:`Plan` in, :class:`Plan`
out). Branches of one structure share one :class:`~allocopt.optimize.slp_program.SlpProgram`,
moved to each branch's inputs and point in place; its LP arrays, read from HiGHS, are the
branch's block. Branches at one node share the columns of their decisions (non-anticipativity,
:func:`~allocopt.optimize.extensive_rows.share_columns` with no other family: what the
decisions determine depends on each branch's point); every other column and row is the branch's
own, so the form keeps its shape from point to point and each re-solve is a dual simplex warm
from the last basis (the first, cold, run is HiGHS's interior point with crossover:
:data:`LATER_RUNS`). A form of :data:`INTERIOR_ROWS` rows or more is solved by PIQP's interior
point instead (:mod:`allocopt.optimize.interior`), its columns scaled by a block solved alone;
a run PIQP does not end ``solved`` goes to HiGHS. The objective is the tree's: the expected risk
reduction, its worst case or its CVaR (:func:`~allocopt.optimize.extensive.measure_rows`).

:class:`TreeExact` reads a plan exactly: every branch simulated
(:func:`allocopt.model.evaluate`), the values combined by the tree's risk measure, the penalty
on excess summed over branches. :func:`allocopt.optimize.outer.successive_lp` runs the loop
with both: one trust radius for every branch, a step accepted when the tree's exact merit did
not fall, ``locally_optimal`` when it converges (docs/model.md, "Scenario trees").
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from allocopt.errors import SolverError
from allocopt.model import evaluate, structure
from allocopt.model.linearization import Linearization, around, full_speed, reference
from allocopt.model.objective import TRUST_PENALTY, outside
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import Evaluation, Schedule
from allocopt.optimize.extensive import (
    _column_names,
    _objective_scale,
    check_branches,
)
from allocopt.optimize.extensive_rows import (
    BranchLp,
    Rows,
    TreeSettings,
    measure_rows,
    risk_measure,
    share_columns,
)
from allocopt.optimize.highs.arrays import ArrayLp, LpArrays
from allocopt.optimize.highs.options import DUAL_TOLERANCE
from allocopt.optimize.highs.runner import HighsRunner
from allocopt.optimize.interior import InteriorLp, block_scale
from allocopt.optimize.outer import PENALTY, excess
from allocopt.optimize.slp_program import WARM, SlpProgram
from allocopt.scenario.tables import RESOURCES

# The first run is cold: HiGHS's interior point with crossover (the crossover leaves a basis), later
# runs dual simplex warm from the last basis with Devex pricing (WARM, as the single program's).
# Measured on magma_tree's first form (6 branches, 45k rows, from the expected scenario's plan;
# CPU seconds): dual simplex 25.7 s (26,945 iterations), primal 22.8 s, interior point +
# crossover 5.3 s; its 4 later runs 3.5 s with steepest edge, 2.3 s with Devex. Without crossover
# the first run leaves no basis, so every later run would be cold: not used.
LATER_RUNS = WARM

# Forms with this many rows or more go to PIQP's interior point (allocopt.optimize.interior).
# First forms of the endogenous baseline's trees (docs/explore.md, "Seventh pass"; CPU s): 4
# branches (35k rows) HiGHS 2.1 s, PIQP 0.6 s; 16 (141k rows) HiGHS 16.7 s and its later warm runs
# about 13 s, PIQP 3.3 s; 64 (563k rows) HiGHS 181-218 s, PIQP 14 s. Under 100k rows (magma_tree's
# 6 branches, 53k) HiGHS's later runs are warm and cheap (0.3-1.6 s), and a vertex optimum.
INTERIOR_ROWS = 100_000

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """One schedule per branch, and each branch's risk reduction in the program that chose it
    (NaN for a plan no program chose, e.g. a start)."""

    schedules: tuple[Schedule, ...]
    values: np.ndarray  # [B]


@dataclass(frozen=True)
class _Columns:
    """Where a program's variables sit among HiGHS's columns (the same for every branch of the
    program's structure)."""

    names: np.ndarray  # [cols] variable names
    family: np.ndarray  # [cols] variable families
    period: np.ndarray  # [cols] period index
    capabilities: np.ndarray  # [T, R]
    effort: np.ndarray  # [T, I]
    outside: np.ndarray  # the trust rows' slacks


class TreeProgram:
    """The extensive form over endogenous branches ``inputs`` (probabilities, nodes, objective
    and HiGHS limits: ``tree``), moved from plan to plan (module docstring). ``solve(points)``
    returns the program's tree objective (risk measure of the branches' program risk
    reductions, trust penalties excluded) and its :class:`Plan`; it raises SolverError unless
    HiGHS proves an optimum (status ``infeasible`` when no plan satisfies every branch)."""

    def __init__(
        self,
        inputs: Sequence[Inputs],
        tree: TreeSettings,
    ) -> None:
        check_branches(inputs)
        self.inputs, self.p = list(inputs), tree.probability
        self.objective, self.alpha = tree.objective, tree.cvar_alpha
        time_limit, threads = tree.time_limit, tree.threads
        self.programs: list[SlpProgram] = []
        self.group: list[int] = []  # program of each branch
        for inp in self.inputs:
            key = next(
                (
                    k
                    for k, prog in enumerate(self.programs)
                    if structure(prog.model, prog.inputs) == structure(prog.model, inp)
                ),
                None,
            )
            if key is None:
                key = len(self.programs)
                self.programs.append(
                    SlpProgram(inp, HighsRunner(time_limit, threads), reference(inp))
                )
            self.group.append(key)
        self.seconds = {"move": 0.0, "assemble": 0.0, "highs": 0.0, "interior_point": 0.0}
        lps = [self._lp(b, reference(inp)) for b, inp in enumerate(self.inputs)]
        self.where = [self._columns(prog) for prog in self.programs]
        stubs = [  # share_columns reads a block's arrays and column names only
            BranchLp(
                lp=lp,
                working=np.ones(lp.num_row, dtype=bool),
                names=self.where[g].names,
                family=self.where[g].family,
                period=self.where[g].period,
                capabilities=self.where[g].capabilities,
                effort=self.where[g].effort,
                objective=math.nan,
                schedule=full_speed(inp),
            )
            for lp, g, inp in zip(lps, self.group, self.inputs, strict=True)
        ]
        self.column = share_columns(stubs, tree.node, families=())
        self.n = int(max(c.max() for c in self.column)) + 1
        self.fixed: tuple[np.ndarray, np.ndarray] | None = None
        self.highs = ArrayLp(
            {
                "threads": threads,
                "solver": "ipm",  # the first run (LATER_RUNS' comment)
                "run_crossover": "on",
                "dual_feasibility_tolerance": DUAL_TOLERANCE,
            }
        )
        self.time_limit = time_limit
        self.interior = InteriorLp(threads)
        self.highs_runs = self.interior_runs = 0
        self.simplex_iterations = self.interior_iterations = 0
        self.size: dict[str, int] = {}

    def _lp(self, b: int, lin: Linearization) -> LpArrays:
        """Branch b's block at ``lin``: its program moved there, read from HiGHS."""
        t0 = time.perf_counter()
        lp = self.programs[self.group[b]].lp_at(self.inputs[b], lin)
        self.seconds["move"] += time.perf_counter() - t0
        return lp

    @staticmethod
    def _columns(prog: SlpProgram) -> _Columns:
        m, runner, inp = prog.model, prog.run, prog.inputs
        labels, ids = inp.periods.labels, inp.ids
        names, family, period = _column_names(m, runner, runner.lp().num_col, labels)
        column = runner.column_of
        return _Columns(
            names,
            family,
            period,
            np.array([[column(m.capabilities[t, r]) for r in RESOURCES] for t in labels]),
            np.array([[column(m.effort[t, i]) for i in ids] for t in labels]),
            np.array([column(x) for x in outside(m)], dtype=int),
        )

    def fix(self, schedule: Schedule, until: int) -> None:
        """Hold every branch's decisions in the periods before ``until`` at ``schedule``'s."""
        values = np.concatenate([schedule.capabilities, schedule.effort], axis=1)
        cols, vals = [], []
        for b, g in enumerate(self.group):
            where = self.where[g]
            for t in range(until):
                own = np.concatenate([where.capabilities[t], where.effort[t]])
                cols.append(self.column[b][own])
                vals.append(values[t])
        col, first = np.unique(np.concatenate(cols), return_index=True)
        self.fixed = (col, np.concatenate(vals)[first])

    def _assemble(self, lps: Sequence[LpArrays]) -> LpArrays:
        """The extensive form of the blocks ``lps``: the tree objective's columns after the
        branches', every block's rows on the shared columns, then the risk measure's rows."""
        expected = self.objective == "expected"
        weight = self.p if expected else np.zeros_like(self.p)
        cost, lower, upper = np.zeros(self.n), np.zeros(self.n), np.zeros(self.n)
        for w, lp, cols in zip(weight, lps, self.column, strict=True):
            np.add.at(cost, cols, w * lp.col_cost)
            lower[cols], upper[cols] = lp.col_lower, lp.col_upper
        if self.fixed is not None:
            lower[self.fixed[0]] = upper[self.fixed[0]] = self.fixed[1]
        offsets = np.array([lp.offset for lp in lps])
        pos, col, value, row_lower, row_upper = [], [], [], [], []
        first = 0
        for lp, cols in zip(lps, self.column, strict=True):
            pos.append(lp.a_index + first)
            col.append(np.repeat(cols, np.diff(lp.a_start)))
            value.append(lp.a_value)
            row_lower.append(lp.row_lower)
            row_upper.append(lp.row_upper)
            first += lp.num_row
        if not expected:
            extra, rows = measure_rows(
                [lp.col_cost for lp in lps],
                self.column,
                offsets,
                self.p,
                self.objective,
                self.alpha,
                self.n,
            )
            cost, lower, upper = (
                np.concatenate([a, e]) for a, e in zip((cost, lower, upper), extra, strict=True)
            )
            pos.append(rows.pos + first)
            col.append(rows.col)
            value.append(rows.value)
            row_lower.append(rows.lower)
            row_upper.append(rows.upper)
        entries = Rows(
            np.concatenate(row_lower),
            np.concatenate(row_upper),
            np.concatenate(pos),
            np.concatenate(col),
            np.concatenate(value),
        )
        order = np.argsort(entries.col, kind="stable")
        start = np.concatenate([[0], np.cumsum(np.bincount(entries.col, minlength=len(cost)))])
        return LpArrays(
            num_col=len(cost),
            num_row=len(entries.lower),
            col_cost=cost,
            col_lower=lower,
            col_upper=upper,
            row_lower=entries.lower,
            row_upper=entries.upper,
            a_start=start,
            a_index=entries.pos[order],
            a_value=entries.value[order],
            offset=float(weight @ offsets),
        )

    def _interior(self, arrays: LpArrays, lps: Sequence[LpArrays]) -> np.ndarray | None:
        """[cols] PIQP's solution of ``arrays``, or None when it does not end ``solved``."""
        t0 = time.perf_counter()
        scale = block_scale(lps, self.group, self.column, arrays.num_col)
        run = self.interior.solve(arrays, scale)
        self.seconds["interior_point"] += time.perf_counter() - t0
        self.interior_iterations += run.iterations
        self.size = {
            "variables": arrays.num_col,
            "constraints": arrays.num_row,
            "nonzeros": len(arrays.a_value),
        }
        if not run.solved:
            LOGGER.info(
                "the interior point ended %s after %d iterations in %d attempts; HiGHS solves "
                "this run",
                run.status,
                run.iterations,
                run.attempts,
            )
            return None
        self.interior_runs += 1
        return run.x

    def _highs(self, arrays: LpArrays) -> np.ndarray:
        """[cols] HiGHS's solution of ``arrays``, warm from its last basis after its first run;
        raises SolverError unless it proves an optimum."""
        first = self.highs_runs == 0
        if first:
            self.highs.set_options({"user_objective_scale": _objective_scale(arrays.col_cost)})
        self.highs.pass_lp_warm(arrays)
        if self.time_limit:
            self.highs.set_options({"time_limit": self.time_limit})
        t1 = time.perf_counter()
        status = self.highs.run()
        self.seconds["highs"] += time.perf_counter() - t1
        self.highs_runs += 1
        if first:
            self.highs.set_options(LATER_RUNS)
        self.size = self.highs.size()
        self.simplex_iterations += self.size["simplex_iterations"]
        if not status.is_optimal:
            raise SolverError(status, f"the extensive form ended '{status}'")
        return self.highs.solution()

    def solve(self, points: Sequence[Linearization]) -> tuple[float, Plan]:
        """Move every branch to its point, solve the extensive form (module docstring: HiGHS,
        warm after its first run, or PIQP's interior point for a large form) and return its tree
        objective and plan (class docstring)."""
        lps = [self._lp(b, lin) for b, lin in enumerate(points)]
        t0 = time.perf_counter()
        arrays = self._assemble(lps)
        self.seconds["assemble"] += time.perf_counter() - t0
        x = self._interior(arrays, lps) if arrays.num_row >= INTERIOR_ROWS else None
        if x is None:
            x = self._highs(arrays)
        values, schedules = [], []
        for b, (lp, cols) in enumerate(zip(lps, self.column, strict=True)):
            where, xb = self.where[self.group[b]], x[cols]
            slack = float(xb[where.outside].sum()) if len(where.outside) else 0.0
            values.append(float(lp.col_cost @ xb + lp.offset) + TRUST_PENALTY * slack)
            schedules.append(
                Schedule(
                    effort=np.clip(xb[where.effort], 0, None),
                    capabilities=np.clip(xb[where.capabilities], 0, None),
                )
            )
        values = np.array(values)
        plan = Plan(tuple(schedules), values)
        return risk_measure(values, self.p, self.objective, self.alpha), plan


@dataclass(frozen=True)
class TreeExact:
    """:class:`~allocopt.optimize.outer.Exact` of a tree's plans: each branch simulated, the
    values combined by the tree's risk measure, the excess penalized in every branch."""

    inputs: Sequence[Inputs]
    tree: TreeSettings
    names: Sequence[str]

    def start(self) -> Plan:
        return Plan(
            tuple(full_speed(inp) for inp in self.inputs), np.full(len(self.inputs), math.nan)
        )

    def evaluate(self, plan: Plan) -> tuple[Evaluation, ...]:
        return tuple(evaluate(i, s) for i, s in zip(self.inputs, plan.schedules, strict=True))

    def values(self, evs: Sequence[Evaluation]) -> np.ndarray:
        """[B] each branch's exact risk reduction."""
        return np.array([ev.risk_reduction(i) for i, ev in zip(self.inputs, evs, strict=True)])

    def value(self, evs: Sequence[Evaluation]) -> float:
        tree = self.tree
        return risk_measure(self.values(evs), tree.probability, tree.objective, tree.cvar_alpha)

    def merit(self, plan: Plan, evs: Sequence[Evaluation]) -> float:
        over = sum(
            excess(i, s, ev) for i, s, ev in zip(self.inputs, plan.schedules, evs, strict=True)
        )
        return self.value(evs) - PENALTY * over

    def point(self, plan: Plan, evs: Sequence[Evaluation], trust: float) -> list[Linearization]:
        return [around(s, ev, trust) for s, ev in zip(plan.schedules, evs, strict=True)]

    def steps(
        self, evs: Sequence[Evaluation], best: Sequence[Evaluation]
    ) -> tuple[float, float, int]:
        moves = [
            (
                float(np.abs(e.delay - b.delay).max()),
                float(np.abs(e.readiness - b.readiness).max()),
                int((e.point.post_acceleration != b.point.post_acceleration).sum()),
            )
            for e, b in zip(evs, best, strict=True)
        ]
        return max(m[0] for m in moves), max(m[1] for m in moves), sum(m[2] for m in moves)

    def violations(self, evs: Sequence[Evaluation]) -> list[str]:
        return [
            f"branch {name}: {v}"
            for name, ev in zip(self.names, evs, strict=True)
            for v in ev.violations
        ]
