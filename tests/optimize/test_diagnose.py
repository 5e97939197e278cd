"""Infeasible scenarios are explained by the constraints that conflict, in the scenario's words."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from typer.testing import CliRunner

from allocopt import InfeasibleError, SolverError, load_scenario, solve
from allocopt.cli import app
from allocopt.diagnosis import Diagnosis
from allocopt.model import FAMILIES, build_model
from allocopt.numeric.inputs import prepare
from allocopt.optimize.diagnose import describe, diagnose
from allocopt.optimize.highs.options import DUAL_TOLERANCE
from allocopt.optimize.pipeline import run_highs
from tests.model.toy_family import TOY, TOY_RANK

HERE = Path(__file__).parents[1] / "infeasible"

# scenario file -> (rule families the IIS must name, phrases the headline must contain); rows of
# model bookkeeping (stock balances, tangent cuts, ...) may join them
CASES = {
    "velocity_vs_safety_floor": (
        {"velocity_hit_limit", "safety_floor_limit", "budget_limit"},
        ["velocity-hit cap 5% (pre-acceleration)", "safety floor of 10% of compute"],
    ),
    "frozen_headcount": (
        {"velocity_hit_limit", "staff_growth", "budget_limit"},
        ["velocity-hit cap 5%", "staff growth cap 0% per year"],
    ),
    "floor_beyond_staff": (
        {"safety_floor_limit", "budget_limit"},
        ["safety floor of 60% of compute", "conflicts with the staff budget"],
    ),
}


def _error(name: str, program: str = "endogenous") -> InfeasibleError:
    """The error of solving example ``name`` (each extends the endogenous baseline), or of its
    core program when ``program`` is "core"."""
    scenario = load_scenario(HERE / f"{name}.yaml")
    if program == "core":
        scenario = scenario.with_updates({"capability": {}})
    with pytest.raises(InfeasibleError) as caught:
        solve(scenario)
    return caught.value


@pytest.mark.parametrize("program", ["endogenous", "core"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_iis_names_the_conflicting_constraints(name: str, program: str) -> None:
    """On the endogenous program (the outer loop's first solve) as on the core LP, HiGHS gives
    an IIS: computed on a copy of the LP at HiGHS's default tolerances, presolve off
    (HighsRunner.iis), not the solve's options."""
    families, phrases = CASES[name]
    diagnosis = _error(name, program).diagnosis
    assert diagnosis.method == "iis"
    assert {c.family for c in diagnosis.conflicts if c.is_limit} == families
    for phrase in phrases:
        assert phrase in diagnosis.headline()


def test_velocity_and_floor_conflict_in_one_pre_acceleration_period() -> None:
    conflicts = _error("velocity_vs_safety_floor").diagnosis.conflicts
    assert len({c.period for c in conflicts}) == 1
    floor = next(c for c in conflicts if c.family == "safety_floor_limit")
    assert floor.resource == "compute"
    assert floor.period < "2026Q1"  # the 5% cap holds before the acceleration (2026Q1)
    assert {c.resource for c in conflicts if c.family == "budget_limit"} == {"compute", "staff"}


def test_floor_beyond_staff_names_the_staff_budget_of_the_same_period() -> None:
    conflicts = _error("floor_beyond_staff").diagnosis.conflicts
    budget = next(c for c in conflicts if c.family == "budget_limit")
    floor = next(c for c in conflicts if c.family == "safety_floor_limit")
    assert (budget.resource, budget.period) == ("staff", floor.period)


def test_infeasible_error_is_a_solver_error_with_status_infeasible() -> None:
    error = _error("velocity_vs_safety_floor")
    assert isinstance(error, SolverError)
    assert error.status == "infeasible"
    assert str(error).startswith("infeasible: ")
    assert "velocity-hit cap" in str(error)


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("velocity_vs_safety_floor", "safety_floor_limit"),
        ("floor_beyond_staff", "safety_floor_limit"),
    ],
)
def test_elastic_fallback_names_a_rule_that_must_give(name: str, family: str) -> None:
    scenario = load_scenario(HERE / f"{name}.yaml")
    inp = prepare(scenario)
    diagnosis = diagnose(build_model(inp), inp, method="elastic")
    assert diagnosis.method == "elastic"
    assert diagnosis.conflicts
    assert all(c.is_limit for c in diagnosis.conflicts)
    relaxed = diagnosis.families()
    assert family in relaxed or "velocity_hit_limit" in relaxed
    assert "the least change that makes it feasible relaxes" in diagnosis.headline()


def test_elastic_reports_nothing_for_a_feasible_model(baseline) -> None:
    inp = prepare(baseline.with_updates({"horizon.end": "2025Q2"}))
    assert diagnose(build_model(inp), inp, method="elastic").conflicts == ()


def test_cli_prints_the_explanation_and_exits_1(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = CliRunner().invoke(
        app, ["solve", str(HERE / "floor_beyond_staff.yaml"), "--out", str(out)]
    )
    assert run.exit_code == 1
    assert "safety floor of 60% of compute" in run.output
    assert "safety_floor_limit[2029Q4,compute]" in run.output
    assert not out.exists()


def test_effort_caps_in_the_iis_are_named_as_max_effort(baseline) -> None:
    """Every intervention capped at 1 EU cannot absorb a 10% compute floor (velocity unconstrained):
    the IIS holds the floor and the effort bounds, reported as each intervention's max_effort."""
    capped = baseline.with_updates(
        {
            "velocity.hit_cap_pre_acceleration": 1.0,
            "velocity.hit_cap_post_acceleration": 1.0,
            "safety_floor_share": {"compute": 0.1},
            "intervention_overrides": {
                row.id: {"max_effort": 1.0} for row in baseline.interventions()
            },
        }
    )
    with pytest.raises(InfeasibleError) as caught:
        solve(capped)
    diagnosis = caught.value.diagnosis
    assert diagnosis.families() == {"safety_floor_limit", "max_effort"}
    caps = [c for c in diagnosis.conflicts if c.family == "max_effort"]
    assert {c.activity for c in caps} == {row.id for row in baseline.interventions()}
    assert all(c.phrase.startswith("max_effort 1 EU on ") for c in caps)
    assert "conflicts with the max_effort 1 EU on" in diagnosis.headline()


def test_staff_rules_are_told_in_the_scenario_words(baseline) -> None:
    inp = prepare(baseline)
    m = build_model(inp)
    moved = describe(m, inp, "staff_reassignment", "2025Q2", 40.0)
    assert (moved.period, moved.resource, moved.is_limit) == ("2025Q2", "staff", True)
    assert moved.phrase.startswith("staff re-assignment limit 40 FTE (25% of staff per year")
    stock = describe(m, inp, "stock_balance", ("2025Q2", "control_evals"), 0.0)
    assert (stock.activity, stock.is_limit) == ("control_evals", False)
    scalar = describe(m, inp, "some_scalar_row", None, 1.0)
    assert (scalar.constraint, scalar.period, scalar.is_limit) == ("some_scalar_row", None, False)
    headline = Diagnosis("s", "iis", (moved, stock)).headline()
    assert (
        headline
        == "2025Q2: staff re-assignment limit 40 FTE (25% of staff per year plus new hires) cannot be met"
    )


def test_errors_survive_pickling_across_processes() -> None:
    error = _error("floor_beyond_staff")
    again = pickle.loads(pickle.dumps(error))
    assert isinstance(again, InfeasibleError)
    assert again.diagnosis == error.diagnosis
    assert str(again) == str(error)
    plain = pickle.loads(pickle.dumps(SolverError("time_limit", "stopped")))
    assert (plain.status, str(plain)) == ("time_limit", "time_limit: stopped")


def test_a_toy_family_is_diagnosed_in_its_own_words(core) -> None:
    """A 10% compute floor cannot hold under the toy cap of 1% of compute on safety: the IIS
    holds the floor and the toy row, told by the toy's own phrase, ranked after the floor."""
    inp = prepare(core.with_updates({"safety_floor_share": {"compute": 0.1}}))
    m = build_model(inp, families=(*FAMILIES, TOY))
    solved = run_highs(m)
    assert solved.status == "infeasible"
    diagnosis = diagnose(m, inp, solved.runner)
    assert diagnosis.method == "iis"
    # the IIS is computed on a copy: the solving instance keeps the solve's options
    assert solved.runner.held("dual_feasibility_tolerance") == DUAL_TOLERANCE
    assert solved.runner.solve(m).status == "infeasible"
    toy = [c for c in diagnosis.conflicts if c.family == "safety_compute_cap"]
    assert toy
    assert all(c.rank == TOY_RANK and c.resource == "compute" for c in toy)
    assert toy[0].phrase.startswith("toy safety compute cap ")
    assert "safety floor of 10% of compute" in diagnosis.headline()
    assert "conflicts with the toy safety compute cap" in diagnosis.headline()
    relaxed = diagnose(m, inp, method="elastic")
    assert relaxed.families() & {"safety_compute_cap", "safety_floor_limit"}
