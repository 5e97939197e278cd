"""The command line: exit codes 0 (ok), 1 (infeasible or solver failure), 2 (bad input)."""

from __future__ import annotations

import os

import yaml
from typer.testing import CliRunner

from allocopt.cli import app
from tests.conftest import BASELINE, ROOT

runner = CliRunner()


def test_solve_without_argument_solves_the_baseline(tmp_path):
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        out = tmp_path / "out"
        result = runner.invoke(app, ["solve", "--out", str(out)])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert "magma_baseline: optimal" in result.output
    assert {p.name for p in out.iterdir()} >= {"allocation.csv", "knobs.csv", "risk.csv"}


def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            {
                "extends": str(BASELINE),
                "name": "bad",
                "velocity": {"hit_cap_post_acceleration": "lots"},
            }
        )
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", str(bad), "--out", str(out)])
    assert result.exit_code == 2
    assert "velocity.hit_cap_post_acceleration" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_missing_file_exits_2(tmp_path):
    result = runner.invoke(app, ["solve", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "scenario file not found" in result.output


def test_infeasible_scenario_exits_1_and_says_so(tmp_path):
    # A safety floor of 50% of compute cannot coexist with a 5% velocity-hit cap.
    bad = tmp_path / "floor.yaml"
    bad.write_text(
        yaml.safe_dump(
            {"extends": str(BASELINE), "name": "floor", "safety_floor_share": {"compute": 0.5}}
        )
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", str(bad), "--out", str(out)])
    assert result.exit_code == 1
    assert "infeasible" in result.output
    assert not out.exists()


def test_validate_reports_ok_and_problems(tmp_path):
    ok = runner.invoke(app, ["validate", str(BASELINE)])
    assert ok.exit_code == 0
    assert "ok (20 periods, 15 interventions)" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\n")
    result = runner.invoke(app, ["validate", str(BASELINE), str(bad)])
    assert result.exit_code == 2
    assert "data: Field required" in result.output
