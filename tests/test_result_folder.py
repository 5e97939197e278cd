"""The folder ``allocopt solve`` writes is a saved result: ``report --from-result``, ``compare
--from-result`` and ``allocopt.load_result`` read it without solving the optimum again."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import allocopt
from allocopt.analyses import policies
from allocopt.cli import app
from allocopt.optimize import pipeline
from allocopt.results.names import unit
from tests.conftest import BASELINE

runner = CliRunner()


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    """The folder of ``allocopt solve`` on the baseline with a command-line override."""
    folder = tmp_path_factory.mktemp("solve") / "base"
    args = ["solve", str(BASELINE), "--out", str(folder)]
    args += ["--set", "velocity.hit_cap_post_acceleration=0.2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def no_solver(monkeypatch):
    """Any solve of the optimum fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("solved again")

    monkeypatch.setattr(pipeline, "solve", refuse)
    monkeypatch.setattr(allocopt, "solve", refuse)


def test_solve_writes_the_scenario_versions_and_tables_beside_the_csv(solved):
    names = {p.name for p in solved.iterdir()}
    assert {"scenario.yaml", "versions.json", "result.json", "allocation.csv"} <= names
    assert {"allocation.parquet", "knobs.parquet"} <= names
    scenario = yaml.safe_load((solved / "scenario.yaml").read_text(encoding="utf-8"))
    assert scenario["velocity"]["hit_cap_post_acceleration"] == 0.2  # the override, resolved
    assert set(json.loads((solved / "versions.json").read_text())) == {
        "allocopt",
        "pyomo",
        "highspy",
    }


def test_load_result_reads_the_solve_folder_without_solving(solved, no_solver):
    result = allocopt.load_result(solved)
    assert result.scenario.velocity.hit_cap_post_acceleration == 0.2
    assert result.is_local_optimum
    csv = pd.read_csv(solved / "knobs.csv")
    assert result.knobs.velocity_hit.to_numpy() == pytest.approx(csv.velocity_hit.to_numpy())


def test_report_from_the_solve_folder_does_not_solve(solved, no_solver, tmp_path):
    out = tmp_path / "report"
    result = runner.invoke(app, ["report", "--from-result", str(solved), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "index.html").exists()
    assert "magma_baseline: locally optimal" in result.output


def test_compare_from_the_solve_folder_does_not_solve_the_optimum_again(
    solved, baseline_result, monkeypatch, tmp_path
):
    asked = []

    def record(model, allow_nonoptimal=False):  # 'never slow down' is the only program solved
        asked.append(model.scenario)
        return baseline_result

    monkeypatch.setattr(policies.Model, "solve", record)
    out = tmp_path / "compare.csv"
    args = ["compare", "--from-result", str(solved), "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(asked) == 1
    velocity = asked[0].velocity
    assert velocity.hit_cap_post_acceleration == velocity.hit_cap_pre_acceleration
    table = pd.read_csv(out)
    saved = allocopt.load_result(solved)
    optimum = table.set_index("policy").loc["optimum", "risk_reduction"]
    assert optimum == pytest.approx(saved.summary["risk_reduction_exact"], rel=1e-9)
    # compare_units.csv beside it gives every numeric column its unit, as a result's units.csv
    units = pd.read_csv(tmp_path / "compare_units.csv")
    assert list(units.columns) == ["table", "column", "unit"]
    assert set(units.table) == {"compare"}
    assert list(units.column) == list(table.select_dtypes("number").columns)
    by_column = units.set_index("column").unit
    assert by_column["risk_reduction"] == unit("risk_reduction_exact")


def test_compare_from_result_refuses_set(solved):
    args = ["compare", "--from-result", str(solved), "--set", "risk.cuts=8"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "with --from-result the saved one is used" in result.output
