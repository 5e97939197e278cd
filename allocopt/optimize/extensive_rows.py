"""Rows and shared columns of an extensive form, from its branches' LP arrays.

:func:`share_columns` numbers the extensive form's columns: branches at one node of the tree
share each decision of its periods and each variable the decisions determine alike (found by
hashing the variable's rows, bounds and sign of cost). :func:`stack_rows` puts every branch's
rows on those columns, each distinct row once (:class:`Rows`, entry-wise), and says which rows
the form starts from (the rest are added when violated: row generation). :func:`measure_rows`
adds a robust objective's columns and rows, :func:`risk_measure` computes its value.
:class:`TreeSettings` is what both extensive forms (the core program's and the outer loop's)
are told of the tree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from allocopt.model import shared_as
from allocopt.numeric.simulate import Schedule
from allocopt.optimize.highs.arrays import INF, ArrayLp, LpArrays
from allocopt.scenario.config import Solver, Tree

# Branches at one node of the tree take the same decisions in its periods (non-anticipativity).
DECISIONS = shared_as("decision")
# Variables that are the same function of the decisions so far in every branch whose rows agree
# (allocopt.model.family.Sharing): branches at one node share such a column when its rows agree
# (share_columns).
SHARED_FAMILIES = shared_as("determined")

Objective = Literal["expected", "worst_case", "cvar"]  # the tree's risk measure of branch values
VIOLATION = 1e-9  # a left-out tangent row violated by more than this is added, and HiGHS re-solves
SEEDS = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xD1B54A32D192ED03))


@dataclass(frozen=True)
class TreeSettings:
    """What an extensive form is told of its tree, alike for the core program's
    (:class:`~allocopt.optimize.extensive.ExtensiveForm`) and the outer loop's
    (:class:`~allocopt.optimize.extensive_slp.TreeProgram`): each branch's probability [B]
    (summing to 1), its node in each period [B][T], the tree objective and CVaR's ``cvar_alpha``,
    and HiGHS's ``time_limit`` (seconds per solve; None: none) and ``threads``."""

    probability: np.ndarray
    node: Sequence[Sequence[str]]
    objective: Objective = "expected"
    cvar_alpha: float = 0.9
    time_limit: float | None = None
    threads: int = 1

    @classmethod
    def of(
        cls,
        probability: Sequence[float],
        node: Sequence[Sequence[str]],
        tree: Tree | None,
        solver: Solver,
    ) -> TreeSettings:
        """The settings of a scenario's ``tree:`` and ``solver:`` blocks (None: the expected
        objective)."""
        measure = (
            {} if tree is None else {"objective": tree.objective, "cvar_alpha": tree.cvar_alpha}
        )
        return cls(
            np.asarray(probability, dtype=float),
            node,
            time_limit=solver.time_limit_seconds,
            threads=solver.threads,
            **measure,
        )


@dataclass(frozen=True)
class BranchLp:
    """One branch's core program as HiGHS holds it after solving it alone: the LP's arrays, the
    rows its optimum binds (and their neighbours), its columns' names, the columns of its
    decisions, and its own (wait-and-see) optimum."""

    lp: LpArrays
    working: np.ndarray  # [rows] bool: the rows the extensive form starts from (_working_rows)
    names: np.ndarray  # [cols] the Pyomo name of each column's variable, e.g. "benefit[2025Q1,x]"
    family: np.ndarray  # [cols] the variable's family, e.g. "benefit"
    period: np.ndarray  # [cols] index of the variable's period (its first index)
    capabilities: np.ndarray  # [T, R] column of capabilities[t,r]
    effort: np.ndarray  # [T, I] column of effort[t,i]
    objective: float
    schedule: Schedule


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


def share_columns(
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
        lp = branch.lp
        row, col = lp.a_index, np.repeat(np.arange(lp.num_col), np.diff(lp.a_start))
        name = np.array([code.setdefault(n, len(code)) for n in branch.names], dtype=np.uint64)
        rows = _fingerprint(
            row,
            lp.num_row,
            name[col],
            _bits(lp.a_value),
            [_bits(lp.row_lower), _bits(lp.row_upper)],
        )
        cols = _fingerprint(
            col,
            lp.num_col,
            rows[row, 0],
            rows[row, 1],
            [_bits(lp.col_lower), _bits(lp.col_upper), _bits(np.sign(lp.col_cost))],
        ).view(np.int64)
        decision = np.isin(branch.family, DECISIONS)
        shared = decision | np.isin(branch.family, families)
        tag = np.full(lp.num_col, -1 - b)
        tag[shared] = [at.setdefault(node[b][t], len(at)) for t in branch.period[shared]]
        cols[decision] = 0  # non-anticipativity: one column per node, whatever its rows
        own = np.column_stack([np.arange(lp.num_col), np.zeros(lp.num_col, np.int64)])
        keys.append(
            np.column_stack([tag, name.view(np.int64), np.where(shared[:, None], cols, own)])
        )
    number, _ = _numbered(np.concatenate(keys))
    ends = np.cumsum([len(k) for k in keys])
    return np.split(number, ends[:-1])


@dataclass
class Rows:
    """Rows of the extensive form, entry-wise: entry e is ``value[e]`` at column ``col[e]`` of
    row ``pos[e]`` (sorted by row)."""

    lower: np.ndarray
    upper: np.ndarray
    pos: np.ndarray
    col: np.ndarray
    value: np.ndarray

    def take(self, keep: np.ndarray) -> Rows:
        """The rows where ``keep`` holds, renumbered in order."""
        entry = keep[self.pos]
        renumber = np.cumsum(keep) - 1
        return Rows(
            self.lower[keep],
            self.upper[keep],
            renumber[self.pos[entry]],
            self.col[entry],
            self.value[entry],
        )

    def add_to(self, highs: ArrayLp) -> None:
        """Append these rows to ``highs``."""
        counts = np.bincount(self.pos, minlength=len(self.lower))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32)
        highs.add_rows(self.lower, self.upper, starts, self.col, self.value)

    def violated(self, x: np.ndarray) -> np.ndarray:
        """Which rows ``x`` violates by more than VIOLATION."""
        activity = np.bincount(self.pos, self.value * x[self.col], minlength=len(self.lower))
        return (activity > self.upper + VIOLATION) | (activity < self.lower - VIOLATION)


def stack_rows(lps: Sequence[BranchLp], column: Sequence[np.ndarray]) -> tuple[Rows, np.ndarray]:
    """Every branch's rows on the extensive form's columns, each distinct row once, and which
    of them to start from (working in some branch that has it)."""
    pos, col, value, lower, upper, working = [], [], [], [], [], []
    offset = 0
    for branch, cols in zip(lps, column, strict=True):
        lp = branch.lp
        pos.append(lp.a_index + offset)
        col.append(np.repeat(cols, np.diff(lp.a_start)))
        value.append(lp.a_value)
        lower.append(lp.row_lower)
        upper.append(lp.row_upper)
        working.append(branch.working)
        offset += lp.num_row
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
    rows = Rows(
        lower[first], upper[first], row[pos[entry]][order], col[entry][order], value[entry][order]
    )
    return rows, kept


def measure_rows(
    costs: Sequence[np.ndarray],
    column: Sequence[np.ndarray],
    offsets: np.ndarray,
    p: np.ndarray,
    objective: Objective,
    alpha: float,
    first: int,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], Rows]:
    """The columns (cost, lower, upper) numbered from ``first`` and the rows of a robust
    objective over branch values value_b = costs[b]·x[column[b]] + offsets[b]. worst_case:
    column ``worst`` (cost 1) and rows ``worst_def[b]``: worst − value_b ≤ 0; cvar: also
    ``shortfall[b] ≥ 0`` (cost −p_b/(1 − alpha)) and rows ``shortfall_def[b]``:
    worst − value_b − shortfall_b ≤ 0."""
    n_b = len(costs)
    cvar = objective == "cvar"
    cost = np.array([1.0, *(-p / (1 - alpha) if cvar else [])])
    lower = np.array([-INF] + [0.0] * (len(cost) - 1))
    pos, cols, vals = [], [], []
    for b in range(n_b):
        nz = np.flatnonzero(costs[b])
        row_cols = [first, *column[b][nz]]
        row_vals = [1.0, *(-costs[b][nz])]
        if cvar:
            row_cols.append(first + 1 + b)
            row_vals.append(-1.0)
        pos.append(np.full(len(row_cols), b))
        cols.append(np.asarray(row_cols, dtype=np.int64))
        vals.append(np.asarray(row_vals, dtype=float))
    rows = Rows(
        np.full(n_b, -INF),
        np.asarray(offsets, dtype=float),
        np.concatenate(pos),
        np.concatenate(cols),
        np.concatenate(vals),
    )
    return (cost, lower, np.full(len(cost), INF)), rows


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
