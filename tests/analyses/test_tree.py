"""Scenario trees: a two-branch tree solved by hand, the risk measures by hand, non-anticipativity,
the values of the stochastic solution and of perfect information on the baseline tree, bad input."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from allocopt import ScenarioError, load_scenario, solve
from allocopt.analyses.tree import branch_scenario, branches, nodes, risk_measure, solve_tree
from allocopt.cli import app
from allocopt.errors import SolverError
from allocopt.numeric.curves import benefit
from allocopt.numeric.inputs import prepare
from allocopt.optimize.extensive import (
    ExtensiveForm,
    _objective_scale,
    _working_rows,
    branch_lps,
)
from allocopt.optimize.extensive_rows import TreeSettings
from allocopt.results.names import HAZARD_UNIT
from allocopt.scenario.config import Solver
from allocopt.scenario.tables import RESOURCE_UNITS
from tests.conftest import ROOT

TREE = ROOT / "models" / "magma_tree.yaml"  # over the endogenous baseline
# the tables a tree writes, tree_<name>.csv (and their units, tree_units.csv)
TABLES = ("allocation", "branches", "knobs", "portfolio", "risk", "values")


def core_tree():
    """magma_tree over the core program (every capability: term off): one LP."""
    return load_scenario(TREE).with_updates({"capability": {}})


HAZARD = 0.2  # per year, own_direct, in the second year only


def hedge(tiny, p: float, objective: str = "expected"):
    """Two preparation items (10 EU·yr saturation, lead time 1 year) compete for the 10 FTE the
    10% velocity-hit cap frees in year 1; year 2 holds all the hazard. In branch ``a`` (probability
    ``p``) only item0 works, in branch ``b`` only item1; the branch is revealed in year 2."""
    prep = {"mode": "preparation", "lead_time_years": 1.0}
    base = tiny([prep, prep], budgets=[(5.0, 100.0)] * 2, hazard=[0.0, HAZARD])
    works = {"a": "item0", "b": "item1"}
    stage = {
        "reveal": "2026",
        "branches": {
            name: {
                "probability": q,
                "updates": {
                    f"intervention_overrides.{item}.effect_own_direct": 0.0
                    for item in ("item0", "item1")
                    if item != works[name]
                },
            }
            for name, q in (("a", p), ("b", 1 - p))
        },
    }
    return base.with_updates({"tree": {"stages": [stage], "objective": objective}})


def value(x: np.ndarray | float) -> np.ndarray:
    """Exact risk cut of a branch whose working item got ``x`` EU in year 1 (floor 0)."""
    return HAZARD * (1 - np.exp(-benefit(np.asarray(x) / 10.0)))


def year1_effort(result, branch: str) -> np.ndarray:
    a = result.results[branch].allocation
    rows = a[(a.period == "2025") & (a.resource == "effort")]
    return rows.set_index("activity")["value"].loc[["item0", "item1"]].to_numpy()


def test_two_branch_tree_matches_the_hand_solution(tiny):
    # By symmetry and concavity the hedge splits the 10 EU evenly, in both branches (shared year):
    # each branch cuts value(5). Knowing the branch (wait and see) would put all 10 EU on the item
    # that works: value(10). The expected scenario (both items at half effect) also splits evenly,
    # so the value of the stochastic solution is 0 and that of perfect information
    # value(10) - value(5).
    # The tangent cuts make the program's curve piecewise linear, so the split is exact up to the
    # width of one linear piece (~0.6 EU near 5 EU) and the value up to its curvature.
    r = solve_tree(hedge(tiny, 0.5))
    np.testing.assert_allclose(year1_effort(r, "a"), year1_effort(r, "b"), atol=1e-6)
    assert year1_effort(r, "a") == pytest.approx([5.0, 5.0], abs=0.3)
    values = r.values.set_index("quantity")
    assert values.loc["stochastic", "exact"] == pytest.approx(value(5.0), rel=1e-3)
    assert values.loc["stochastic", "model"] == pytest.approx(value(5.0), rel=2e-3)
    assert values.loc["wait_and_see", "exact"] == pytest.approx(value(10.0), rel=1e-6)
    evpi = values.loc["expected_value_of_perfect_information", "exact"]
    assert evpi == pytest.approx(value(10.0) - value(5.0), rel=2e-3)
    vss = values.loc["value_of_stochastic_solution", "model"]
    assert -1e-9 <= vss <= 1e-3 * value(5.0)  # zero up to the pieces' ties


def test_unequal_probabilities_move_the_hedge_as_the_first_order_condition_says(tiny):
    # Hand solution: maximize p value(x) + (1 - p) value(10 - x) over the shared year-1 split.
    p = 0.8
    grid = np.linspace(0, 10, 100_001)
    best = grid[np.argmax(p * value(grid) + (1 - p) * value(10 - grid))]
    r = solve_tree(hedge(tiny, p))
    a, b = year1_effort(r, "a"), year1_effort(r, "b")
    np.testing.assert_allclose(a, b, atol=1e-6)  # non-anticipativity: year 1 is shared
    assert a[0] == pytest.approx(best, abs=0.3)  # within one linear piece of the tangent cuts
    assert a[0] > 5.0  # the likelier branch gets more


def test_worst_case_objective_hedges_evenly_whatever_the_probabilities(tiny):
    # max min(value(x), value(10 - x)) is at x = 5 for any p.
    r = solve_tree(hedge(tiny, 0.8, objective="worst_case"))
    assert year1_effort(r, "a") == pytest.approx([5.0, 5.0], abs=0.3)
    assert r.values.set_index("quantity").loc["stochastic", "exact"] == pytest.approx(
        value(5.0), rel=1e-3
    )


def test_risk_measures_by_hand():
    v, p = np.array([3.0, 1.0, 2.0]), np.array([0.5, 0.2, 0.3])
    assert risk_measure(v, p, "expected", 0.9) == pytest.approx(1.5 + 0.2 + 0.6)
    assert risk_measure(v, p, "worst_case", 0.9) == 1.0
    # worst 40% of probability: all of branch 1 (0.2 at 1.0) and 0.2 of branch 2 (at 2.0)
    assert risk_measure(v, p, "cvar", 0.6) == pytest.approx((0.2 * 1 + 0.2 * 2) / 0.4)
    assert risk_measure(v, p, "cvar", 0.9) == pytest.approx(1.0)  # the tail is within branch 1


def test_cvar_between_the_worst_case_and_the_mean(tiny):
    s = hedge(tiny, 0.8, objective="cvar")
    mean = solve_tree(hedge(tiny, 0.8)).values.set_index("quantity").loc["stochastic", "exact"]
    for alpha, lo, hi in ((0.1, value(5.0), mean), (0.95, value(5.0), value(5.0))):
        tree = s.model_dump()["tree"] | {"cvar_alpha": alpha}
        r = solve_tree(s.with_updates({"tree": tree}), values=False)
        got = r.values.set_index("quantity").loc["stochastic", "model"]
        assert lo * (1 - 2e-3) <= got <= hi * (1 + 2e-3)


def test_branches_multiply_stages_and_nodes_follow_the_reveals():
    s = load_scenario(TREE)
    paths = branches(s)
    assert len(paths) == 6
    assert sum(b.probability for b in paths) == pytest.approx(1.0)
    node = nodes(s, [b.path for b in paths])
    labels = s.periods().labels
    first, second = labels.index("2026Q1"), labels.index("2027Q1")
    assert {n[first - 1] for n in node} == {"root"}
    assert len({n[first] for n in node}) == 3
    assert len({n[second] for n in node}) == 6


@pytest.fixture(scope="module")
def baseline_tree():
    return solve_tree(core_tree())


def test_baseline_tree_shares_decisions_before_the_first_reveal(baseline_tree):
    alloc = baseline_tree.stacked("allocation")
    before = alloc[alloc.period < "2026Q1"]
    spread = before.groupby(["period", "activity", "resource"])["value"].agg(np.ptp)
    assert spread.max() < 1e-6
    after = alloc[alloc.period >= "2026Q1"]
    assert after.groupby(["period", "activity", "resource"])["value"].agg(np.ptp).max() > 1e-3


def test_branch_probabilities_come_in_pairs_on_one_basis(baseline_tree):
    # without and with the plan, within the horizon and including the risk past it: never a
    # probability within the horizon beside one including the risk past it alone
    shown = [c for c in baseline_tree.branches.columns if c.startswith("probability_")]
    within = [c for c in shown if not c.endswith("_and_postponed")]
    assert sorted(shown) == sorted([*within, *(f"{c}_and_postponed" for c in within)])
    assert sorted(within) == ["probability_with_plan", "probability_without_plan"]


def test_baseline_tree_values(baseline_tree):
    v = baseline_tree.values.set_index("quantity")
    # the stochastic plan (simulated) does at least as well as the expected scenario's plan
    assert v.loc["stochastic", "exact"] >= v.loc["expected_value_plan", "exact"] - 1e-7
    assert v.loc["value_of_stochastic_solution", "model"] >= -1e-9
    assert v.loc["expected_value_of_perfect_information", "model"] > 0
    assert v.loc["wait_and_see", "model"] >= v.loc["stochastic", "model"]
    b = baseline_tree.branches
    expected = float(b.probability @ b.risk_reduction_exact)
    assert v.loc["stochastic", "exact"] == pytest.approx(expected, rel=1e-12)
    assert (b.violations == 0).all()
    assert (b.risk_reduction_model >= b.risk_reduction_exact - 1e-9).all()  # outer approximation
    own = v.loc["deterministic_expected_scenario"]  # simulated in its own world, below the LP
    assert 0 < own.exact <= own.model + 1e-9


def test_budgets_that_differ_before_the_reveal_are_explained(tiny):
    # Year 1 is shared, but branch b doubles the staff budget there: the 10% cap needs at least
    # 90 FTE on capabilities in a and 180 in b, and a has only 100.
    base = tiny([{}], budgets=[(5.0, 100.0)] * 2, hazard=[0.0, 0.2])
    stage = {
        "reveal": "2026",
        "branches": {
            "a": {"probability": 0.5},
            "b": {"probability": 0.5, "updates": {"budget_multiplier.staff": 2.0}},
        },
    }
    with pytest.raises(SolverError, match="every branch is feasible alone"):
        solve_tree(base.with_updates({"tree": {"stages": [stage]}}), values=False)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t["stages"][0].update(reveal="2035Q1"), r"tree\.stages\[0\]\.reveal"),
        (lambda t: t["stages"][0].update(reveal="2025Q1"), r"after the first"),
        (
            lambda t: t["stages"][1].update(reveal="2025Q2"),
            r"tree\.stages\[1\]\.reveal: 2025Q2 must come after",
        ),
        (
            lambda t: t["stages"][0]["branches"]["early"].update(probability=0.5),
            "must sum to 1",
        ),
        (
            lambda t: t["stages"][0]["branches"]["late"]["updates"].update({"velocity.bogus": 1.0}),
            r"tree\.stages\[0\]\.branches\.late\.updates: .*bogus",
        ),
        (lambda t: t.update(objective="median"), "objective"),
    ],
)
def test_bad_trees_are_named_in_the_file(tmp_path, edit, expected):
    doc = yaml.safe_load(TREE.read_text())
    edit(doc["tree"])
    doc["extends"] = str(ROOT / "models" / "magma_core.yaml")
    path = tmp_path / "bad_tree.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ScenarioError, match=expected) as err:
        load_scenario(path, allow=[ROOT])
    assert any(str(path) in line or "scenario" in line for line in err.value.problems)


def test_the_tree_over_the_endogenous_baseline_loads_and_core_branches_are_refused_there():
    """magma_tree extends the endogenous baseline: no refusal on load, every branch keeps the
    capability: terms; the core program's branch LPs refuse endogenous branches in one line
    (they go through the outer loop over the extensive form)."""
    s = load_scenario(TREE)
    assert s.capability.hazard_follows_delay
    assert s.tree is not None
    paths = branches(s)
    inputs = [prepare(branch_scenario(s, b)) for b in paths]
    assert all(inp.capability.endogenous for inp in inputs)
    with pytest.raises(ScenarioError, match="outer loop over the extensive form") as err:
        branch_lps(inputs)
    assert len(err.value.problems) == 1


@pytest.mark.parametrize("command", ["report", "compare", "sweep"])
def test_one_plan_commands_refuse_a_tree_instead_of_ignoring_it(tmp_path, command):
    # a deterministic solve would answer for the tables' own future, never the tree's: refused
    # in one line, before anything is solved or written; the API refuses the same way
    out = tmp_path / "out"
    extra = (
        ["--param", "velocity.hit_cap_post_acceleration=0.1:0.2:2"] if command == "sweep" else []
    )
    r = CliRunner().invoke(app, [command, str(TREE), "--out", str(out), *extra])
    assert r.exit_code == 2, r.output
    assert r.output.count("error:") == 1, r.output
    assert "scenario 'magma_tree': tree:" in r.output
    assert not out.exists()
    with pytest.raises(ScenarioError, match="--set tree=null"):
        solve(load_scenario(TREE))


@pytest.fixture(scope="module")
def tree_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """magma_tree over the core program solved by ``allocopt solve --out``: its folder and the
    command's output."""
    tmp_path = tmp_path_factory.mktemp("tree")
    doc = yaml.safe_load(TREE.read_text())
    doc["extends"] = str(ROOT / "models" / "magma_core.yaml")  # one LP: fast
    path = tmp_path / "magma_tree.yaml"
    path.write_text(yaml.safe_dump(doc))
    out = tmp_path / "tree"
    r = CliRunner().invoke(app, ["solve", str(path), "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out, r.output


def test_cli_solves_a_tree_and_writes_one_plan_per_branch(tree_folder):
    out, output = tree_folder
    assert "scenario tree magma_tree: 6 branches" in output
    assert "value_of_stochastic_solution" in output
    written = {p.name for p in out.iterdir()}
    assert {
        "tree_branches.csv",
        "tree_values.csv",
        "tree_allocation.csv",
        "tree_plan.png",
    } <= written
    assert (out / "tree_plan.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    header = (out / "tree_allocation.csv").read_text().splitlines()[0]
    assert header.startswith("branch,period,activity")
    assert not math.isnan(
        float((out / "tree_values.csv").read_text().splitlines()[1].split(",")[2])
    )


def test_every_numeric_column_of_the_tree_tables_has_a_unit(tree_folder):
    out, _ = tree_folder
    # tree_units.csv, in the form of a result's units.csv, is listed in the manifest with the rest
    listed = set(json.loads((out / "manifest.json").read_text())["files"])
    assert "tree_units.csv" in listed
    units = pd.read_csv(out / "tree_units.csv", keep_default_na=False)
    assert list(units.columns) == ["table", "column", "unit"]
    assert (units.unit.str.strip() != "").all()
    tables = sorted(p.stem for p in out.glob("tree_*.csv") if p.stem != "tree_units")
    assert {f"{t}.csv" for t in tables} <= listed
    assert set(tables) == {f"tree_{t}" for t in TABLES}
    for name in tables:
        frame = pd.read_csv(out / f"{name}.csv", keep_default_na=False, na_values=[""])
        numeric = {c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])}
        assert numeric, name
        if "unit" in frame.columns:  # tidy: a unit on every row
            assert (frame.unit.str.strip() != "").all(), name
            assert frame.unit.notna().all(), name
        else:  # wide: each numeric column in the units file, and only columns the table has
            columns = set(units.column[units.table == name])
            assert numeric <= columns, (name, numeric - columns)
            assert columns <= set(frame.columns), name
    by_column = units.set_index(["table", "column"]).unit
    assert by_column["tree_branches", "probability"] == "probability"
    assert by_column["tree_values", "exact"] == HAZARD_UNIT
    assert by_column["tree_knobs", "budget_staff"] == RESOURCE_UNITS["staff"]


def test_working_rows_keep_binding_tangents_and_their_neighbours():
    # rows: a non-tangent row, curve 0 with tangents 0..3 (tangent 2 binds), curve 1 with
    # tangents 0..1 (none binds), and curve 2's tangent 0 (binds), listed out of order
    tangent = np.array([[-1, -1], [0, 0], [0, 1], [0, 2], [0, 3], [1, 0], [1, 1], [2, 0]])
    basic = np.array([True, True, True, False, True, True, True, False])
    order = np.array([0, 4, 2, 7, 1, 6, 3, 5])
    keep = _working_rows(tangent[order], basic[order])
    expected = np.array([True, False, True, True, True, False, False, True])
    assert (keep == expected[order]).all()


def test_objective_scale_brings_the_median_cost_near_one():
    k = _objective_scale(np.array([0.0, 1e-5, 3e-5, 2e-5, -4e-3]))
    assert 0.5 <= 2.0**k * 2e-5 <= 2
    assert _objective_scale(np.zeros(3)) == 0


@pytest.fixture(scope="module")
def baseline_form():
    scenario = core_tree()
    paths = branches(scenario)
    lps = branch_lps([prepare(branch_scenario(scenario, b)) for b in paths])
    node = nodes(scenario, [b.path for b in paths])
    return lps, TreeSettings.of([b.probability for b in paths], node, None, Solver())


def test_row_generation_finds_the_optimum_of_the_whole_program(baseline_form):
    lps, tree = baseline_form
    form = ExtensiveForm(lps, tree)
    ex = form.solve()
    assert ex.size["tangent_rows_left_out"] > 10 * ex.size["tangent_rows_added"] > 0
    every = [dataclasses.replace(lp, working=np.ones_like(lp.working)) for lp in lps]
    full = ExtensiveForm(every, tree).solve()
    assert full.size["tangent_rows_left_out"] == 0
    assert ex.objective == pytest.approx(full.objective, rel=1e-9, abs=0)
    x = form.highs.solution()
    for b, branch in enumerate(lps):  # every row of every branch holds, left out or not
        lp = branch.lp
        col = np.repeat(np.arange(lp.num_col), np.diff(lp.a_start))
        xb = x[form.column[b]]
        activity = np.bincount(lp.a_index, lp.a_value * xb[col], lp.num_row)
        assert (activity <= lp.row_upper + 1e-7).all()
        assert (activity >= lp.row_lower - 1e-7).all()


def test_sharing_what_the_decisions_determine_keeps_the_optimum(baseline_form):
    lps, tree = baseline_form
    shared = ExtensiveForm(lps, tree)
    ex = shared.solve()
    ties = ExtensiveForm(lps, tree, families=())  # one column per node for decisions only
    alone = ties.solve()
    assert shared.n < ties.n < sum(b.lp.num_col for b in lps)
    assert ex.objective == pytest.approx(alone.objective, rel=1e-9, abs=0)
    np.testing.assert_allclose(ex.values, alone.values, rtol=0, atol=1e-6)
    # before the first reveal (2026Q1) the branches share benefit[t,i] but not the residual of
    # own_direct, whose floor (the difficulty of safety) they do not share
    for prefix, shares in (("benefit[2025Q3,", True), ("residual[2025Q3,own_direct]", False)):
        name = next(n for n in lps[0].names if n.startswith(prefix))
        at = {int(c[list(b.names).index(name)]) for c, b in zip(shared.column, lps, strict=True)}
        assert (len(at) == 1) is shares


def test_interior_point_and_dual_simplex_agree(baseline_form):
    lps, tree = baseline_form
    simplex = ExtensiveForm(lps, tree, algorithm="simplex").solve()
    ipm = ExtensiveForm(lps, tree, algorithm="ipm").solve()
    assert ipm.objective == pytest.approx(simplex.objective, rel=1e-9, abs=0)
    assert np.abs(ipm.values - simplex.values).max() < 1e-6


def test_a_time_limit_too_short_is_an_error_not_a_plan(baseline_form):
    lps, tree = baseline_form
    with pytest.raises(SolverError, match="time"):
        ExtensiveForm(lps, dataclasses.replace(tree, time_limit=1e-3)).solve()
