"""The baseline solved: locally optimal, feasible by an independent recomputation, and not a
corner."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from allocopt.numeric.inputs import prepare
from allocopt.numeric.simulate import TOLERANCE
from allocopt.results.status import Status
from allocopt.scenario.tables import CATEGORIES


def test_baseline_is_locally_optimal_and_the_simulator_finds_no_violation(baseline_result):
    """A converged outer loop of the nonconvex endogenous program: a local optimum, said so,
    never claimed as a proven one, and shown without a NOT OPTIMAL mark."""
    assert baseline_result.status is Status.LOCALLY_OPTIMAL
    assert baseline_result.is_local_optimum
    assert not baseline_result.is_optimal
    assert baseline_result.status_note() == ""
    first = baseline_result.text_summary().splitlines()[0]
    assert first.startswith("scenario magma_baseline: locally optimal (")
    assert baseline_result.violations == ()
    assert baseline_result.starts.start.tolist() == ["full_speed"]  # one start: the reference


def test_model_objective_is_within_the_documented_bound_of_the_exact_value(baseline_result):
    s = baseline_result.summary
    # docs/model.md: tangent cuts over-estimate the cut in hazard; the gap is at most 1%.
    assert s["risk_reduction_model"] >= s["risk_reduction_exact"] > 0
    assert s["approximation_gap"] <= 0.01


def test_budgets_hold_when_recomputed_from_the_allocation_table(baseline, baseline_result):
    inp = prepare(baseline)
    a = baseline_result.allocation
    spent = a[a.resource != "effort"].pivot_table(
        index="period", columns="resource", values="value", aggfunc="sum", sort=False
    )
    budget = pd.DataFrame(inp.budget, index=list(inp.periods.labels), columns=["compute", "staff"])
    assert (spent <= budget * (1 + 1e-9)).all().all()


def test_velocity_hit_respects_the_cap_of_each_regime(baseline_result):
    k = baseline_result.knobs
    # within the simulator's tolerance: the baseline's post-acceleration hits sit on the cap
    assert (k.velocity_hit <= k.velocity_hit_cap * (1 + TOLERANCE)).all()
    assert set(k.loc[k.regime == "pre_acceleration", "velocity_hit_cap"]) == {0.05}
    assert k.regime.iloc[0] == "pre_acceleration"
    assert k.regime.iloc[-1] == "post_acceleration"


def test_no_corner_solution_every_category_funds_several_interventions(baseline_result):
    # ai_defense acts on other developers' AI only, through Magma's influence: at the baseline's
    # optimum Magma is a year behind by 2029 (hits at the cap, safety difficulty), where the
    # influence is 2^-4 (half-life 0.25 years), and the category is not funded (docs/model.md,
    # "The value of slowing")
    a = baseline_result.allocation
    effort = a[a.resource == "effort"].groupby(["category", "activity"])["value"].sum()
    funded = (effort > 1e-3).groupby(level="category").sum()
    for category in CATEGORIES:
        if category != "ai_defense":
            assert funded[category] >= 2, f"{category}: {effort[category].to_dict()}"
    assert baseline_result.knobs.delay_years.iloc[-1] > 0.75


def test_result_tables_are_tidy_with_units(baseline_result):
    a = baseline_result.allocation
    assert list(a.columns) == [
        "period",
        "activity",
        "category",
        "mode",
        "resource",
        "value",
        "unit",
    ]
    units = a.groupby("resource")["unit"].unique().to_dict()
    assert {k: list(v) for k, v in units.items()} == {
        "compute": ["kH100e"],
        "effort": ["EU"],
        "staff": ["FTE"],
    }
    assert not a.isna().any().any()
    portfolio = baseline_result.portfolio.groupby("period")["share"].sum()
    assert np.allclose(portfolio, 1.0)


def test_risk_with_the_plan_is_below_the_risk_without(baseline_result):
    r = baseline_result.risk
    assert (r.hazard_with_plan <= r.hazard_without_plan + 1e-12).all()
    s = baseline_result.summary
    assert 0 < s["probability_with_plan"] < s["probability_without_plan"] < 1


def test_same_input_same_bytes(baseline, baseline_result, tmp_path):
    from allocopt import solve

    first, second = tmp_path / "a", tmp_path / "b"
    baseline_result.to_csv(first)
    solve(baseline).to_csv(second)
    for path in sorted(first.iterdir()):
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name


@pytest.mark.parametrize("resource", ["compute", "staff"])
def test_more_budget_never_lowers_the_optimum_of_the_core_program(baseline, resource):
    # A theorem for the LP on the fixed reference trajectory (the outer loop for endogenous
    # capability finds local optima, for which it need not hold).
    from allocopt import solve

    core = baseline.with_updates({"capability": {}})
    richer = solve(core.with_updates({f"budget_multiplier.{resource}": 1.2}))
    assert richer.objective_model >= solve(core).objective_model - 1e-9
