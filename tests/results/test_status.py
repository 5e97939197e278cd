"""Every way a solve can end has its own status; nothing but a checked optimum passes as optimal."""

from __future__ import annotations

import dataclasses
import functools
import importlib
from pathlib import Path

import highspy
import pandas as pd
import pyomo.environ as pyo
import pytest
from typer.testing import CliRunner

from allocopt import Model, Scenario, SolverError, Status, solve
from allocopt.cli import app
from allocopt.model import build_model
from allocopt.numeric.inputs import prepare
from allocopt.optimize import finish
from allocopt.optimize.highs.model_status import classify
from allocopt.optimize.highs.runner import run_highs
from allocopt.results.wide import status_marker
from tests.conftest import BASELINE

solve_module = importlib.import_module(
    "allocopt.optimize.pipeline"
)  # the module; allocopt.solve is the function


@pytest.fixture(scope="module")
def core(baseline: Scenario) -> Scenario:
    """The baseline's core program: one LP on the fixed reference trajectory."""
    return baseline.with_updates({"capability": {}})


@pytest.fixture(scope="module")
def short(core: Scenario) -> Scenario:
    """Two pre-acceleration quarters: solves in a blink."""
    return core.with_updates({"horizon.end": "2025Q2"})


# The status of every HiGHS model status, each stated here (not left to a fallback), so that a
# status HiGHS adds, or a mapping that changes, fails test_every_highs_status_is_mapped.
HIGHS_STATUSES: dict[str, Status] = {
    "kOptimal": Status.OPTIMAL,
    "kInfeasible": Status.INFEASIBLE,
    "kUnbounded": Status.UNBOUNDED,
    "kUnboundedOrInfeasible": Status.INFEASIBLE_OR_UNBOUNDED,
    "kTimeLimit": Status.TIME_LIMIT,
    "kIterationLimit": Status.ITERATION_LIMIT,
    "kSolutionLimit": Status.ITERATION_LIMIT,  # a MIP solution-count limit: stopped early
    "kSolveError": Status.NUMERICAL_TROUBLE,
    "kPostsolveError": Status.NUMERICAL_TROUBLE,
    "kUnknown": Status.NUMERICAL_TROUBLE,
    # HiGHS refused the model, never ran, was stopped from outside, or stopped at an objective
    # bound or target allocopt never sets: no answer to report
    "kNotset": Status.SOLVER_ERROR,
    "kLoadError": Status.SOLVER_ERROR,
    "kModelError": Status.SOLVER_ERROR,
    "kPresolveError": Status.SOLVER_ERROR,
    "kModelEmpty": Status.SOLVER_ERROR,
    "kObjectiveBound": Status.SOLVER_ERROR,
    "kObjectiveTarget": Status.SOLVER_ERROR,
    "kInterrupt": Status.SOLVER_ERROR,
    "kHighsInterrupt": Status.SOLVER_ERROR,
    "kMemoryLimit": Status.SOLVER_ERROR,
}


@pytest.mark.parametrize(("name", "status"), HIGHS_STATUSES.items())
def test_classify_highs_statuses(name: str, status: Status) -> None:
    assert classify(highspy.HighsModelStatus.__members__[name]) is status


def test_every_highs_status_is_mapped() -> None:
    assert set(highspy.HighsModelStatus.__members__) == set(HIGHS_STATUSES)
    assert [s for s in Status if s.is_optimal] == [Status.OPTIMAL]
    assert [s for s in Status if s.is_local_optimum] == [Status.OPTIMAL, Status.LOCALLY_OPTIMAL]


def test_optimal_result_is_unmarked(short: Scenario) -> None:
    result = solve(short)
    assert result.status is Status.OPTIMAL
    assert result.is_optimal
    assert result.status_note() == ""
    assert "NOT OPTIMAL" not in result.text_summary()
    assert "relative_gap" not in result.summary
    assert "status" not in result.summary  # held once, in Result.status


def test_time_limit_without_a_solution_raises_even_when_allowed(short: Scenario) -> None:
    limited = short.with_updates({"solver.time_limit_seconds": 1e-9})
    for allow in (False, True):
        with pytest.raises(SolverError) as caught:
            solve(limited, allow_nonoptimal=allow)
        assert caught.value.status == Status.TIME_LIMIT


def _feasible_but_stopped(scenario: Scenario) -> dict:
    """HiGHS options that stop primal simplex after phase 1 with a feasible, non-optimal point."""
    inp = prepare(scenario)
    for limit in (1500, 2000, 3000, 5000):
        options = {"simplex_iteration_limit": limit, "presolve": "off", "simplex_strategy": 4}
        solved = run_highs(build_model(inp), options=options)
        if solved.status is Status.ITERATION_LIMIT and solved.objective is not None:
            return options
    raise AssertionError("no iteration limit gave a feasible, non-optimal point")


def test_nonoptimal_solution_is_refused_by_default_and_marked_when_allowed(
    core: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = _feasible_but_stopped(core)
    best = solve(core).objective_model
    monkeypatch.setattr(solve_module, "run_highs", functools.partial(run_highs, options=options))
    with pytest.raises(SolverError) as caught:
        solve(core)
    assert caught.value.status == Status.ITERATION_LIMIT
    result = solve(core, allow_nonoptimal=True)
    assert result.status is Status.ITERATION_LIMIT
    assert not result.is_optimal
    assert result.violations == ()  # a feasible point, merely not the best
    assert result.objective_model < best
    assert result.text_summary().splitlines()[0].endswith("NOT OPTIMAL (iteration_limit)")
    assert "relative_gap" in result.summary


def test_optimum_failing_the_exact_check_is_marked_check_failed(
    short: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    _violate(monkeypatch)
    with pytest.raises(SolverError) as caught:
        solve(short)
    assert caught.value.status == Status.CHECK_FAILED
    assert "exact check" in str(caught.value)
    result = solve(short, allow_nonoptimal=True)
    assert result.status is Status.CHECK_FAILED
    assert "NOT OPTIMAL (check_failed" in result.text_summary()


VIOLATION = "2025Q1: compute used 2 exceeds the budget 1"


def test_a_local_optimum_is_returned_unasked_unmarked_and_checked(
    short: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``locally_optimal`` (a converged outer loop) passes without allow_nonoptimal and shows no
    NOT OPTIMAL mark, but is never ``is_optimal``; the exact check turns it into check_failed
    like a proven optimum."""
    inp, schedule = prepare(short), solve(short).schedule

    def result(**kwargs):
        return finish.to_result(inp, short, schedule, Status.LOCALLY_OPTIMAL, 0.1, {}, **kwargs)

    local = result(allow_nonoptimal=False)
    assert local.status is Status.LOCALLY_OPTIMAL
    assert local.is_local_optimum
    assert not local.is_optimal
    assert local.status_note() == ""
    assert status_marker(local) == ""
    assert "NOT OPTIMAL" not in local.text_summary()
    assert "locally optimal (" in local.text_summary().splitlines()[0]
    assert "relative_gap" in local.summary  # no bound proven
    _violate(monkeypatch)
    with pytest.raises(SolverError) as caught:
        result(allow_nonoptimal=False)
    assert caught.value.status == Status.CHECK_FAILED
    assert result().text_summary().splitlines()[0].endswith("NOT OPTIMAL (check_failed)")


def _violate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the exact check find one violation in every schedule it is given."""
    original = finish.evaluate

    def evaluate_with_a_violation(inp, schedule, families):
        return dataclasses.replace(original(inp, schedule, families), violations=(VIOLATION,))

    monkeypatch.setattr(finish, "evaluate", evaluate_with_a_violation)


def test_warm_re_solve_failing_the_exact_check_is_check_failed_as_a_cold_solve(
    short: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Model.update + Model.solve goes through the same check as solve(): same status, same
    refusal, same violations."""
    model = Model(short)
    assert model.solve().is_optimal  # unpatched: a checked optimum
    change = {"velocity.hit_cap_pre_acceleration": 0.04}
    assert model.update(change) == "in_place"
    _violate(monkeypatch)
    with pytest.raises(SolverError) as warm_error:
        model.solve()
    with pytest.raises(SolverError) as cold_error:
        solve(short.with_updates(change))
    assert warm_error.value.status == cold_error.value.status == Status.CHECK_FAILED
    warm = model.solve(allow_nonoptimal=True)
    cold = solve(short.with_updates(change), allow_nonoptimal=True)
    assert warm.status is cold.status is Status.CHECK_FAILED
    assert warm.violations == cold.violations == (VIOLATION,)
    assert "NOT OPTIMAL (check_failed" in warm.text_summary()


def test_cli_time_limit_fails_cleanly_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = CliRunner().invoke(
        app, ["solve", str(BASELINE), "--out", str(out), "--time-limit", "1e-9"]
    )
    assert run.exit_code == 1
    assert "time_limit" in run.output
    assert not out.exists()


def test_cli_rejects_a_bad_time_limit(tmp_path: Path) -> None:
    run = CliRunner().invoke(app, ["solve", str(BASELINE), "--time-limit", "-1"])
    assert run.exit_code == 2
    assert "time_limit_seconds" in run.output


def test_failed_write_leaves_no_folder(
    short: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = solve(short)
    real = pd.DataFrame.to_csv
    calls = []

    def flaky(self, path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", flaky)
    with pytest.raises(OSError, match="No space"):
        result.to_csv(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("row", "status", "has_point"),
    [
        (lambda m: m.x - m.y <= 1, Status.UNBOUNDED, True),
        (lambda m: m.x + m.y <= -1, Status.INFEASIBLE, False),
    ],
)
def test_run_highs_reports_unbounded_and_infeasible_models(row, status, has_point) -> None:
    """Two-variable LPs (maximize x + y, x, y >= 0) that HiGHS cannot optimize."""
    m = pyo.ConcreteModel(name="two")
    m.x = pyo.Var(domain=pyo.NonNegativeReals)
    m.y = pyo.Var(domain=pyo.NonNegativeReals)
    m.c = pyo.Constraint(expr=row(m))
    m.objective = pyo.Objective(expr=m.x + m.y, sense=pyo.maximize)
    solved = run_highs(m)
    assert solved.status is status
    assert (solved.objective is not None) == has_point
    assert solved.bound is None


def test_cli_refuses_an_output_path_that_is_a_file(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("keep me", encoding="utf-8")
    short = ["solve", str(BASELINE), "--out", str(taken)]
    run = CliRunner().invoke(app, short)
    assert run.exit_code == 2
    assert "cannot write the result tables" in run.output
    assert taken.read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]  # no staging folder left


def test_an_outer_loop_that_does_not_converge_is_refused_by_default_and_marked(
    baseline: Scenario,
) -> None:
    stopped = baseline.with_updates({"horizon.end": "2026Q2", "capability.slp.max_iterations": 1})
    with pytest.raises(SolverError) as caught:
        solve(stopped)
    assert caught.value.status == Status.NOT_CONVERGED
    result = solve(stopped, allow_nonoptimal=True)
    assert result.status is Status.NOT_CONVERGED
    assert result.text_summary().splitlines()[0].endswith("NOT OPTIMAL (not_converged)")
    assert len(result.iterations) == 1
