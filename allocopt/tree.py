"""Scenario trees: uncertainty as branches with probabilities, solved as one stochastic program.

The extensive form holds one copy of the core program per branch (a Pyomo block built by the
same families as a deterministic solve) and non-anticipativity rows: branches that share a node
of the tree in a period take the same decisions in it. The objective is the expected risk
reduction over branches, its worst case, or its CVaR (docs/model.md, "Scenario trees").
"""

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

from allocopt.data import RESOURCES
from allocopt.errors import ScenarioError, SolverError
from allocopt.inputs import Inputs, prepare
from allocopt.model import build_model
from allocopt.model.linearization import reference
from allocopt.model.sets import set_param_values
from allocopt.result import Result, build_result, write_tables
from allocopt.scenario import Scenario
from allocopt.session import WARM_OPTIONS, structure
from allocopt.simulate import Schedule, evaluate
from allocopt.solve import (
    DUAL_TOLERANCE,
    HighsRunner,
    classify,
    extract_schedule,
    solve_program,
)
from allocopt.status import Status
from allocopt.sweep import field_value

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
    """One branch's core program as HiGHS holds it after solving it alone: the LP's arrays, its
    optimal basis, the columns of its decisions, and its own (wait-and-see) optimum."""

    lp: highspy.HighsLp
    basis: highspy.HighsBasis
    working: np.ndarray  # [rows] bool: the rows the extensive form starts from (_working_rows)
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
    groups: dict[str, tuple[pyo.ConcreteModel, HighsRunner]] = {}
    out = []
    for inp in inputs:
        key = repr(structure(inp))
        if key in groups:
            m, runner = groups[key]
            set_param_values(m, inp, reference(inp))
        else:
            m, runner = build_model(inp), HighsRunner(time_limit, threads)
            groups[key] = (m, runner)
        solved = runner.solve(m)
        if not solved.status.is_optimal:
            raise SolverError(solved.status, f"branch {inp.scenario_name}: {solved.message}")
        runner.solver.config.solver_options.update(WARM_OPTIONS)
        highs = runner.solver._solver_model
        column = runner.solver._pyomo_var_to_solver_var_map
        labels, ids = inp.periods.labels, inp.ids
        lp, basis = highs.getLp(), highs.getBasis()
        basic = np.array(basis.row_status) == highspy.HighsBasisStatus.kBasic
        out.append(
            BranchLp(
                lp=lp,
                basis=basis,
                working=_working_rows(_tangent_rows(m, runner, lp.num_row_), basic),
                capabilities=np.array(
                    [[column[id(m.capabilities[t, r])] for r in RESOURCES] for t in labels]
                ),
                effort=np.array([[column[id(m.effort[t, i])] for i in ids] for t in labels]),
                objective=float(solved.objective),
                schedule=extract_schedule(m, inp),
            )
        )
    return out


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
    tangents that bind at the branch's own optimum (nonbasic) with their neighbours k ± 1. Only
    basic rows are left out, so the branch's optimal basis stays a basis of what is kept."""
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


def ties(node: Sequence[Sequence[str]]) -> list[tuple[int, int, int]]:
    """Non-anticipativity pairs ``(b, t, lead)``: branch b shares period t's node with the first
    branch ``lead`` at that node, so their decisions in t must be equal."""
    leader: dict[tuple[int, str], int] = {}
    out = []
    for b, path in enumerate(node):
        for t, at in enumerate(path):
            lead = leader.setdefault((t, at), b)
            if lead != b:
                out.append((b, t, lead))
    return out


# Extensive forms with at least this many columns start from HiGHS's interior point method (with
# crossover, so that later re-solves are warm); smaller ones by dual simplex from the branches'
# bases. Measured on the benchmark trees (python -m benchmarks): 16 branches (26k columns) 8.7 s
# by interior point vs 11.7 s; 64 branches (104k columns) 78 s vs 296 s.
IPM_COLUMNS = 20_000
VIOLATION = 1e-9  # a left-out tangent row violated by more than this is added, and HiGHS re-solves


@dataclass
class _LeftOut:
    """One branch's rows the extensive form left out (tangents that do not bind alone), row-wise:
    entry e is ``value[e]`` at column ``col[e]`` of left-out row ``pos[e]``."""

    lower: np.ndarray
    upper: np.ndarray
    pos: np.ndarray
    col: np.ndarray
    value: np.ndarray
    pending: np.ndarray  # [left-out rows] bool: not added yet

    @classmethod
    def of(
        cls, lp: highspy.HighsLp, out: np.ndarray, rows: np.ndarray, col: np.ndarray
    ) -> _LeftOut:
        """The rows ``out`` of ``lp``, whose matrix entries lie in ``rows`` and ``col``."""
        entry = np.isin(rows, out)
        order = np.argsort(rows[entry], kind="stable")
        return cls(
            lower=np.asarray(lp.row_lower_)[out],
            upper=np.asarray(lp.row_upper_)[out],
            pos=np.searchsorted(out, rows[entry][order]),
            col=col[entry][order],
            value=np.asarray(lp.a_matrix_.value_)[entry][order],
            pending=np.ones(len(out), dtype=bool),
        )

    def violated(self, x: np.ndarray) -> np.ndarray:
        """Pending rows that ``x`` (this branch's columns) violates."""
        activity = np.bincount(self.pos, self.value * x[self.col], minlength=len(self.lower))
        off = (activity > self.upper + VIOLATION) | (activity < self.lower - VIOLATION)
        return self.pending & off


class ExtensiveForm:
    """The extensive form in one HiGHS instance: the branch LPs side by side (block ``b`` offset by
    ``start[b]`` columns), the non-anticipativity rows ``same_capabilities[b,t,r]`` and
    ``same_effort[b,t,i]``: ``x_b[t] − x_lead[t] = 0``, and the objective's rows (docs/model.md,
    "Scenario trees"). Tangent rows that do not bind in a branch alone start left out and are
    added when the solution violates them (row generation): the optimum is the full program's.
    Small trees start from the branches' own optimal bases, which together are dual feasible for
    the expected objective, so dual simplex only has to restore the shared rows; large ones
    (``IPM_COLUMNS``) from interior point with crossover."""

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
    ) -> None:
        _check_tree(node)
        self.lps, self.p = list(lps), np.asarray(probability, dtype=float)
        self.objective, self.alpha = objective, cvar_alpha
        cols = np.array([b.lp.num_col_ for b in lps])
        self.start = np.concatenate([[0], np.cumsum(cols)])
        self.costs = [np.asarray(b.lp.col_cost_) for b in lps]
        self.offsets = np.array([b.lp.offset_ for b in lps])
        if algorithm == "auto":
            algorithm = "ipm" if self.start[-1] >= IPM_COLUMNS else "simplex"
        self.highs = highspy.Highs()
        lp, self.left_out = self._stacked()
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
        tied = self._add_ties(node)
        if objective != "expected":
            self._add_measure_rows()
        elif algorithm == "simplex":
            self._warm_start(tied)

    def _stacked(self) -> tuple[highspy.HighsLp, list[_LeftOut]]:
        """The branch LPs' working rows side by side, each block's cost weighted by its
        probability for the expected objective (zero otherwise: the measure's own columns carry
        the objective); and each branch's left-out rows."""
        weight = self.p if self.objective == "expected" else np.zeros_like(self.p)
        lp = highspy.HighsLp()
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.offset_ = float(weight @ self.offsets)
        lp.col_cost_ = np.concatenate([w * c for w, c in zip(weight, self.costs, strict=True)])
        lp.col_lower_ = np.concatenate([b.lp.col_lower_ for b in self.lps])
        lp.col_upper_ = np.concatenate([b.lp.col_upper_ for b in self.lps])
        lp.row_lower_ = np.concatenate([np.asarray(b.lp.row_lower_)[b.working] for b in self.lps])
        lp.row_upper_ = np.concatenate([np.asarray(b.lp.row_upper_)[b.working] for b in self.lps])
        starts, index, value, left_out = [], [], [], []
        row_start = 0
        for branch in self.lps:
            a, keep = branch.lp.a_matrix_, branch.working
            rows, entries = np.asarray(a.index_), np.asarray(a.value_)
            col = np.repeat(np.arange(branch.lp.num_col_), np.diff(a.start_))
            kept = keep[rows]
            renumber = np.cumsum(keep) - 1
            starts.append(np.bincount(col[kept], minlength=branch.lp.num_col_))
            index.append(renumber[rows[kept]] + row_start)
            value.append(entries[kept])
            row_start += int(keep.sum())
            left_out.append(_LeftOut.of(branch.lp, np.flatnonzero(~keep), rows, col))
        lp.num_col_, lp.num_row_ = int(self.start[-1]), row_start
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
        lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum(np.concatenate(starts))]).astype(
            np.int32
        )
        lp.a_matrix_.index_ = np.concatenate(index).astype(np.int32)
        lp.a_matrix_.value_ = np.concatenate(value)
        return lp, left_out

    def decision_columns(self, b: int, t: int) -> np.ndarray:
        """Columns of branch b's decisions in period t: capabilities, then effort."""
        lp = self.lps[b]
        return self.start[b] + np.concatenate([lp.capabilities[t], lp.effort[t]])

    def _add_ties(self, node: Sequence[Sequence[str]]) -> int:
        """Add the non-anticipativity rows; return how many."""
        pairs = ties(node)
        if not pairs:
            return 0
        own = np.concatenate([self.decision_columns(b, t) for b, t, _ in pairs])
        lead = np.concatenate([self.decision_columns(c, t) for _, t, c in pairs])
        n = len(own)
        index = np.column_stack([own, lead]).ravel().astype(np.int32)
        value = np.tile([1.0, -1.0], n)
        zeros = np.zeros(n)
        self.highs.addRows(
            n, zeros, zeros, 2 * n, np.arange(0, 2 * n, 2, dtype=np.int32), index, value
        )
        return n

    def _add_measure_rows(self) -> None:
        """worst_case: column ``worst`` (cost 1) and rows ``worst_def[b]``: worst − value_b ≤ 0;
        cvar: also ``shortfall[b] ≥ 0`` (cost −p_b/(1 − alpha)) and rows ``shortfall_def[b]``:
        shortfall_b − worst + value_b ≥ 0, with value_b = cost_b·x_b + offset_b."""
        n_b, first = len(self.lps), int(self.start[-1])
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
            cols = [first, *(self.start[b] + nz)]
            vals = [1.0, *(-self.costs[b][nz])]
            if cvar:  # shortfall_def: worst − value_b − shortfall_b ≤ 0
                cols.append(first + 1 + b)
                vals.append(-1.0)
            self.highs.addRow(
                -inf, float(self.offsets[b]), len(cols), np.array(cols, np.int32), np.array(vals)
            )

    def _warm_start(self, tied_rows: int) -> None:
        basis = highspy.HighsBasis()
        basis.col_status = [s for b in self.lps for s in b.basis.col_status]
        basis.row_status = [
            s
            for b in self.lps
            for s, kept in zip(b.basis.row_status, b.working, strict=True)
            if kept
        ] + [highspy.HighsBasisStatus.kBasic] * tied_rows
        basis.valid = True
        if self.highs.setBasis(basis) != highspy.HighsStatus.kOk:
            raise SolverError(Status.SOLVER_ERROR, "HiGHS refused the branches' bases")

    def _add_violated(self, x: np.ndarray) -> int:
        """Add every left-out row that ``x`` violates; return how many."""
        total = 0
        for b, out in enumerate(self.left_out):
            bad = out.violated(x[self.start[b] : self.start[b + 1]])
            n = int(bad.sum())
            if not n:
                continue
            entries = bad[out.pos]
            counts = np.bincount(out.pos[entries], minlength=len(bad))[bad]
            self.highs.addRows(
                n,
                out.lower[bad],
                out.upper[bad],
                int(counts.sum()),
                np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32),
                (out.col[entries] + self.start[b]).astype(np.int32),
                out.value[entries],
            )
            out.pending &= ~bad
            total += n
        return total

    def fix(self, schedule: Schedule, until: int) -> None:
        """Hold every branch's decisions in the periods before ``until`` at ``schedule``'s."""
        values = np.concatenate([schedule.capabilities, schedule.effort], axis=1)
        cols = np.concatenate(
            [self.decision_columns(b, t) for b in range(len(self.lps)) for t in range(until)]
        )
        vals = np.concatenate([values[t] for _ in self.lps for t in range(until)])
        self.highs.changeColsBounds(len(cols), cols.astype(np.int32), vals, vals)

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
                self.costs[b] @ x[self.start[b] : self.start[b + 1]] + self.offsets[b]
                for b in range(len(self.lps))
            ]
        )
        schedules = [
            Schedule(
                effort=np.clip(x[self.start[b] + lp.effort], 0, None),
                capabilities=np.clip(x[self.start[b] + lp.capabilities], 0, None),
            )
            for b, lp in enumerate(self.lps)
        ]
        size = {
            "branches": len(self.lps),
            "variables": self.highs.getNumCol(),
            "constraints": self.highs.getNumRow(),
            "nonzeros": self.highs.getNumNz(),
        }
        info = self.highs.getInfo()
        size["simplex_iterations"] = info.simplex_iteration_count
        size["tangent_rows_left_out"] = sum(int(out.pending.sum()) for out in self.left_out)
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
