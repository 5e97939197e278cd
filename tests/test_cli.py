"""The command line: exit codes 0 (ok), 1 (infeasible or solver failure), 2 (bad input)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from allocopt.analyses.runner import SchedulerUnreachable
from allocopt.cli import Doing, app, explain
from allocopt.cli.solving import default_folder
from allocopt.errors import ScenarioError, SolverError
from allocopt.optimize.outer import Iteration
from allocopt.results.files import MANIFEST
from allocopt.results.names import HAZARD_UNIT
from allocopt.run import OuterLine, run_scenario
from tests.conftest import BASELINE, CORE, ROOT, files_below, manifest_files

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
    assert "magma_baseline: locally optimal (" in result.output  # exit 0: a local optimum
    assert "NOT OPTIMAL" not in result.output
    assert {p.name for p in out.iterdir()} >= {"allocation.csv", "knobs.csv", "risk.csv"}


def test_solve_from_several_starts_shows_the_loop_and_writes_the_starts(tmp_path):
    out = tmp_path / "out"
    short = ["--set", "horizon.end=2026Q2", "--out", str(out)]
    result = runner.invoke(app, ["solve", str(BASELINE), *short, "--starts", "2"])
    assert result.exit_code == 0, result.output
    assert "2 starts of the outer loop: best " in result.output
    assert "outer loop: " in result.output  # the live line (stderr)
    assert "start essay_rule, iteration 0: exact " in result.output
    starts = pd.read_csv(out / "starts.csv")
    assert starts.start.tolist() == ["full_speed", "essay_rule"]
    # the starts have their units: each numeric column of starts.csv in units.csv, and the
    # summary's multi-start rows (a count; the gain and the spread relative, as the text says)
    units = pd.read_csv(out / "units.csv", keep_default_na=False)
    listed = units[units.table == "starts"].set_index("column").unit
    numeric = {c for c in starts.columns if pd.api.types.is_numeric_dtype(starts[c])}
    assert numeric == {"risk_reduction_exact", "risk_reduction_model", "iterations", "chosen"}
    assert numeric <= set(listed.index)
    assert (listed != "").all()
    assert listed["risk_reduction_exact"] == HAZARD_UNIT
    summary = pd.read_csv(out / "summary.csv", keep_default_na=False).set_index("key")
    numbers = summary[summary.text == ""]  # the numeric rows
    assert (numbers.unit != "").all(), list(numbers.index[numbers.unit == ""])
    assert summary.unit["starts"] == "count"
    for key in ("best_start_gain", "starts_spread"):
        assert summary.unit[key].startswith("share of the "), key
    quiet = runner.invoke(app, ["--quiet", "solve", str(BASELINE), *short, "--starts", "1"])
    assert quiet.exit_code == 0, quiet.output
    assert "outer loop: " not in quiet.output  # --quiet: no progress line
    assert "starts of the outer loop" not in quiet.output


def test_the_outer_line_shows_seconds_per_iteration_once_timed_never_a_rate(capsys):
    """tqdm's rate of the first, empty update (thousands of iterations per second) is not shown;
    seconds per iteration are, from the second iteration on."""
    it = Iteration(0, 0.1, 1.0, 1.0, 0.01, 0.0, 0, 0, True)
    with OuterLine() as line:
        line("full_speed", it)
        first = capsys.readouterr().err
        time.sleep(0.02)
        line("full_speed", dataclasses.replace(it, iteration=1))
        second = capsys.readouterr().err.split("\r")[-1]
    assert "outer loop: 1 iterations" in first
    assert "/s" not in first + second
    assert "s/iteration" not in first
    pace = re.search(r"2 iterations \[00:00, (\d+\.\d+) s/iteration, start full_speed", second)
    assert pace is not None, second
    assert float(pace.group(1)) >= 0.02


def test_starts_are_refused_for_a_tree_before_solving():
    from allocopt import load_scenario

    with pytest.raises(ScenarioError, match="starts apply to a plain solve"):
        run_scenario(load_scenario(ROOT / "models/magma_tree.yaml"), starts=2)


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


OUTCOMES_YAML = ROOT / "models" / "magma_outcomes.yaml"
# each writing command, its arguments before --out, the name of --out's target inside the plain
# file (compare's --out is a CSV file, so its folder is the plain file), and the API call that
# would solve (which must not run)
WRITERS = {
    "solve": ([str(CORE)], "", "allocopt.run.solve"),
    "sweep": (
        [str(CORE), "--param", "risk.cuts=8:8:1", "--workers", "1"],
        "",
        "allocopt.analyses.sweep.sweep",
    ),
    "compare": ([str(CORE)], "table.csv", "allocopt.analyses.policies.compare"),
    "outcomes": (
        [str(OUTCOMES_YAML), "--plausibility", "0:0:1", "--lag", "0:0:1", "--workers", "1"],
        "",
        "allocopt.analyses.outcomes.outcome_map",
    ),
    "report": ([str(CORE)], "", "allocopt.optimize.pipeline.solve"),
}


def test_outcomes_says_how_many_points_chose_each_outcome_in_words(tmp_path):
    args, _, _ = WRITERS["outcomes"]
    result = runner.invoke(app, ["--quiet", "outcomes", *args, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert re.fullmatch(rf"1 point \([a-z_]+ 1\) written to {tmp_path}/", last), last


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_out_in_a_plain_file_exits_2_with_one_line_before_solving(tmp_path, monkeypatch, command):
    args, inside, solver = WRITERS[command]

    def must_not_solve(*args, **kwargs):
        raise AssertionError(f"{command} solved before checking --out")

    monkeypatch.setattr(solver, must_not_solve)
    taken = tmp_path / "taken"
    taken.write_text("keep me", encoding="utf-8")
    out = taken / inside if inside else taken
    result = runner.invoke(app, [command, *args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [result.output.strip()]  # one line
    assert result.output.startswith(f"error: {out}: cannot write ")
    assert "Traceback" not in result.output
    assert taken.read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


FOLDERS = sorted(c for c, (_, inside, _) in WRITERS.items() if not inside)  # compare: a file


@pytest.mark.parametrize("command", FOLDERS)
def test_a_reused_folder_holds_only_what_the_command_wrote(tmp_path, command):
    """Every command that writes a folder, into one another run wrote (its manifest listing a
    Monte Carlo table and a figure in a subfolder) holding a file of the user's: the other run's
    files are gone, the user's stays with a warning naming it, and the new manifest names the
    scenario and exactly the files the command wrote."""
    args, _, _ = WRITERS[command]
    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)
    stale = ["montecarlo_samples.csv", "figures/montecarlo_fan.png"]
    for name in [*stale, "notes.txt"]:
        (out / name).write_text("another run", encoding="utf-8")
    other = {"format": "allocopt-run", "scenario": "another", "files": stale}
    (out / MANIFEST).write_text(json.dumps(other), encoding="utf-8")
    result = runner.invoke(app, [command, *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    present = files_below(out)
    assert not set(stale) & set(present)
    assert "notes.txt" in present
    assert "notes.txt" in result.output
    listed = manifest_files(out)
    assert listed == sorted(set(present) - {MANIFEST, "notes.txt"})
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["scenario"] == yaml.safe_load(Path(args[0]).read_text())["name"]
    again = runner.invoke(app, [command, *args, "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert manifest_files(out) == listed  # the same files, none left over


def test_run_scenario_writes_what_the_cli_writes(tmp_path):
    from allocopt import load_scenario

    run = run_scenario(load_scenario(CORE))  # no folder: nothing written
    assert run.solved.status == "optimal"
    assert (run.monte_carlo, run.outcome) == (None, None)
    api, cli = tmp_path / "api", tmp_path / "cli"
    run.write(api)
    result = runner.invoke(app, ["solve", str(CORE), "--out", str(cli)])
    assert result.exit_code == 0, result.output
    summary = [line for line in run.solved.text_summary().splitlines() if "time:" not in line]
    assert summary == result.output.splitlines()[: len(summary)]
    assert sorted(p.name for p in api.iterdir()) == sorted(p.name for p in cli.iterdir())
    assert (api / "allocation.csv").read_bytes() == (cli / "allocation.csv").read_bytes()


@pytest.mark.parametrize(
    ("error", "doing", "code", "lines"),
    [
        (ScenarioError(["a: bad", "b: worse"]), Doing(Path("s.yaml")), 2, ["a: bad", "b: worse"]),
        (
            SolverError("time_limit", "stopped"),
            Doing(Path("s.yaml"), subject="an outcome"),
            1,
            ["s.yaml: an outcome could not be solved: time_limit: stopped"],
        ),
        (
            SchedulerUnreachable("tcp://h:1", OSError("timed out")),
            Doing(Path("s.yaml"), output=Path("o"), holding="the sweep table"),
            2,
            ["--scheduler tcp://h:1: cannot reach the Dask scheduler (timed out)"],
        ),
        (
            PermissionError(13, "Permission denied", "o/x.csv"),
            Doing(Path("s.yaml"), output=Path("o"), holding="the sweep table"),
            2,
            ["o: cannot write the sweep table (Permission denied)"],
        ),
    ],
)
def test_explain_maps_each_error_to_its_exit_code_and_lines(error, doing, code, lines):
    assert explain(error, doing) == (code, lines)


def test_a_changed_scenario_gets_a_folder_of_its_own(tmp_path, monkeypatch):
    # --set / --override without --out never overwrite the folder of the scenario as written
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    plain = runner.invoke(app, ["-q", "solve", str(CORE)])
    changed = runner.invoke(
        app, ["-q", "solve", str(CORE), "--set", "velocity.hit_cap_post_acceleration=0.3"]
    )
    assert plain.exit_code == changed.exit_code == 0, plain.output + changed.output
    written = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert written == ["magma_core", "magma_core__velocity.hit_cap_post_acceleration=0.3"]
    assert "results/magma_core__velocity.hit_cap_post_acceleration=0.3/" in changed.output
    # the summary says what was changed, under its title
    assert changed.output.splitlines()[1] == "  changed: velocity.hit_cap_post_acceleration=0.3"
    assert "changed:" not in plain.output
    long = default_folder("s", [f"a.b{k}=1/2" for k in range(20)], ["x,y"])
    assert long.name.startswith("s__x+y+a.b0=1_2+")
    assert len(long.name) == len("s__") + 60 + 9


def test_a_report_from_a_result_goes_beside_it_never_over_it(tmp_path):
    runner = CliRunner()
    saved = tmp_path / "b"
    assert runner.invoke(app, ["-q", "solve", str(CORE), "--out", str(saved)]).exit_code == 0
    before = sorted(p.name for p in saved.iterdir())
    over = runner.invoke(app, ["-q", "report", "--from-result", str(saved), "--out", str(saved)])
    assert over.exit_code == 2, over.output
    assert "is the folder --from-result reads" in over.output
    assert sorted(p.name for p in saved.iterdir()) == before  # untouched
    beside = runner.invoke(app, ["-q", "report", "--from-result", str(saved)])
    assert beside.exit_code == 0, beside.output
    assert (tmp_path / "b_report" / "index.html").is_file()
    assert "  time of the saved solve: " in beside.output  # not a solve of its own
    assert "  time: " not in beside.output
    # the report's folder is not itself a saved result; the error says where its result is
    again = runner.invoke(app, ["-q", "compare", "--from-result", str(tmp_path / "b_report")])
    assert again.exit_code == 2, again.output
    assert f"a report's result is in {tmp_path / 'b_report' / 'result'}" in again.output


def test_an_unreachable_cluster_fails_a_monte_carlo_run_before_the_solve(monkeypatch):
    # the samples' executor is opened first, so --scheduler's problem comes before the outer loop
    from contextlib import contextmanager

    import allocopt.run
    from allocopt import load_scenario

    @contextmanager
    def unreachable(workers, scheduler):
        raise SchedulerUnreachable(scheduler, OSError("timed out"))
        yield

    def never(*args, **kwargs):
        raise AssertionError("solved before the scheduler was reached")

    monkeypatch.setattr(allocopt.run, "executor", unreachable)
    monkeypatch.setattr(allocopt.run, "solve", never)
    scenario = load_scenario(ROOT / "models" / "magma_montecarlo.yaml")
    with pytest.raises(SchedulerUnreachable):
        run_scenario(scenario, scheduler="tcp://127.0.0.1:9")
