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

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from allocopt.data import RESOURCES
from allocopt.errors import InfeasibleError, ScenarioError, SolverError
from allocopt.files import write_folder
from allocopt.inputs import Inputs, prepare
from allocopt.model import FAMILIES
from allocopt.model.linearization import reference
from allocopt.model.sets import add_sets
from allocopt.result import FLOAT_FORMAT, Result, build_result
from allocopt.scenario import Scenario
from allocopt.simulate import Schedule, evaluate
from allocopt.status import Status

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


def _check_shared(inputs: Sequence[Inputs], node: Sequence[Sequence[str]]) -> None:
    first = inputs[0]
    for inp in inputs[1:]:
        if inp.periods.labels != first.periods.labels or inp.ids != first.ids:
            raise ScenarioError(
                f"tree: branch {inp.scenario_name} changes the periods or the intervention "
                "catalog; branches must share them so that decisions can be shared"
            )
        if inp.capability.endogenous:
            raise ScenarioError(
                f"tree: branch {inp.scenario_name} has endogenous capability; a tree is solved "
                "over the core program (every capability: term off; extend magma_core.yaml)"
            )
    if first.capability.endogenous:
        raise ScenarioError(
            f"tree: scenario {first.scenario_name} has endogenous capability; a tree is solved "
            "over the core program (every capability: term off; extend magma_core.yaml)"
        )
    for t in range(len(first.periods)):
        for b, c in itertools.combinations(range(len(node)), 2):
            if node[b][t] == node[c][t] and t and node[b][t - 1] != node[c][t - 1]:
                raise ValueError(f"node ids are not a tree: branches {b}, {c} rejoin in period {t}")


def build_extensive(
    inputs: Sequence[Inputs],
    probability: Sequence[float],
    node: Sequence[Sequence[str]],
    objective: Objective = "expected",
    cvar_alpha: float = 0.9,
) -> pyo.ConcreteModel:
    """The extensive form: block ``branch[b]`` is the core program of ``inputs[b]`` (its own
    objective deactivated); ``same_capabilities`` and ``same_effort`` tie each branch's decisions
    in period t to those of the first branch at the same ``node[b][t]``; ``value[b]`` is branch
    b's risk reduction; the objective is ``sum_b p_b value[b]`` (expected), ``worst`` with
    ``worst <= value[b]`` (worst_case), or ``worst - sum_b p_b shortfall[b] / (1 - cvar_alpha)``
    with ``shortfall[b] >= worst - value[b]`` (cvar)."""
    _check_shared(inputs, node)
    m = pyo.ConcreteModel(name="extensive_form")
    n_b = len(inputs)
    m.BRANCHES = pyo.RangeSet(0, n_b - 1)
    m.p = pyo.Param(m.BRANCHES, initialize=dict(enumerate(map(float, probability))))

    def branch_block(blk: pyo.Block, b: int) -> None:
        inp = inputs[b]
        add_sets(blk, inp, reference(inp))
        for family in FAMILIES:
            family(blk, inp)
        blk.objective.deactivate()

    m.branch = pyo.Block(m.BRANCHES, rule=branch_block)
    labels = inputs[0].periods.labels
    ids = inputs[0].ids
    leader: dict[tuple[int, str], int] = {}
    tied = []  # (branch, period label) pairs tied to their node's first branch
    for b in range(n_b):
        for t, label in enumerate(labels):
            first = leader.setdefault((t, node[b][t]), b)
            if first != b:
                tied.append((b, label, first))
    lead = {(b, t): c for b, t, c in tied}
    m.TIED = pyo.Set(initialize=[(b, t) for b, t, _ in tied], dimen=2, ordered=True)
    m.same_capabilities = pyo.Constraint(
        m.TIED,
        RESOURCES,
        rule=lambda m, b, t, r: (
            m.branch[b].capabilities[t, r] == m.branch[lead[b, t]].capabilities[t, r]
        ),
    )
    m.same_effort = pyo.Constraint(
        m.TIED,
        ids,
        rule=lambda m, b, t, i: m.branch[b].effort[t, i] == m.branch[lead[b, t]].effort[t, i],
    )
    m.value = pyo.Expression(m.BRANCHES, rule=lambda m, b: m.branch[b].risk_reduction)
    m.expected = pyo.Expression(expr=sum(m.p[b] * m.value[b] for b in m.BRANCHES))
    if objective == "expected":
        m.objective = pyo.Objective(expr=m.expected, sense=pyo.maximize)
        return m
    m.worst = pyo.Var()
    if objective == "worst_case":
        m.worst_def = pyo.Constraint(m.BRANCHES, rule=lambda m, b: m.worst <= m.value[b])
        m.objective = pyo.Objective(expr=m.worst, sense=pyo.maximize)
        return m
    m.shortfall = pyo.Var(m.BRANCHES, domain=pyo.NonNegativeReals)
    m.shortfall_def = pyo.Constraint(
        m.BRANCHES, rule=lambda m, b: m.shortfall[b] >= m.worst - m.value[b]
    )
    m.objective = pyo.Objective(
        expr=m.worst - sum(m.p[b] * m.shortfall[b] for b in m.BRANCHES) / (1 - cvar_alpha),
        sense=pyo.maximize,
    )
    return m


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
class Extensive:
    """What one solve of the extensive form returned."""

    status: Status
    objective: float  # the tree objective (risk measure of the branch values), model
    values: np.ndarray  # [B] each branch's risk reduction in the program
    schedules: list[Schedule]
    size: dict[str, int]  # variables, constraints, nonzeros? (variables and constraints)
    seconds: dict[str, float]


def solve_extensive(
    inputs: Sequence[Inputs],
    probability: Sequence[float],
    node: Sequence[Sequence[str]],
    objective: Objective = "expected",
    cvar_alpha: float = 0.9,
    fixed: Schedule | None = None,
    fixed_until: int = 0,
    time_limit: float | None = None,
    threads: int = 1,
) -> Extensive:
    """Build and solve the extensive form (:func:`build_extensive`); with ``fixed``, every
    branch's decisions in the periods before ``fixed_until`` are held at that schedule's.
    Raises SolverError unless HiGHS proves an optimum."""
    from allocopt.solve import HighsRunner, cold_algorithm, extract_schedule

    t0 = time.perf_counter()
    m = build_extensive(inputs, probability, node, objective, cvar_alpha)
    if fixed is not None:
        labels, ids = inputs[0].periods.labels, inputs[0].ids
        for b in m.BRANCHES:
            for t in range(fixed_until):
                for k, r in enumerate(RESOURCES):
                    m.branch[b].capabilities[labels[t], r].fix(float(fixed.capabilities[t, k]))
                for k, i in enumerate(ids):
                    m.branch[b].effort[labels[t], i].fix(float(fixed.effort[t, k]))
    t1 = time.perf_counter()
    runner = HighsRunner(time_limit, threads, algorithm=cold_algorithm(m))
    solved = runner.solve(m)
    t2 = time.perf_counter()
    if not solved.status.is_optimal:
        raise SolverError(solved.status, f"the extensive form ended '{solved.status}'")
    schedules = [extract_schedule(m.branch[b], inp) for b, inp in enumerate(inputs)]
    values = np.array([pyo.value(m.value[b]) for b in m.BRANCHES])
    size = {"branches": len(inputs), "variables": m.nvariables(), "constraints": m.nconstraints()}
    seconds = {"build": t1 - t0, "solve": t2 - t1}
    return Extensive(solved.status, float(solved.objective), values, schedules, size, seconds)
