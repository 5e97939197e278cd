"""Scenario trees over endogenous capability (the outer loop over the extensive form): a tree of
identical branches is the single scenario, the hedge of test_tree under robust objectives,
non-anticipativity and the exact check of every branch, and a tree that mixes core and
endogenous branches refused before anything is solved."""

from __future__ import annotations

import numpy as np
import pytest

from allocopt import ScenarioError, solve
from allocopt.analyses import tree_slp
from allocopt.analyses.tree import risk_measure, solve_tree
from allocopt.model import structure
from allocopt.optimize import extensive_slp, interior, slp_program
from allocopt.results.status import Status
from tests.analyses.refusal import forbid_solving
from tests.analyses.test_tree import HAZARD, hedge, year1_effort

ENDOGENOUS = {"capability.hazard_follows_delay": True}


def endogenous_hedge(tiny, p: float, objective: str = "expected"):
    """test_tree's hedge with hazard following Magma's delay (the outer loop's program)."""
    return hedge(tiny, p, objective).with_updates(ENDOGENOUS)


def stochastic(result, column: str = "exact") -> float:
    return float(result.values.set_index("quantity").loc["stochastic", column])


def test_two_identical_branches_give_the_single_scenario_optimum(tiny):
    base = endogenous_hedge(tiny, 0.5)
    same = {"probability": 0.5, "updates": {}}
    tree = {"stages": [{"reveal": "2026", "branches": {"a": same, "b": same}}]}
    single = solve(base.with_updates({"tree": None}))
    r = solve_tree(base.with_updates({"tree": tree}), values=False)
    assert single.status is Status.LOCALLY_OPTIMAL
    assert r.status is Status.LOCALLY_OPTIMAL  # a converged loop, never "optimal"
    assert stochastic(r) == pytest.approx(single.summary["risk_reduction_exact"], rel=1e-4)
    for name in ("a", "b"):
        a = r.results[name].allocation
        s = single.allocation
        np.testing.assert_allclose(
            a[a.resource == "effort"]["value"].to_numpy(),
            s[s.resource == "effort"]["value"].to_numpy(),
            atol=0.05,
        )


def test_endogenous_tree_hedges_and_shares_the_first_year(tiny):
    # item0 works in the likelier branch a: the expected objective moves the shared year-1
    # effort toward it; the plan is the same in both branches in year 1 and checked exactly
    r = solve_tree(endogenous_hedge(tiny, 0.8))
    a, b = year1_effort(r, "a"), year1_effort(r, "b")
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert a[0] > a[1] + 1.0
    assert r.status is Status.LOCALLY_OPTIMAL
    assert (r.branches.violations == 0).all()
    # the loop starts from the expected scenario's own plan, in every branch: here one step
    # from it already converges
    assert r.size["outer_iterations"] >= 1
    assert r.timings["expected_scenario"] > 0
    assert f"outer loop over it: {r.size['outer_iterations']} iterations" in r.text_summary()
    v = r.values.set_index("quantity")
    b_table = r.branches
    assert v.loc["stochastic", "exact"] == pytest.approx(
        float(b_table.probability @ b_table.risk_reduction_exact), rel=1e-12
    )
    # knowing the branch is worth something; the loops' local optima keep the order
    assert v.loc["wait_and_see", "exact"] > v.loc["stochastic", "exact"]
    assert v.loc["stochastic", "exact"] >= v.loc["expected_value_plan", "exact"] - 1e-6
    # the expected scenario's own run is simulated in its own world too, within the loop's gap
    own = v.loc["deterministic_expected_scenario"]
    assert own.exact == pytest.approx(own.model, rel=0.02)
    text = r.text_summary()
    assert "nan" not in text
    for row in r.values.itertuples():  # each value with six decimals and what it means
        assert f"exact {row.exact:9.6f}  {row.meaning}" in text
    evpi = v.loc["expected_value_of_perfect_information", "exact"]
    assert f"EVPI {100 * evpi / v.loc['stochastic', 'exact']:.2g}%" in text


def test_worst_case_on_endogenous_hedges_evenly_whatever_the_probabilities(tiny):
    # the branches are mirror images: max min is at the even split for any p
    r = solve_tree(endogenous_hedge(tiny, 0.8, "worst_case"), values=False)
    a = year1_effort(r, "a")
    assert a[0] == pytest.approx(a[1], abs=0.5)
    assert a.sum() > 5.0  # the hedge does spend the freed staff
    exact = r.branches.set_index("branch").risk_reduction_exact
    assert stochastic(r) == pytest.approx(exact.min(), rel=1e-12)
    assert exact["a"] == pytest.approx(exact["b"], rel=2e-2)


def test_cvar_on_endogenous_lies_between_the_worst_case_and_the_mean(tiny):
    # alpha 0.5 keeps branch b (0.2) and 0.3 of branch a in the tail: the plan leans to item0
    # less than the expected plan does, more than the worst case's even split, and does better
    # on its own measure than the expected plan
    p = np.array([0.8, 0.2])
    mean_plan = solve_tree(endogenous_hedge(tiny, 0.8), values=False)
    worst = stochastic(solve_tree(endogenous_hedge(tiny, 0.8, "worst_case"), values=False))
    s = endogenous_hedge(tiny, 0.8, "cvar")
    r = solve_tree(s.with_updates({"tree": s.model_dump()["tree"] | {"cvar_alpha": 0.5}}))
    assert r.status is Status.LOCALLY_OPTIMAL
    got = stochastic(r)  # CVaR of the exact values at the plan the loop settled on
    assert worst * (1 - 2e-3) <= got <= stochastic(mean_plan) * (1 + 2e-3)
    mean_cvar = risk_measure(mean_plan.branches.risk_reduction_exact.to_numpy(), p, "cvar", 0.5)
    assert got > 1.05 * mean_cvar
    a, mean_a = year1_effort(r, "a"), year1_effort(mean_plan, "a")
    assert a[1] + 1.0 < a[0] < mean_a[0] - 1.0


def test_a_tree_mixing_core_and_endogenous_branches_is_refused_before_solving(tiny, monkeypatch):
    forbid_solving(monkeypatch)
    base = endogenous_hedge(tiny, 0.5)
    stage = {
        "reveal": "2026",
        "branches": {
            "a": {"probability": 0.5},
            "b": {"probability": 0.5, "updates": {"capability.hazard_follows_delay": False}},
        },
    }
    with pytest.raises(ScenarioError, match="turns endogenous capability off") as err:
        solve_tree(base.with_updates({"tree": {"stages": [stage]}}))
    assert len(err.value.problems) == 1


def test_branches_that_differ_in_residual_floors_share_one_program(tiny, monkeypatch):
    """The residual floors are mutable Params: branches that differ in them, and the expected
    scenario between them, run on one program; each branch's block holds its own floor (the
    higher floor leaves less to cut), and the plan is the one a program per floor finds."""
    prep = {"mode": "preparation", "lead_time_years": 1.0}
    base = tiny([prep], budgets=[(5.0, 100.0)] * 2, hazard=[0.0, HAZARD])
    floors = {"a": 0.1, "b": 0.6}
    stage = {
        "reveal": "2026",
        "branches": {
            name: {"probability": 0.5, "updates": {"risk.residual_floor.own_direct": floor}}
            for name, floor in floors.items()
        },
    }
    s = base.with_updates({**ENDOGENOUS, "tree": {"stages": [stage]}})
    built = []
    build = slp_program.build_model
    monkeypatch.setattr(
        slp_program, "build_model", lambda *a, **k: built.append(1) or build(*a, **k)
    )
    shared = solve_tree(s, values=False)
    assert len(built) == 1
    model = shared.branches.set_index("branch")["risk_reduction_model"]
    assert model["b"] < model["a"] - 1e-3
    apart = lambda m, inp: {**structure(m, inp), "floor": inp.residual_floor.tolist()}  # noqa: E731
    monkeypatch.setattr(tree_slp, "structure", apart)
    monkeypatch.setattr(extensive_slp, "structure", apart)
    own = solve_tree(s, values=False)
    assert len(built) == 1 + 3  # a program per branch, and the expected scenario's
    np.testing.assert_allclose(
        shared.branches.risk_reduction_model, own.branches.risk_reduction_model, rtol=1e-9
    )
    for name in floors:
        x, y = shared.results[name].allocation, own.results[name].allocation
        np.testing.assert_allclose(x["value"].to_numpy(), y["value"].to_numpy(), atol=1e-6)


def test_piqps_interior_point_reaches_highs_optimum(tiny, monkeypatch):
    # a form of INTERIOR_ROWS rows or more goes to PIQP (here every form), with no simplex run:
    # the loop reaches HiGHS's optimum in value, within the outer loop's tolerance. Not the same
    # plan: this LP is flat in the decisions (docs/explore.md, "Fifth pass"), and an interior
    # point ends inside the face of optima where the simplex ends at a vertex
    scenario = endogenous_hedge(tiny, 0.8)
    highs = solve_tree(scenario)
    monkeypatch.setattr(extensive_slp, "INTERIOR_ROWS", 0)
    piqp = solve_tree(scenario)
    assert piqp.status is Status.LOCALLY_OPTIMAL
    assert highs.size["interior_point_runs"] == 0
    assert highs.size["highs_runs"] == highs.size["outer_iterations"]
    assert piqp.size["highs_runs"] == 0
    assert piqp.size["interior_point_runs"] >= piqp.size["outer_iterations"]
    assert piqp.size["interior_point_iterations"] > 0
    assert piqp.size["simplex_iterations"] == 0
    assert (piqp.branches.violations == 0).all()
    assert stochastic(piqp, "model") == pytest.approx(stochastic(highs, "model"), rel=1e-4)
    assert stochastic(piqp) == pytest.approx(stochastic(highs), rel=1e-3)
    # shared decisions shared, whichever optimum
    np.testing.assert_allclose(year1_effort(piqp, "a"), year1_effort(piqp, "b"), atol=1e-6)
    v = piqp.values.set_index("quantity")
    assert v.loc["stochastic", "exact"] >= v.loc["expected_value_plan", "exact"] - 1e-6
    assert f"PIQP's interior point {piqp.size['interior_point_runs']} times, by HiGHS 0" in (
        piqp.text_summary()
    )


def test_a_run_piqp_does_not_solve_goes_to_highs(tiny, monkeypatch, caplog):
    scenario = endogenous_hedge(tiny, 0.8)
    highs = solve_tree(scenario, values=False)
    monkeypatch.setattr(extensive_slp, "INTERIOR_ROWS", 0)
    # PIQP ends at its limit in both attempts of every run
    monkeypatch.setattr(interior, "ATTEMPTS", ({"max_iter": 1}, {"max_iter": 1, "tau": 0.995}))
    with caplog.at_level("INFO", logger=extensive_slp.__name__):
        r = solve_tree(scenario, values=False)
    assert "the interior point ended PIQP_MAX_ITER_REACHED after 2 iterations in 2 attempts" in (
        caplog.text
    )
    assert r.size["interior_point_runs"] == 0  # none solved by PIQP
    assert r.size["interior_point_iterations"] == 2 * r.size["outer_iterations"]
    assert r.size["highs_runs"] == r.size["outer_iterations"]
    assert f"PIQP's interior point 0 times, by HiGHS {r.size['highs_runs']}" in r.text_summary()
    assert stochastic(r) == pytest.approx(stochastic(highs), rel=1e-9)
