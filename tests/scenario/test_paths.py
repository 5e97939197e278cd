"""Scenario files: safe YAML only, and the files they name stay inside the project unless allowed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from allocopt import ScenarioError, load_scenario
from allocopt.cli import app
from allocopt.scenario.load import project_root
from tests.conftest import ROOT
from tests.projects import copy_project

TABLES = ("interventions", "budgets", "acceleration", "hazards")  # as the baseline names them


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path, **kwargs) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, **kwargs)
    return caught.value.problems


def test_project_root_is_the_folder_holding_models(tmp_path: Path) -> None:
    assert project_root(ROOT / "models" / "magma_baseline.yaml") == ROOT
    assert project_root(ROOT / "tests" / "infeasible" / "frozen_headcount.yaml") == ROOT
    lone = _write(tmp_path / "lone.yaml", "name: x\n")
    assert project_root(lone) == tmp_path.resolve()


def test_data_outside_the_project_is_refused_unless_allowed(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    project = copy_project(tmp_path)
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    for table in ("budgets", "hazards"):
        shutil.copy(tmp_path / "data" / f"{table}.csv", elsewhere)
    scenario = _write(
        project.parent / "outside.yaml",
        "extends: magma_baseline.yaml\nname: outside\n"
        f"data:\n  budgets: {elsewhere / 'budgets.csv'}\n  hazards: {elsewhere / 'hazards.csv'}\n",
    )
    problems = _problems(scenario)
    assert len(problems) == 2  # every escaping path at once
    assert all("outside the project" in p and "--allow-path" in p for p in problems)
    assert any("data.budgets" in p for p in problems)
    assert load_scenario(scenario, allow=[elsewhere]).name == "outside"


def test_extends_outside_the_project_is_refused_unless_allowed(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # not run from a project: only the scenario's own project
    other = tmp_path_factory.mktemp("other")
    baseline = copy_project(other)  # another project's scenario (allocopt's own are allowed)
    mine = tmp_path / "mine"
    (mine / "models").mkdir(parents=True)
    scenario = _write(mine / "models" / "s.yaml", f"extends: {baseline}\nname: s\n")
    (problem,) = _problems(scenario)
    assert "extends" in problem
    assert "outside the project" in problem
    assert load_scenario(scenario, allow=[other]).name == "s"
    run = CliRunner().invoke(app, ["validate", str(scenario)])
    assert run.exit_code == 2
    run = CliRunner().invoke(app, ["validate", str(scenario), "--allow-path", str(other)])
    assert run.exit_code == 0, run.output


def test_a_scenario_anywhere_may_extend_allocopt_s_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """allocopt's own models/ and data/ are always readable: a scenario of one's own outside any
    project extends the bundled baseline (by an absolute path or one relative to the file) and
    names a bundled table, without --allow-path; the tables the baseline names resolve relative
    to the baseline."""
    monkeypatch.chdir(tmp_path)  # run from outside any project
    baseline = ROOT / "models" / "magma_baseline.yaml"
    relative = os.path.relpath(baseline, tmp_path)
    for extends in (baseline, relative):
        scenario = _write(
            tmp_path / "mine.yaml",
            f"extends: {extends}\nname: mine\nvelocity:\n  hit_cap_post_acceleration: 0.3\n"
            f"data:\n  budgets: {ROOT / 'data' / 'budgets.csv'}\n",
        )
        loaded = load_scenario(scenario)
        assert (loaded.name, loaded.velocity.hit_cap_post_acceleration) == ("mine", 0.3)
        assert loaded.data.hazards == ROOT / "data" / "hazards.csv"
        run = CliRunner().invoke(app, ["validate", str(scenario)])
        assert run.exit_code == 0, run.output


def test_the_project_run_from_is_trusted(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scratch scenario may extend a project's scenario when allocopt runs from that project."""
    project = tmp_path_factory.mktemp("project")
    baseline = copy_project(project)
    scenario = _write(tmp_path / "s.yaml", f"extends: {baseline}\nname: s\n")
    monkeypatch.chdir(project / "data")
    assert load_scenario(scenario).name == "s"
    monkeypatch.chdir(tmp_path)
    (problem,) = _problems(scenario)
    assert "outside the project" in problem


def test_a_symlink_out_of_the_project_is_caught(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    project = copy_project(tmp_path)
    outside = tmp_path_factory.mktemp("outside") / "budgets.csv"
    link = tmp_path / "data" / "budgets.csv"
    shutil.copy(link, outside)
    link.unlink()
    link.symlink_to(outside)
    (problem,) = _problems(project)
    assert "data.budgets" in problem


def test_yaml_tags_that_run_code_are_refused(tmp_path: Path) -> None:
    evil = _write(tmp_path / "evil.yaml", "name: !!python/object/apply:os.getcwd []\n")
    (problem,) = _problems(evil)
    assert "malformed YAML" in problem


def test_repeated_keys_are_reported_each(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    text = project.read_text(encoding="utf-8")
    text += "name: again\nstaff:\n  growth_max_per_year: 1\n  growth_max_per_year: 2\n"
    problems = _problems(_write(project, text))
    assert any("key 'name' repeated" in p for p in problems)
    assert any("key 'growth_max_per_year' repeated" in p for p in problems)
    assert any("key 'staff' repeated" in p for p in problems)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("hit_cap_pre_acceleration: true", "velocity.hit_cap_pre_acceleration"),
        ("hit_cap_pre_acceleration: '0.05'", "velocity.hit_cap_pre_acceleration"),
        ("hit_cap_pre_acceleration: .nan", "velocity.hit_cap_pre_acceleration"),
        ("acceleration_threshold: .inf", "velocity.acceleration_threshold"),
    ],
)
def test_numbers_in_yaml_must_be_finite_numbers(tmp_path: Path, line: str, field: str) -> None:
    project = copy_project(tmp_path)
    scenario = _write(
        project.parent / "typed.yaml",
        f"extends: magma_baseline.yaml\nname: typed\nvelocity:\n  {line}\n",
    )
    (problem,) = _problems(scenario)
    assert field in problem


def test_all_table_problems_are_reported_at_once(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    data = tmp_path / "data"
    budgets = (data / "budgets.csv").read_text(encoding="utf-8").splitlines()
    budgets[1] = budgets[1].replace("112.1353", "-5")
    budgets[2] = budgets[2].replace("kH100e", "GPU")
    _write(data / "budgets.csv", "\n".join(budgets) + "\n")
    _write(data / "hazards.csv", "period,channel,hazard_per_year,source\n")
    problems = _problems(project)
    assert any("budgets.csv: line 2: value" in p for p in problems)
    assert any("budgets.csv: line 3" in p and "kH100e" in p for p in problems)
    assert any("hazards.csv: the table has no rows" in p for p in problems)
    assert all("\n" not in p for p in problems)


def test_budget_must_be_positive(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    data = tmp_path / "data" / "budgets.csv"
    _write(data, data.read_text(encoding="utf-8").replace("112.1353", "0", 1))
    (problem,) = _problems(project)
    assert "line 2: value: Input should be greater than 0" in problem


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    data = tmp_path / "data" / "budgets.csv"
    data.write_bytes(b"\xef\xbb\xbf" + data.read_bytes())
    assert load_scenario(project).name == "magma_baseline"


def test_period_labels_must_match_the_horizon_frequency(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    data = tmp_path / "data" / "acceleration.csv"
    _write(data, data.read_text(encoding="utf-8") + "2025Q9,2.0,a stray row with a bad label\n")
    (problem,) = _problems(project)
    assert "acceleration.csv: period label(s) 2025Q9 are not quarter labels" in problem


def test_a_copied_scenario_s_missing_tables_come_first_with_its_field_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scenario copied out of models/ names ../data/ tables that are not there: each is
    reported as missing (not as outside the project), with the way to allocopt's own table and
    the file's other problems in the same run."""
    monkeypatch.chdir(tmp_path)  # run from outside any project
    home = tmp_path.resolve()
    text = (ROOT / "models" / "magma_baseline.yaml").read_text(encoding="utf-8")
    typo = text.replace("  hit_cap_pre_acceleration:", "  hit_cap_pre_acceleraton:")
    (home / "my").mkdir()
    scenario = _write(home / "my" / "s.yaml", typo)
    *missing, field = _problems(scenario)
    assert "velocity.hit_cap_pre_acceleraton: unknown field; did you mean" in field
    assert [p.split(": ")[1] for p in missing] == [f"data.{t}" for t in TABLES]
    for table, problem in zip(TABLES, missing, strict=True):
        assert f"no such file (it resolves to {home / 'data' / table}.csv" in problem
        assert f"relative to the scenario's folder {home / 'my'})" in problem
        assert problem.endswith(f"e.g. allocopt's own {ROOT / 'data' / table}.csv")
        assert "outside the project" not in problem
    run = CliRunner().invoke(app, ["validate", str(scenario)])
    assert run.exit_code == 2
    assert "Traceback" not in run.output
    assert run.output.count("no such file") == len(TABLES)
    # following the hint: allocopt's own tables may be read from anywhere
    _write(scenario, typo.replace("../data/", f"{ROOT / 'data'}/"))
    (field,) = _problems(scenario)
    assert "hit_cap_pre_acceleraton" in field
    _write(scenario, text.replace("../data/", f"{ROOT / 'data'}/"))
    assert load_scenario(scenario).name == "magma_baseline"


def test_a_missing_extends_target_is_missing_not_outside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my").mkdir()
    scenario = _write(tmp_path / "my" / "s.yaml", "extends: ../models/magma_baseline.yaml\n")
    (problem,) = _problems(scenario)
    assert "extends: ../models/magma_baseline.yaml: no such file" in problem
    assert f"allocopt's own {ROOT / 'models' / 'magma_baseline.yaml'}" in problem
    assert "outside the project" not in problem
