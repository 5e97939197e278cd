"""Extensive forms: the core programs of several branches in one LP, sharing decisions by node.

:func:`branch_lps` solves every branch alone and reads its LP arrays from HiGHS;
:class:`ExtensiveForm` joins them (columns shared and rows stacked by
:mod:`allocopt.optimize.extensive_rows`) into one program solved through the array-level API of
:mod:`allocopt.optimize.highs.arrays`, maximizing the expected risk reduction over branches, its worst
case, or its CVaR (docs/model.md, "Scenario trees"). Used by scenario trees
(:mod:`allocopt.analyses.tree`) and outcomes (:mod:`allocopt.analyses.outcomes`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyomo.environ as pyo

from allocopt.errors import ScenarioError, SolverError
from allocopt.model import build_model, structure
from allocopt.model.linearization import reference
from allocopt.model.sets import set_param_values
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import Schedule
from allocopt.optimize.extensive_rows import (
    SHARED_FAMILIES,
    BranchLp,
    TreeSettings,
    measure_rows,
    share_columns,
    stack_rows,
)
from allocopt.optimize.highs.arrays import ArrayLp
from allocopt.optimize.highs.options import DUAL_TOLERANCE
from allocopt.optimize.highs.runner import HighsRunner
from allocopt.optimize.pipeline import extract_schedule
from allocopt.optimize.session import WARM_OPTIONS
from allocopt.results.status import Status
from allocopt.scenario.tables import RESOURCES


def check_branches(inputs: Sequence[Inputs]) -> None:
    """Branches must share periods and catalog (so that decisions can be shared) and all have
    endogenous capability or none (one program for all: :func:`branch_lps` for the core
    program, :mod:`allocopt.optimize.extensive_slp` for the endogenous one)."""
    first = inputs[0]
    for inp in inputs:
        if inp.periods.labels != first.periods.labels or inp.ids != first.ids:
            raise ScenarioError(
                f"tree: branch {inp.scenario_name} changes the periods or the intervention "
                "catalog; branches must share them so that decisions can be shared"
            )
        if inp.capability.endogenous != first.capability.endogenous:
            raise ScenarioError(
                f"tree: branch {inp.scenario_name} turns endogenous capability "
                f"{'on' if inp.capability.endogenous else 'off'}; every branch must have it "
                "or none"
            )


def _check_inputs(inputs: Sequence[Inputs]) -> None:
    """:func:`check_branches`, and core programs only (the endogenous ones are re-linearized
    in an outer loop: :mod:`allocopt.optimize.extensive_slp`)."""
    check_branches(inputs)
    if inputs[0].capability.endogenous:
        raise ScenarioError(
            f"tree: {inputs[0].scenario_name} has endogenous capability; its branches are "
            "solved by the outer loop over the extensive form (allocopt.optimize.extensive_slp)"
        )


def _check_tree(node: Sequence[Sequence[str]]) -> None:
    """Branches that share a node in a period shared every earlier node too."""
    for t in range(1, len(node[0])):
        for b, c in itertools.combinations(range(len(node)), 2):
            if node[b][t] == node[c][t] and node[b][t - 1] != node[c][t - 1]:
                raise ValueError(f"node ids are not a tree: branches {b}, {c} rejoin in period {t}")


def branch_lps(
    inputs: Sequence[Inputs], time_limit: float | None = None, threads: int = 1
) -> list[BranchLp]:
    """Solve every branch alone. Branches of equal structure share one Pyomo model and one HiGHS
    instance, updated in place and re-solved warm (as :class:`allocopt.Model` does); raises
    SolverError when a branch alone has no optimum."""
    _check_inputs(inputs)
    groups: list[tuple[Inputs, pyo.ConcreteModel, HighsRunner]] = []  # first inputs, model, HiGHS
    columns: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    out = []
    for inp in inputs:
        key = next(
            (
                k
                for k, (first, m, _) in enumerate(groups)
                if structure(m, first) == structure(m, inp)
            ),
            None,
        )
        if key is not None:
            _, m, runner = groups[key]
            set_param_values(m, inp, reference(inp))
        else:
            m, runner = build_model(inp), HighsRunner(time_limit, threads)
            key = len(groups)
            groups.append((inp, m, runner))
        solved = runner.solve(m)
        if not solved.status.is_optimal:
            raise SolverError(solved.status, f"branch {inp.scenario_name}: {solved.message}")
        runner.set_options(WARM_OPTIONS)
        labels, ids = inp.periods.labels, inp.ids
        lp, basic = runner.lp(), runner.basic_rows()
        if key not in columns:  # the same in every branch of one structure
            columns[key] = (
                *_column_names(m, runner, lp.num_col, labels),
                _tangent_rows(m, runner, lp.num_row),
            )
        names, family, period, tangent = columns[key]
        column = runner.column_of
        out.append(
            BranchLp(
                lp=lp,
                working=_working_rows(tangent, basic),
                names=names,
                family=family,
                period=period,
                capabilities=np.array(
                    [[column(m.capabilities[t, r]) for r in RESOURCES] for t in labels]
                ),
                effort=np.array([[column(m.effort[t, i]) for i in ids] for t in labels]),
                objective=float(solved.objective),
                schedule=extract_schedule(m, inp),
            )
        )
    return out


def _column_names(
    m: pyo.ConcreteModel, runner: HighsRunner, n: int, labels: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each HiGHS column's variable name, family and period (every family of the core program
    is indexed by period first; −1 for a variable that is not, as some of the endogenous
    program's)."""
    names = np.empty(n, dtype=object)
    family = np.empty(n, dtype=object)
    period = np.empty(n, dtype=int)
    at = {label: k for k, label in enumerate(labels)}
    for var in m.component_data_objects(pyo.Var):
        j = runner.column_of(var)
        if j is not None:
            names[j], family[j] = var.name, var.parent_component().local_name
            index = var.index()
            period[j] = at.get(index[0] if isinstance(index, tuple) else index, -1)
    return names, family, period


def _tangent_rows(m: pyo.ConcreteModel, runner: HighsRunner, rows: int) -> np.ndarray:
    """[rows, 2]: for each row of ``m`` in HiGHS, the response curve its tangent belongs to and
    the tangent's number (``benefit_cut[t,i,k]``, ``residual_cut[t,c,k]``); −1 for other rows."""
    out = np.full((rows, 2), -1)
    curve: dict[tuple[str, ...], int] = {}
    for family in (m.benefit_cut, m.residual_cut):
        for (*where, k), con in family.items():
            out[runner.row_of(con)] = curve.setdefault((family.local_name, *where), len(curve)), k
    return out


def _working_rows(tangent: np.ndarray, basic: np.ndarray) -> np.ndarray:
    """The rows the extensive form starts from: every row that is not a tangent, and each curve's
    tangents that bind at the branch's own optimum (nonbasic) with their neighbours k ± 1: the
    extensive form's optimum is near the branches' own, so few left-out rows end up violated."""
    curve, k = tangent[:, 0], tangent[:, 1]
    order = np.lexsort((k, curve))
    order = order[curve[order] >= 0]  # tangent rows, by curve then tangent number
    binding = ~basic[order]
    same = curve[order][1:] == curve[order][:-1]
    near = binding.copy()
    near[1:] |= binding[:-1] & same
    near[:-1] |= binding[1:] & same
    keep = curve < 0
    keep[order[near]] = True
    return keep


# Extensive forms with at least this many columns are solved by HiGHS's interior point method
# (with crossover, so that later re-solves are warm), smaller ones by dual simplex (measured on
# the benchmark trees, python -m benchmarks; docs/explore.md).
IPM_COLUMNS = 5_000


class ExtensiveForm:
    """The extensive form in one HiGHS instance. Branches at one node of the tree share one
    column for each decision of that period — non-anticipativity by construction — and for each
    variable the decisions determine there alike (:func:`share_columns`); every other column is a branch's
    own, and each distinct row appears once (docs/model.md, "Scenario trees"). Tangent rows that
    do not bind in any branch alone start left out and are added when the solution violates them
    (row generation): the optimum is the full program's. Large forms (``IPM_COLUMNS``) start
    from interior point with crossover, small ones from dual simplex. ``families``: the variable
    families shared beside the decisions (``()`` shares the decisions only); ``tree``: the
    probabilities, nodes, objective and HiGHS limits (:class:`TreeSettings`)."""

    def __init__(
        self,
        lps: Sequence[BranchLp],
        tree: TreeSettings,
        algorithm: Literal["auto", "simplex", "ipm"] = "auto",
        families: Sequence[str] = SHARED_FAMILIES,
    ) -> None:
        t0 = time.perf_counter()
        _check_tree(tree.node)
        self.lps, self.p = list(lps), tree.probability
        self.objective, self.alpha = tree.objective, tree.cvar_alpha
        self.column = share_columns(lps, tree.node, families)
        self.n = int(max(c.max() for c in self.column)) + 1
        self.costs = [b.lp.col_cost for b in lps]
        self.offsets = np.array([b.lp.offset for b in lps])
        if algorithm == "auto":
            algorithm = "ipm" if self.n >= IPM_COLUMNS else "simplex"
        rows, kept = stack_rows(lps, self.column)
        self.left_out, self.pending = rows.take(~kept), np.ones(int((~kept).sum()), dtype=bool)
        cost, lower, upper, offset = self._columns()
        self.highs = ArrayLp(
            {
                "threads": tree.threads,
                "solver": algorithm,
                "run_crossover": "on",
                "user_objective_scale": _objective_scale(cost),
                "dual_feasibility_tolerance": DUAL_TOLERANCE,
            }
        )
        self.time_limit = tree.time_limit
        self.highs.pass_columns(cost, lower, upper, offset)
        rows.take(kept).add_to(self.highs)
        if tree.objective != "expected":
            self._add_measure_rows()
        self.seconds = {"build": time.perf_counter() - t0}

    def _columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """The form's columns without rows (cost, lower, upper bound, objective offset): each
        branch's costs weighted by its probability for the expected objective (zero otherwise:
        the measure's own columns carry it)."""
        weight = self.p if self.objective == "expected" else np.zeros_like(self.p)
        cost, lower, upper = np.zeros(self.n), np.zeros(self.n), np.zeros(self.n)
        for w, c, branch, cols in zip(weight, self.costs, self.lps, self.column, strict=True):
            np.add.at(cost, cols, w * c)
            lower[cols], upper[cols] = branch.lp.col_lower, branch.lp.col_upper
        return cost, lower, upper, float(weight @ self.offsets)

    def decision_columns(self, b: int, t: int) -> np.ndarray:
        """Columns of branch b's decisions in period t: capabilities, then effort."""
        lp = self.lps[b]
        return self.column[b][np.concatenate([lp.capabilities[t], lp.effort[t]])]

    def _add_measure_rows(self) -> None:
        """The columns and rows of the risk measure (:func:`measure_rows`)."""
        extra, rows = measure_rows(
            self.costs, self.column, self.offsets, self.p, self.objective, self.alpha, self.n
        )
        self.highs.add_columns(*extra)
        rows.add_to(self.highs)

    def _add_violated(self, x: np.ndarray) -> int:
        """Add every left-out row that ``x`` violates; return how many."""
        bad = self.pending & self.left_out.violated(x)
        if bad.any():
            self.left_out.take(bad).add_to(self.highs)
            self.pending &= ~bad
        return int(bad.sum())

    def fix(self, schedule: Schedule, until: int) -> None:
        """Hold every branch's decisions in the periods before ``until`` at ``schedule``'s."""
        values = np.concatenate([schedule.capabilities, schedule.effort], axis=1)
        cols = np.concatenate(
            [self.decision_columns(b, t) for b in range(len(self.lps)) for t in range(until)]
        )
        vals = np.concatenate([values[t] for _ in self.lps for t in range(until)])
        cols, first = np.unique(cols, return_index=True)
        self.highs.change_column_bounds(cols, vals[first], vals[first])

    def solve(self) -> Extensive:
        """Run HiGHS, adding violated left-out rows and re-solving until none is; raise
        SolverError unless it proves an optimum."""
        t0 = time.perf_counter()
        seconds = {**self.seconds, "handover": 0.0, "highs": 0.0, "highs_clock": 0.0}
        rounds = added = 0
        while True:
            if self.time_limit:  # one budget for every round of row generation
                left = self.time_limit - (time.perf_counter() - t0)
                self.highs.set_options({"time_limit": max(left, 1e-3)})
            t1 = time.perf_counter()
            status = self.highs.run()
            seconds["highs"] += time.perf_counter() - t1
            seconds["highs_clock"] += self.highs.clock()
            if not status.is_optimal:
                raise SolverError(status, f"the extensive form ended '{status}'")
            x = self.highs.solution()
            self.highs.set_options({"solver": "simplex"})  # later runs start from this basis
            t1 = time.perf_counter()
            new = self._add_violated(x)
            seconds["handover"] += time.perf_counter() - t1
            if not new:
                break
            rounds, added = rounds + 1, added + new
        values = np.array(
            [
                c @ x[cols] + o
                for c, cols, o in zip(self.costs, self.column, self.offsets, strict=True)
            ]
        )
        schedules = [
            Schedule(
                effort=np.clip(x[cols[lp.effort]], 0, None),
                capabilities=np.clip(x[cols[lp.capabilities]], 0, None),
            )
            for lp, cols in zip(self.lps, self.column, strict=True)
        ]
        size = {
            "branches": len(self.lps),
            "branch_variables": sum(b.lp.num_col for b in self.lps),
            **self.highs.size(),
            "tangent_rows_left_out": int(self.pending.sum()),
            "row_generation_rounds": rounds,
            "tangent_rows_added": added,
        }
        return Extensive(status, self.highs.objective(), values, schedules, size, seconds)


@dataclass(frozen=True)
class Extensive:
    """What one solve of the extensive form returned."""

    status: Status
    objective: float  # the tree objective (risk measure of the branch values), in the program
    values: np.ndarray  # [B] each branch's risk reduction in the program
    schedules: list[Schedule]
    size: dict[str, int]  # branches, variables, constraints, nonzeros, simplex_iterations
    seconds: dict[str, float]  # build (the form), handover (rows added), highs, highs_clock


def _objective_scale(cost: np.ndarray) -> int:
    """The power of two that brings the median nonzero cost near 1: probabilities times hazard
    terms are ~1e-5, below HiGHS's dual tolerances, which then stop short of the optimum."""
    nonzero = np.abs(np.asarray(cost))
    nonzero = nonzero[nonzero > 0]
    return int(-np.round(np.log2(np.median(nonzero)))) if len(nonzero) else 0
