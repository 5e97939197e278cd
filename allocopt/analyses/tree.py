"""Scenario trees: uncertainty as branches with probabilities, solved as one stochastic program.

The branches, their nodes and the tree's values (VSS, EVPI) live here; the extensive form that
solves them is :mod:`allocopt.optimize.extensive`. It holds the core program of every branch
(each solved alone first, by the same families as a deterministic solve), with one column per
node of the tree for each decision of its periods — branches that share a node take the same
decisions in it — and for what those decisions determine alike. The objective is the expected
risk reduction over branches, its worst case, or its CVaR (docs/model.md, "Scenario trees")."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocopt.analyses.sweep import field_value
from allocopt.analyses.tree_slp import solve_endogenous
from allocopt.errors import ScenarioError, SolverError
from allocopt.model import evaluate
from allocopt.numeric.inputs import Inputs, prepare
from allocopt.numeric.simulate import Schedule
from allocopt.optimize.extensive import (
    Extensive,
    ExtensiveForm,
    branch_lps,
    check_branches,
)
from allocopt.optimize.extensive_rows import Objective, TreeSettings, risk_measure
from allocopt.optimize.finish import to_result
from allocopt.optimize.pipeline import extract_schedule, solve_program
from allocopt.results.names import HAZARD_UNIT, PROBABILITIES, unit
from allocopt.results.result import Result, write_tables
from allocopt.results.status import Status
from allocopt.results.views import KNOB_UNITS, units_table
from allocopt.scenario.config import Tree
from allocopt.scenario.schema import Scenario

ROOT = "root"
# the unit of each numeric column of the wide tables, written as tree_units.csv (as a result's
# units.csv); the tidy tree_allocation, tree_portfolio and tree_risk carry a unit column
TREE_UNITS: dict[str, dict[str, str]] = {
    "tree_branches": {
        "probability": "probability",
        **{n: unit(n) for n in ("risk_reduction_model", "risk_reduction_exact", *PROBABILITIES)},
        "violations": "count",
    },
    "tree_values": {"model": HAZARD_UNIT, "exact": HAZARD_UNIT},  # the tree's measure, VSS, EVPI
    "tree_knobs": KNOB_UNITS,
}


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
    # one row per branch: probability, stages, risk reduction (model, exact), the probabilities
    # of catastrophe without and with the plan within the horizon and including the risk past
    # it (HEADLINE's four), regime switch, violations
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
        """Every table written by :meth:`to_csv`, by file stem; ``tree_units`` gives the unit of
        every numeric column of the wide tables (:data:`TREE_UNITS`: ``table, column, unit``)."""
        return {
            "tree_branches": self.branches,
            "tree_values": self.values,
            **{f"tree_{t}": self.stacked(t) for t in ("allocation", "knobs", "portfolio", "risk")},
            "tree_units": units_table(TREE_UNITS),
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
        lines = [
            head,
            f"  status: {self.status}; each value is the tree's measure of the branches' risk "
            f"reductions, in {HAZARD_UNIT}: 'model' is the program's value, 'exact' the exact "
            "simulator's for the same plans",
        ]
        width = max(map(len, self.values.quantity))
        for row in self.values.itertuples():
            lines.append(
                f"  {row.quantity:<{width}}  model {row.model:9.6f}  exact {row.exact:9.6f}  "
                f"{row.meaning}"
            )
        exact = self.values.set_index("quantity").exact
        gains = {
            "stochastic",
            "value_of_stochastic_solution",
            "expected_value_of_perfect_information",
        }
        if gains <= set(exact.index) and exact.stochastic:
            lines.append(
                "  relative to the stochastic plan's value (exact): VSS "
                f"{100 * exact.value_of_stochastic_solution / exact.stochastic:.2g}%, EVPI "
                f"{100 * exact.expected_value_of_perfect_information / exact.stochastic:.2g}%"
            )
        outer = self.size.get("outer_iterations")
        lines.append(
            f"  extensive form: {self.size.get('variables', 0):,} variables, "
            f"{self.size.get('constraints', 0):,} constraints, plus "
            f"{self.size.get('tangent_rows_left_out', 0):,} tangent rows left out and satisfied; "
            + (f"outer loop over it: {outer} iterations; " if outer is not None else "")
            + (
                f"its LPs solved by PIQP's interior point {self.size['interior_point_runs']} "
                f"times, by HiGHS {self.size['highs_runs']}; "
                if self.size.get("interior_point_iterations")
                else ""
            )
            + f"solved in {self.timings.get('stochastic', math.nan):.1f} s"
        )
        return "\n".join(lines)


def _branch_results(
    scenarios: Sequence[Scenario],
    inputs: Sequence[Inputs],
    ex: Extensive,
    names: Sequence[str],
    timings: dict[str, float],
) -> dict[str, Result]:
    """Each branch's :class:`Result` (its plan in the extensive form, checked by the exact
    simulator: ``check_failed`` where it violates a constraint), by branch name."""
    return {
        name: to_result(inp, scenario, schedule, ex.status, float(value), timings)
        for scenario, inp, schedule, value, name in zip(
            scenarios, inputs, ex.schedules, ex.values, names, strict=True
        )
    }


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
    """Solve ``scenario.tree`` as one stochastic program: over the core program as one LP, over
    endogenous capability by the outer loop over the extensive form
    (:func:`allocopt.analyses.tree_slp.solve_endogenous`, status ``locally_optimal`` when it
    converges). With ``values``, also the expected scenario's plan (EEV) and every branch alone
    (WS), for the value of the stochastic solution and of perfect information. Raises
    ScenarioError on a bad tree, InfeasibleError / SolverError when no plan satisfies every
    branch."""

    tree = scenario.tree
    if tree is None:
        raise ScenarioError(f"scenario '{scenario.name}': no tree: block to solve")
    t0 = time.perf_counter()
    paths = branches(scenario)
    scenarios = [branch_scenario(scenario, b) for b in paths]
    inputs = [prepare(s) for s in scenarios]
    check_branches(inputs)
    probability = np.array([b.probability for b in paths])
    node = nodes(scenario, [b.path for b in paths])
    names = [b.name for b in paths]
    reveal = scenario.periods().labels.index(tree.stages[0].reveal)
    try:  # the values' EEV, and the start of the outer loop over endogenous capability
        mean: Scenario | None = expected_scenario(scenario, paths)
    except ScenarioError:
        if values:
            raise
        mean = None
    measure = lambda v: risk_measure(v, probability, tree.objective, tree.cvar_alpha)  # noqa: E731
    t1 = time.perf_counter()
    try:
        if inputs[0].capability.endogenous:
            ex, rows, timings = solve_endogenous(
                inputs, probability, node, tree, scenario.solver, names, mean, reveal, values
            )
        else:
            ex, rows, timings = _solve_core(
                inputs, probability, node, tree, scenario, mean if values else None, reveal
            )
    except SolverError as exc:
        if exc.status is Status.INFEASIBLE:
            raise _infeasible(scenarios, inputs) from None
        raise
    timings = {"prepare": t1 - t0, **timings}
    results = _branch_results(scenarios, inputs, ex, names, {"prepare": t1 - t0, **ex.seconds})
    exact = _exact(inputs, ex.schedules)
    rows = {"stochastic": (ex.objective, measure(exact)), **rows}
    if values:
        rp, eev_v, ws = rows["stochastic"], rows["expected_value_plan"], rows["wait_and_see"]
        rows["value_of_stochastic_solution"] = (rp[0] - eev_v[0], rp[1] - eev_v[1])
        rows["expected_value_of_perfect_information"] = (ws[0] - rp[0], ws[1] - rp[1])
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
            **{name: [s[name] for s in summaries] for name in PROBABILITIES},
            "regime_switch_period": [s["regime_switch_period"] for s in summaries],
            "violations": [len(results[n].violations) for n in names],
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


def _solve_core(
    inputs: Sequence[Inputs],
    probability: np.ndarray,
    node: Sequence[Sequence[str]],
    tree: Tree,
    scenario: Scenario,
    mean: Scenario | None,
    reveal: int,
) -> tuple[Extensive, dict[str, tuple[float, float]], dict[str, float]]:
    """The stochastic program over the core program (one LP), and with the expected scenario
    ``mean`` the values' rows (model, exact): WS from each branch alone, EEV from ``mean``'s
    plan held before period ``reveal``; and the seconds of each step."""
    measure = lambda v: risk_measure(v, probability, tree.objective, tree.cvar_alpha)  # noqa: E731
    solver = scenario.solver
    t1 = time.perf_counter()
    lps = branch_lps(inputs, solver.time_limit_seconds, solver.threads)
    t2 = time.perf_counter()
    form = ExtensiveForm(lps, TreeSettings.of(probability, node, tree, solver))
    ex = form.solve()
    timings = {
        "branches_alone": t2 - t1,
        "extensive_form": time.perf_counter() - t2,
        "stochastic": time.perf_counter() - t1,
    }
    rows: dict[str, tuple[float, float]] = {}
    if mean is not None:
        t3 = time.perf_counter()
        ws_model = np.array([lp.objective for lp in lps])
        ws_exact = _exact(inputs, [lp.schedule for lp in lps])
        rows["wait_and_see"] = (measure(ws_model), measure(ws_exact))
        mean_inputs = prepare(mean)
        m_ev, solved_ev = solve_program(mean_inputs, mean, None)
        plan_ev = extract_schedule(m_ev, mean_inputs)
        rows["deterministic_expected_scenario"] = (
            float(solved_ev.objective),
            float(_exact([mean_inputs], [plan_ev])[0]),  # in its own world
        )
        form.fix(plan_ev, reveal)
        try:
            eev = form.solve()
            rows["expected_value_plan"] = (eev.objective, measure(_exact(inputs, eev.schedules)))
        except SolverError:
            rows["expected_value_plan"] = (-math.inf, -math.inf)  # infeasible in some branch
        timings["values"] = time.perf_counter() - t3
    return ex, rows, timings
