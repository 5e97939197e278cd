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
from allocopt.errors import ScenarioError, SolverError
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


def expected_scenario(scenario: Scenario, tree_branches: Sequence[Branch]) -> Scenario:
    """The deterministic scenario with every uncertain field at its expectation over branches
    (a branch that does not set a field has the scenario's value)."""
    from allocopt.sweep import field_value

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

        def fill(staging: Path) -> None:
            for name, table in self.tables().items():
                table.to_csv(
                    staging / f"{name}.csv",
                    index=False,
                    float_format=FLOAT_FORMAT,
                    lineterminator="\n",
                )

        return write_folder(folder, fill)

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
            lines.append(f"  {row.quantity:<40} model {row.model:9.4f}   exact {row.exact:9.4f}")
        lines.append(
            f"  extensive form: {self.size.get('variables', 0):,} variables, "
            f"{self.size.get('constraints', 0):,} constraints, solved in "
            f"{self.timings.get('stochastic', math.nan):.1f} s"
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
    from allocopt.solve import solve_program

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
    from allocopt.solve import extract_schedule, solve_program

    tree = scenario.tree
    if tree is None:
        raise ScenarioError(f"scenario '{scenario.name}': no tree: block to solve")
    t0 = time.perf_counter()
    paths = branches(scenario)
    scenarios = [branch_scenario(scenario, b) for b in paths]
    inputs = [prepare(s) for s in scenarios]
    probability = np.array([b.probability for b in paths])
    node = nodes(scenario, [b.path for b in paths])
    options = {
        "objective": tree.objective,
        "cvar_alpha": tree.cvar_alpha,
        "time_limit": scenario.solver.time_limit_seconds,
        "threads": scenario.solver.threads,
    }
    t1 = time.perf_counter()
    try:
        ex = solve_extensive(inputs, probability, node, **options)
    except SolverError as exc:
        if exc.status is Status.INFEASIBLE:
            raise _infeasible(scenarios, inputs) from None
        raise
    timings = {"prepare": t1 - t0, "stochastic": time.perf_counter() - t1}
    names = [b.name for b in paths]
    results, exact = _branch_results(inputs, ex, names)
    measure = lambda v: risk_measure(v, probability, tree.objective, tree.cvar_alpha)  # noqa: E731
    rows = {"stochastic": (ex.objective, measure(exact))}
    if values:
        t2 = time.perf_counter()
        mean = expected_scenario(scenario, paths)
        m_ev, solved_ev = solve_program(prepare(mean), mean, None)
        ev_plan = extract_schedule(m_ev, prepare(mean))
        rows["deterministic_expected_scenario"] = (float(solved_ev.objective), math.nan)
        first = scenario.periods().labels.index(tree.stages[0].reveal)
        try:
            eev = solve_extensive(
                inputs, probability, node, fixed=ev_plan, fixed_until=first, **options
            )
            rows["expected_value_plan"] = (eev.objective, measure(_exact(inputs, eev.schedules)))
        except SolverError:
            rows["expected_value_plan"] = (-math.inf, -math.inf)  # infeasible in some branch
        t3 = time.perf_counter()
        alone = [solve_program(i, s, None) for i, s in zip(inputs, scenarios, strict=True)]
        ws_model = np.array([float(solved.objective) for _, solved in alone])
        ws_plans = [extract_schedule(m, i) for (m, _), i in zip(alone, inputs, strict=True)]
        rows["wait_and_see"] = (measure(ws_model), measure(_exact(inputs, ws_plans)))
        rp, eev_v, ws = rows["stochastic"], rows["expected_value_plan"], rows["wait_and_see"]
        rows["value_of_stochastic_solution"] = (rp[0] - eev_v[0], rp[1] - eev_v[1])
        rows["expected_value_of_perfect_information"] = (ws[0] - rp[0], ws[1] - rp[1])
        timings |= {"expected_value_plan": t3 - t2, "wait_and_see": time.perf_counter() - t3}
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
