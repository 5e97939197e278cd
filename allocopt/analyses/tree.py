"""Scenario trees: uncertainty as branches with probabilities, solved as one stochastic program.

The extensive form holds the core program of every branch (each solved alone first, by the same
families as a deterministic solve), with one column per node of the tree for each decision of
its periods — branches that share a node take the same decisions in it — and for what those
decisions determine alike. The objective is the expected risk reduction over branches, its worst
case, or its CVaR (docs/model.md, "Scenario trees")."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import highspy
import numpy as np
import pandas as pd
import pyomo.environ as pyo

from allocopt.analyses.sweep import field_value
from allocopt.errors import ScenarioError, SolverError
from allocopt.model import build_model, evaluate, shared_as, structure
from allocopt.model.linearization import reference
from allocopt.model.sets import set_param_values
from allocopt.numeric.inputs import Inputs, prepare
from allocopt.numeric.simulate import Schedule
from allocopt.optimize.pipeline import (
    DUAL_TOLERANCE,
    HighsRunner,
    classify,
    extract_schedule,
    solve_program,
)
from allocopt.optimize.session import WARM_OPTIONS
from allocopt.results.result import Result, build_result, write_tables
from allocopt.results.status import Status
from allocopt.scenario.schema import Scenario
from allocopt.scenario.tables import RESOURCES

Objective = Literal["expected", "worst_case", "cvar"]
ROOT = "root"


@dataclass(frozen=True)
class Branch:
    """One path through the tree: the outcome of every stage, its probability and updates."""

    name: str  # outcomes joined by "/", e.g. "early/hard"
    probability: float
    path: tuple[str, ...]
    updates: dict[str, Any]


def branches(scenario: Scenario) -> list[Branch]:
    """Every path of ``scenario.tree`` (stages are independent: probabilities multiply; a later
    stage's update of the same field wins)."""
    if scenario.tree is None:
        raise ScenarioError(f"scenario '{scenario.name}': no tree: block to solve")
    stages = [list(stage.branches.items()) for stage in scenario.tree.stages]
    out = []
    for combo in itertools.product(*stages):
        updates: dict[str, Any] = {}
        for _, outcome in combo:
            updates.update(outcome.updates)
        path = tuple(name for name, _ in combo)
        probability = math.prod(outcome.probability for _, outcome in combo)
        out.append(Branch("/".join(path), probability, path, updates))
    return out


def branch_scenario(scenario: Scenario, branch: Branch) -> Scenario:
    """The deterministic scenario of one branch (named after it, without the tree)."""
    name = ".".join((scenario.name, *branch.path))
    try:
        return scenario.with_updates({**branch.updates, "tree": None, "name": name})
    except ScenarioError as exc:
        raise ScenarioError(
            [f"tree branch {branch.name} (updates {branch.updates}): {p}" for p in exc.problems]
        ) from None


def nodes(scenario: Scenario, paths: Sequence[tuple[str, ...]]) -> list[list[str]]:
    """``node[b][t]``: the tree node of branch ``b`` in period ``t`` — the outcomes of the stages
    revealed by the start of ``t`` (``root`` before the first reveal)."""
    labels = scenario.periods().labels
    reveal = [labels.index(stage.reveal) for stage in scenario.tree.stages]
    return [
        ["/".join(path[: sum(r <= t for r in reveal)]) or ROOT for t in range(len(labels))]
        for path in paths
    ]


def _check_inputs(inputs: Sequence[Inputs]) -> None:
    """Branches must share periods and catalog (so that decisions can be shared) and be core
    programs (the outer loop would re-solve the whole extensive form at every step)."""
    first = inputs[0]
    for inp in inputs:
        if inp.periods.labels != first.periods.labels or inp.ids != first.ids:
            raise ScenarioError(
                f"tree: branch {inp.scenario_name} changes the periods or the intervention "
                "catalog; branches must share them so that decisions can be shared"
            )
        if inp.capability.endogenous:
            raise ScenarioError(
                f"tree: {inp.scenario_name} has endogenous capability; a tree is solved "
                "over the core program (every capability: term off; extend magma_core.yaml)"
            )


def _check_tree(node: Sequence[Sequence[str]]) -> None:
    """Branches that share a node in a period shared every earlier node too."""
    for t in range(1, len(node[0])):
        for b, c in itertools.combinations(range(len(node)), 2):
            if node[b][t] == node[c][t] and node[b][t - 1] != node[c][t - 1]:
                raise ValueError(f"node ids are not a tree: branches {b}, {c} rejoin in period {t}")


def risk_measure(
    values: np.ndarray, probability: np.ndarray, objective: Objective, alpha: float
) -> float:
    """The tree objective of branch values: the expectation, the minimum, or the CVaR (mean of
    the worst ``1 - alpha`` of probability), as the extensive form's objective computes them."""
    values, probability = np.asarray(values, float), np.asarray(probability, float)
    if objective == "expected":
        return float(probability @ values)
    if objective == "worst_case":
        return float(values.min())
    order = np.argsort(values, kind="stable")
    tail = 1 - alpha
    mass = np.minimum(
        probability[order], np.maximum(tail - np.cumsum(probability[order]) + probability[order], 0)
    )
    return float(mass @ values[order] / tail)


@dataclass(frozen=True)
class BranchLp:
    """One branch's core program as HiGHS holds it after solving it alone: the LP's arrays, the
    rows its optimum binds (and their neighbours), its columns' names, the columns of its
    decisions, and its own (wait-and-see) optimum."""

    lp: highspy.HighsLp
    working: np.ndarray  # [rows] bool: the rows the extensive form starts from (_working_rows)
    names: np.ndarray  # [cols] the Pyomo name of each column's variable, e.g. "benefit[2025Q1,x]"
    family: np.ndarray  # [cols] the variable's family, e.g. "benefit"
    period: np.ndarray  # [cols] index of the variable's period (its first index)
    capabilities: np.ndarray  # [T, R] column of capabilities[t,r]
    effort: np.ndarray  # [T, I] column of effort[t,i]
    objective: float
    schedule: Schedule


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
        runner.solver.config.solver_options.update(WARM_OPTIONS)
        highs = runner.solver._solver_model
        column = runner.solver._pyomo_var_to_solver_var_map
        labels, ids = inp.periods.labels, inp.ids
        lp, basis = highs.getLp(), highs.getBasis()
        if key not in columns:  # the same in every branch of one structure
            columns[key] = (
                *_column_names(m, column, labels),
                _tangent_rows(m, runner, lp.num_row_),
            )
        names, family, period, tangent = columns[key]
        basic = np.array(basis.row_status) == highspy.HighsBasisStatus.kBasic
        out.append(
            BranchLp(
                lp=lp,
                working=_working_rows(tangent, basic),
                names=names,
                family=family,
                period=period,
                capabilities=np.array(
                    [[column[id(m.capabilities[t, r])] for r in RESOURCES] for t in labels]
                ),
                effort=np.array([[column[id(m.effort[t, i])] for i in ids] for t in labels]),
                objective=float(solved.objective),
                schedule=extract_schedule(m, inp),
            )
        )
    return out


# Branches at one node of the tree take the same decisions in its periods (non-anticipativity).
DECISIONS = shared_as("decision")
# Variables that are the same function of the decisions so far in every branch whose rows agree
# (allocopt.model.family.Sharing): branches at one node share such a column when its rows agree
# (_share).
SHARED_FAMILIES = shared_as("determined")


def _column_names(
    m: pyo.ConcreteModel, column: dict[int, int], labels: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each HiGHS column's variable name, family and period (every family of the core program
    is indexed by period first)."""
    names = np.empty(len(column), dtype=object)
    family = np.empty(len(column), dtype=object)
    period = np.empty(len(column), dtype=int)
    at = {label: k for k, label in enumerate(labels)}
    for var in m.component_data_objects(pyo.Var):
        j = column.get(id(var))
        if j is not None:
            names[j], family[j] = var.name, var.parent_component().local_name
            period[j] = at[var.index()[0]]
    return names, family, period


def _tangent_rows(m: pyo.ConcreteModel, runner: HighsRunner, rows: int) -> np.ndarray:
    """[rows, 2]: for each row of ``m`` in HiGHS, the response curve its tangent belongs to and
    the tangent's number (``benefit_cut[t,i,k]``, ``residual_cut[t,c,k]``); −1 for other rows."""
    row = runner.solver._pyomo_con_to_solver_con_map
    out = np.full((rows, 2), -1)
    curve: dict[tuple[str, ...], int] = {}
    for family in (m.benefit_cut, m.residual_cut):
        for (*where, k), con in family.items():
            out[row[con]] = curve.setdefault((family.local_name, *where), len(curve)), k
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
VIOLATION = 1e-9  # a left-out tangent row violated by more than this is added, and HiGHS re-solves
SEEDS = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xD1B54A32D192ED03))


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: a well-spread 64-bit hash of each uint64 in ``x``."""
    x = np.asarray(x, dtype=np.uint64).copy()
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _bits(x: np.ndarray) -> np.ndarray:
    """The IEEE bits of floats as uint64 (−0.0 read as 0.0), for exact comparison by hashing."""
    return (np.asarray(x, dtype=float) + 0.0).view(np.uint64)


def _fingerprint(
    group: np.ndarray, n: int, key: np.ndarray, value: np.ndarray, fields: Sequence[np.ndarray]
) -> np.ndarray:
    """[n, 2]: two independent 64-bit hashes of each group's multiset of entries ``(key, value)``
    (uint64, grouped by ``group``) and its ``fields`` (uint64, one per group). Equal contents give
    equal fingerprints; different ones collide with probability about 2^-128."""
    out = np.empty((n, 2), dtype=np.uint64)
    for lane, seed in enumerate(SEEDS):
        h = np.zeros(n, dtype=np.uint64)
        np.add.at(h, group, _mix(_mix(key ^ seed) ^ value))
        for f in fields:
            h = _mix(h ^ _mix(f + seed))
        out[:, lane] = h
    return out


def _numbered(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows of ``keys``, the number of their distinct value, in order of first occurrence,
    and the row where each number first occurs."""
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(first), dtype=np.int64)
    rank[order] = np.arange(len(first))
    return rank[inverse.ravel()], first[order]


def _share(
    lps: Sequence[BranchLp], node: Sequence[Sequence[str]], families: Sequence[str]
) -> list[np.ndarray]:
    """``column[b][j]``: the extensive form's column of branch b's column j. Branches at one node
    in period t share the column of each decision in t, and of each variable of ``families`` in t
    whose bounds, sign of cost and rows (read by variable names) agree; other columns are the
    branch's own."""
    code: dict[str, int] = {}
    at: dict[str, int] = {}
    keys = []
    for b, branch in enumerate(lps):
        lp, a = branch.lp, branch.lp.a_matrix_
        row, col = np.asarray(a.index_), np.repeat(np.arange(lp.num_col_), np.diff(a.start_))
        name = np.array([code.setdefault(n, len(code)) for n in branch.names], dtype=np.uint64)
        rows = _fingerprint(
            row,
            lp.num_row_,
            name[col],
            _bits(a.value_),
            [_bits(lp.row_lower_), _bits(lp.row_upper_)],
        )
        cols = _fingerprint(
            col,
            lp.num_col_,
            rows[row, 0],
            rows[row, 1],
            [_bits(lp.col_lower_), _bits(lp.col_upper_), _bits(np.sign(lp.col_cost_))],
        ).view(np.int64)
        decision = np.isin(branch.family, DECISIONS)
        shared = decision | np.isin(branch.family, families)
        tag = np.full(lp.num_col_, -1 - b)
        tag[shared] = [at.setdefault(node[b][t], len(at)) for t in branch.period[shared]]
        cols[decision] = 0  # non-anticipativity: one column per node, whatever its rows
        own = np.column_stack([np.arange(lp.num_col_), np.zeros(lp.num_col_, np.int64)])
        keys.append(
            np.column_stack([tag, name.view(np.int64), np.where(shared[:, None], cols, own)])
        )
    number, _ = _numbered(np.concatenate(keys))
    ends = np.cumsum([len(k) for k in keys])
    return np.split(number, ends[:-1])


@dataclass
class _Rows:
    """Rows of the extensive form, entry-wise: entry e is ``value[e]`` at column ``col[e]`` of
    row ``pos[e]`` (sorted by row)."""

    lower: np.ndarray
    upper: np.ndarray
    pos: np.ndarray
    col: np.ndarray
    value: np.ndarray

    def take(self, keep: np.ndarray) -> _Rows:
        """The rows where ``keep`` holds, renumbered in order."""
        entry = keep[self.pos]
        renumber = np.cumsum(keep) - 1
        return _Rows(
            self.lower[keep],
            self.upper[keep],
            renumber[self.pos[entry]],
            self.col[entry],
            self.value[entry],
        )

    def add_to(self, highs: highspy.Highs) -> None:
        """Append these rows to ``highs``."""
        counts = np.bincount(self.pos, minlength=len(self.lower))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32)
        highs.addRows(
            len(self.lower),
            self.lower,
            self.upper,
            len(self.col),
            starts,
            self.col.astype(np.int32),
            self.value,
        )

    def violated(self, x: np.ndarray) -> np.ndarray:
        """Which rows ``x`` violates by more than VIOLATION."""
        activity = np.bincount(self.pos, self.value * x[self.col], minlength=len(self.lower))
        return (activity > self.upper + VIOLATION) | (activity < self.lower - VIOLATION)


def _stack_rows(lps: Sequence[BranchLp], column: Sequence[np.ndarray]) -> tuple[_Rows, np.ndarray]:
    """Every branch's rows on the extensive form's columns, each distinct row once, and which
    of them to start from (working in some branch that has it)."""
    pos, col, value, lower, upper, working = [], [], [], [], [], []
    offset = 0
    for branch, cols in zip(lps, column, strict=True):
        a = branch.lp.a_matrix_
        pos.append(np.asarray(a.index_) + offset)
        col.append(np.repeat(cols, np.diff(a.start_)))
        value.append(np.asarray(a.value_))
        lower.append(np.asarray(branch.lp.row_lower_))
        upper.append(np.asarray(branch.lp.row_upper_))
        working.append(branch.working)
        offset += branch.lp.num_row_
    pos, col, value = np.concatenate(pos), np.concatenate(col), np.concatenate(value)
    lower, upper = np.concatenate(lower), np.concatenate(upper)
    content = _fingerprint(
        pos, offset, col.astype(np.uint64), _bits(value), [_bits(lower), _bits(upper)]
    )
    row, first = _numbered(content.view(np.int64))
    kept = np.zeros(len(first), dtype=bool)
    np.logical_or.at(kept, row, np.concatenate(working))
    entry = first[row[pos]] == pos  # entries of each distinct row's first copy
    order = np.argsort(row[pos[entry]], kind="stable")
    rows = _Rows(
        lower[first], upper[first], row[pos[entry]][order], col[entry][order], value[entry][order]
    )
    return rows, kept


class ExtensiveForm:
    """The extensive form in one HiGHS instance. Branches at one node of the tree share one
    column for each decision of that period — non-anticipativity by construction — and for each
    variable the decisions determine there alike (``_share``); every other column is a branch's
    own, and each distinct row appears once (docs/model.md, "Scenario trees"). Tangent rows that
    do not bind in any branch alone start left out and are added when the solution violates them
    (row generation): the optimum is the full program's. Large forms (``IPM_COLUMNS``) start
    from interior point with crossover, small ones from dual simplex. ``families``: the variable
    families shared beside the decisions (``()`` shares the decisions only)."""

    def __init__(
        self,
        lps: Sequence[BranchLp],
        probability: Sequence[float],
        node: Sequence[Sequence[str]],
        objective: Objective = "expected",
        cvar_alpha: float = 0.9,
        time_limit: float | None = None,
        threads: int = 1,
        algorithm: Literal["auto", "simplex", "ipm"] = "auto",
        families: Sequence[str] = SHARED_FAMILIES,
    ) -> None:
        _check_tree(node)
        self.lps, self.p = list(lps), np.asarray(probability, dtype=float)
        self.objective, self.alpha = objective, cvar_alpha
        self.column = _share(lps, node, families)
        self.n = int(max(c.max() for c in self.column)) + 1
        self.costs = [np.asarray(b.lp.col_cost_) for b in lps]
        self.offsets = np.array([b.lp.offset_ for b in lps])
        if algorithm == "auto":
            algorithm = "ipm" if self.n >= IPM_COLUMNS else "simplex"
        rows, kept = _stack_rows(lps, self.column)
        self.left_out, self.pending = rows.take(~kept), np.ones(int((~kept).sum()), dtype=bool)
        self.highs = highspy.Highs()
        lp = self._columns()
        for name, value in {
            "output_flag": False,
            "threads": threads,
            "solver": algorithm,
            "run_crossover": "on",
            "user_objective_scale": _objective_scale(lp.col_cost_),
            "dual_feasibility_tolerance": DUAL_TOLERANCE,
        }.items():
            self.highs.setOptionValue(name, value)
        self.time_limit = time_limit
        self.highs.passModel(lp)
        rows.take(kept).add_to(self.highs)
        if objective != "expected":
            self._add_measure_rows()

    def _columns(self) -> highspy.HighsLp:
        """The form's columns without rows: each branch's costs weighted by its probability for
        the expected objective (zero otherwise: the measure's own columns carry it)."""
        weight = self.p if self.objective == "expected" else np.zeros_like(self.p)
        lp = highspy.HighsLp()
        lp.num_col_ = self.n
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.offset_ = float(weight @ self.offsets)
        cost, lower, upper = np.zeros(self.n), np.zeros(self.n), np.zeros(self.n)
        for w, c, branch, cols in zip(weight, self.costs, self.lps, self.column, strict=True):
            np.add.at(cost, cols, w * c)
            lower[cols], upper[cols] = branch.lp.col_lower_, branch.lp.col_upper_
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lower, upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_ = self.n
        lp.a_matrix_.start_ = np.zeros(self.n + 1, dtype=np.int32)
        return lp

    def decision_columns(self, b: int, t: int) -> np.ndarray:
        """Columns of branch b's decisions in period t: capabilities, then effort."""
        lp = self.lps[b]
        return self.column[b][np.concatenate([lp.capabilities[t], lp.effort[t]])]

    def _add_measure_rows(self) -> None:
        """worst_case: column ``worst`` (cost 1) and rows ``worst_def[b]``: worst − value_b ≤ 0;
        cvar: also ``shortfall[b] ≥ 0`` (cost −p_b/(1 − alpha)) and rows ``shortfall_def[b]``:
        shortfall_b − worst + value_b ≥ 0, with value_b = cost_b·x_b + offset_b."""
        n_b, first = len(self.lps), self.n
        inf = highspy.kHighsInf
        cvar = self.objective == "cvar"
        extra_cost = [1.0, *(-self.p / (1 - self.alpha) if cvar else [])]
        extra = len(extra_cost)
        self.highs.addCols(
            extra,
            np.array(extra_cost),
            np.array([-inf] + [0.0] * (extra - 1)),
            np.full(extra, inf),
            0,
            np.array([], np.int32),
            np.array([], np.int32),
            np.array([]),
        )
        for b in range(n_b):
            nz = np.flatnonzero(self.costs[b])
            cols = [first, *self.column[b][nz]]
            vals = [1.0, *(-self.costs[b][nz])]
            if cvar:  # shortfall_def: worst − value_b − shortfall_b ≤ 0
                cols.append(first + 1 + b)
                vals.append(-1.0)
            self.highs.addRow(
                -inf, float(self.offsets[b]), len(cols), np.array(cols, np.int32), np.array(vals)
            )

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
        self.highs.changeColsBounds(len(cols), cols.astype(np.int32), vals[first], vals[first])

    def solve(self) -> Extensive:
        """Run HiGHS, adding violated left-out rows and re-solving until none is; raise
        SolverError unless it proves an optimum."""
        t0 = time.perf_counter()
        rounds = added = 0
        while True:
            if self.time_limit:  # one budget for every round of row generation
                left = self.time_limit - (time.perf_counter() - t0)
                self.highs.setOptionValue("time_limit", max(left, 1e-3))
            self.highs.run()
            status = classify(self.highs.getModelStatus())
            if not status.is_optimal:
                raise SolverError(status, f"the extensive form ended '{status}'")
            x = np.asarray(self.highs.getSolution().col_value)
            self.highs.setOptionValue("solver", "simplex")  # later runs start from this basis
            new = self._add_violated(x)
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
            "branch_variables": sum(b.lp.num_col_ for b in self.lps),
            "variables": self.highs.getNumCol(),
            "constraints": self.highs.getNumRow(),
            "nonzeros": self.highs.getNumNz(),
        }
        info = self.highs.getInfo()
        size["simplex_iterations"] = info.simplex_iteration_count
        size["tangent_rows_left_out"] = int(self.pending.sum())
        size["row_generation_rounds"], size["tangent_rows_added"] = rounds, added
        seconds = {"solve": time.perf_counter() - t0}
        return Extensive(
            status, float(info.objective_function_value), values, schedules, size, seconds
        )


@dataclass(frozen=True)
class Extensive:
    """What one solve of the extensive form returned."""

    status: Status
    objective: float  # the tree objective (risk measure of the branch values), in the program
    values: np.ndarray  # [B] each branch's risk reduction in the program
    schedules: list[Schedule]
    size: dict[str, int]  # branches, variables, constraints, nonzeros, simplex_iterations
    seconds: dict[str, float]


def _objective_scale(cost: np.ndarray) -> int:
    """The power of two that brings the median nonzero cost near 1: probabilities times hazard
    terms are ~1e-5, below HiGHS's dual tolerances, which then stop short of the optimum."""
    nonzero = np.abs(np.asarray(cost))
    nonzero = nonzero[nonzero > 0]
    return int(-np.round(np.log2(np.median(nonzero)))) if len(nonzero) else 0


def expected_scenario(scenario: Scenario, tree_branches: Sequence[Branch]) -> Scenario:
    """The deterministic scenario with every uncertain field at its expectation over branches
    (a branch that does not set a field has the scenario's value)."""

    paths = sorted({path for b in tree_branches for path in b.updates})
    means: dict[str, float] = {}
    for path in paths:
        values = [b.updates.get(path, field_value(scenario, path)) for b in tree_branches]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            raise ScenarioError(
                f"tree: field {path} is not numeric in every branch; the expected scenario "
                "(for the value of the stochastic solution) needs numbers"
            )
        means[path] = float(
            sum(b.probability * v for b, v in zip(tree_branches, values, strict=True))
        )
    return scenario.with_updates({**means, "tree": None, "name": f"{scenario.name}.expected"})


VALUE_MEANINGS = {
    "stochastic": "the stochastic program's plan (RP): one plan per branch, shared until revealed",
    "expected_value_plan": "EEV: the expected scenario's plan held before the first reveal, "
    "then re-optimized in every branch",
    "wait_and_see": "WS: every branch solved alone, as if its outcome were known from the start",
    "value_of_stochastic_solution": "VSS = RP - EEV: what planning for the tree gains over "
    "planning for the expected scenario",
    "expected_value_of_perfect_information": "EVPI = WS - RP: what knowing the branch in "
    "advance would be worth",
    "deterministic_expected_scenario": "a deterministic run (not a tree value): the optimum "
    "of the expected scenario, in its own world",
}


@dataclass
class TreeResult:
    """The answer of a stochastic program: a plan per branch (identical until the tree branches),
    each branch's risk reduction, and the values of the stochastic solution and of perfect
    information — never a deterministic :class:`Result` (those are per branch, in ``results``)."""

    scenario_name: str
    objective: Objective
    cvar_alpha: float
    status: Status
    reveals: tuple[str, ...]  # period at whose start each stage is revealed
    branches: pd.DataFrame
    values: pd.DataFrame
    results: dict[str, Result] = field(repr=False)
    size: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def stacked(self, table: str) -> pd.DataFrame:
        """One of the per-branch result tables (``allocation``, ``knobs``, ...), stacked with a
        leading ``branch`` column."""
        frames = [getattr(r, table).assign(branch=name) for name, r in self.results.items()]
        out = pd.concat(frames, ignore_index=True)
        return out[["branch", *[c for c in out.columns if c != "branch"]]]

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table written by :meth:`to_csv`, by file stem."""
        return {
            "tree_branches": self.branches,
            "tree_values": self.values,
            **{f"tree_{t}": self.stacked(t) for t in ("allocation", "knobs", "portfolio", "risk")},
        }

    def to_csv(self, folder: str | Path) -> list[Path]:
        """Write every table as ``<name>.csv`` into ``folder`` (each file whole or not at all)."""
        return write_tables(folder, self.tables())

    def text_summary(self) -> str:
        """A few lines for the terminal: the objective, each value, the model size and time."""
        measure = {"expected": "expected", "worst_case": "worst-case", "cvar": "CVaR"}
        head = (
            f"scenario tree {self.scenario_name}: {len(self.branches)} branches, stages revealed "
            f"at {', '.join(self.reveals)}; objective: {measure[self.objective]} risk reduction"
            + (f" (alpha {self.cvar_alpha:g})" if self.objective == "cvar" else "")
        )
        lines = [head, f"  status: {self.status}"]
        for row in self.values.itertuples():
            lines.append(f"  {row.quantity:<40} model {row.model:10.4g}   exact {row.exact:10.4g}")
        lines.append(
            f"  extensive form: {self.size.get('variables', 0):,} variables, "
            f"{self.size.get('constraints', 0):,} constraints, plus "
            f"{self.size.get('tangent_rows_left_out', 0):,} tangent rows left out and satisfied; "
            f"solved in {self.timings.get('stochastic', math.nan):.1f} s"
        )
        return "\n".join(lines)


def _branch_results(
    inputs: Sequence[Inputs], ex: Extensive, names: Sequence[str]
) -> tuple[dict[str, Result], np.ndarray]:
    results, exact = {}, []
    for inp, schedule, value, name in zip(inputs, ex.schedules, ex.values, names, strict=True):
        ev = evaluate(inp, schedule)
        results[name] = build_result(inp, schedule, ev, ex.status, float(value), ex.seconds)
        exact.append(ev.risk_reduction(inp))
    return results, np.array(exact)


def _exact(inputs: Sequence[Inputs], schedules: Sequence[Schedule]) -> np.ndarray:
    return np.array(
        [evaluate(i, s).risk_reduction(i) for i, s in zip(inputs, schedules, strict=True)]
    )


def _infeasible(scenarios: Sequence[Scenario], inputs: Sequence[Inputs]) -> SolverError:
    """Why the extensive form is infeasible: a branch alone (its diagnosis), or else the
    decisions the tree makes branches share."""

    for scenario, inp in zip(scenarios, inputs, strict=True):
        solve_program(inp, scenario, None)  # raises InfeasibleError with the branch's diagnosis
    return SolverError(
        Status.INFEASIBLE,
        "every branch is feasible alone, but no decisions before a reveal satisfy all the "
        "branches that share them (e.g. budgets or velocity-hit caps that differ before the "
        "outcome is known); reveal such a field in the first period it differs",
    )


def solve_tree(scenario: Scenario, values: bool = True) -> TreeResult:
    """Solve ``scenario.tree`` as one stochastic program over the core program; with
    ``values``, also the expected scenario's plan (EEV) and every branch alone (WS), for the
    value of the stochastic solution and of perfect information. Raises ScenarioError on a bad
    tree, InfeasibleError / SolverError when no plan satisfies every branch."""

    tree = scenario.tree
    if tree is None:
        raise ScenarioError(f"scenario '{scenario.name}': no tree: block to solve")
    t0 = time.perf_counter()
    paths = branches(scenario)
    scenarios = [branch_scenario(scenario, b) for b in paths]
    inputs = [prepare(s) for s in scenarios]
    probability = np.array([b.probability for b in paths])
    node = nodes(scenario, [b.path for b in paths])
    labels = scenario.periods().labels
    solver = scenario.solver
    t1 = t2 = time.perf_counter()
    try:
        lps = branch_lps(inputs, solver.time_limit_seconds, solver.threads)
        t2 = time.perf_counter()
        form = ExtensiveForm(
            lps,
            probability,
            node,
            tree.objective,
            tree.cvar_alpha,
            solver.time_limit_seconds,
            solver.threads,
        )
        ex = form.solve()
    except SolverError as exc:
        if exc.status is Status.INFEASIBLE:
            raise _infeasible(scenarios, inputs) from None
        raise
    timings = {
        "prepare": t1 - t0,
        "branches_alone": t2 - t1,
        "extensive_form": time.perf_counter() - t2,
        "stochastic": time.perf_counter() - t1,
    }
    names = [b.name for b in paths]
    results, exact = _branch_results(inputs, ex, names)
    measure = lambda v: risk_measure(v, probability, tree.objective, tree.cvar_alpha)  # noqa: E731
    rows = {"stochastic": (ex.objective, measure(exact))}
    if values:
        t3 = time.perf_counter()
        ws_model = np.array([lp.objective for lp in lps])
        ws_exact = _exact(inputs, [lp.schedule for lp in lps])
        rows["wait_and_see"] = (measure(ws_model), measure(ws_exact))
        mean = expected_scenario(scenario, paths)
        mean_inputs = prepare(mean)
        m_ev, solved_ev = solve_program(mean_inputs, mean, None)
        rows["deterministic_expected_scenario"] = (float(solved_ev.objective), math.nan)
        form.fix(extract_schedule(m_ev, mean_inputs), labels.index(tree.stages[0].reveal))
        try:
            eev = form.solve()
            rows["expected_value_plan"] = (eev.objective, measure(_exact(inputs, eev.schedules)))
        except SolverError:
            rows["expected_value_plan"] = (-math.inf, -math.inf)  # infeasible in some branch
        rp, eev_v, ws = rows["stochastic"], rows["expected_value_plan"], rows["wait_and_see"]
        rows["value_of_stochastic_solution"] = (rp[0] - eev_v[0], rp[1] - eev_v[1])
        rows["expected_value_of_perfect_information"] = (ws[0] - rp[0], ws[1] - rp[1])
        timings["values"] = time.perf_counter() - t3
    order = [k for k in VALUE_MEANINGS if k in rows]
    table = pd.DataFrame(
        {
            "quantity": order,
            "measure": tree.objective,
            "model": [rows[k][0] for k in order],
            "exact": [rows[k][1] for k in order],
            "meaning": [VALUE_MEANINGS[k] for k in order],
        }
    )
    stages = {f"stage{k}": [b.path[k] for b in paths] for k in range(len(tree.stages))}
    summaries = [results[n].summary for n in names]
    table_b = pd.DataFrame(
        {
            "branch": names,
            "probability": probability,
            **stages,
            "risk_reduction_model": ex.values,
            "risk_reduction_exact": exact,
            "probability_without_plan": [s["probability_without_plan"] for s in summaries],
            "probability_with_plan": [s["probability_with_plan_and_postponed"] for s in summaries],
            "regime_switch_period": [s["regime_switch_period"] for s in summaries],
            "violations": [s["violations"] for s in summaries],
        }
    )
    return TreeResult(
        scenario_name=scenario.name,
        objective=tree.objective,
        cvar_alpha=tree.cvar_alpha,
        status=ex.status,
        reveals=tuple(stage.reveal for stage in tree.stages),
        branches=table_b,
        values=table,
        results=results,
        size=ex.size,
        timings=timings,
    )
