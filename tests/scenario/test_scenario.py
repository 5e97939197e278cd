"""Loading scenarios: inheritance, overrides, and a clear error for every kind of bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from allocopt import ScenarioError, load_scenario
from tests.conftest import BASELINE, ROOT


def copy_project(tmp_path: Path) -> Path:
    """A writable copy of models/ and data/; returns the copied baseline path."""
    shutil.copytree(ROOT / "models", tmp_path / "models")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path / "models" / BASELINE.name


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.problems


def test_baseline_loads_with_its_tables(baseline):
    assert baseline.name == "magma_baseline"
    assert len(baseline.periods()) == 20
    categories = {(i.category, i.mode) for i in baseline.tables.interventions}
    assert len(categories) == 8  # four categories, each in both modes
    assert {i.essay_priority for i in baseline.tables.interventions} >= {"P0", "P1", "P2"}


def test_extends_merges_and_overrides(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text(
        yaml.safe_dump(
            {
                "extends": str(BASELINE),
                "name": "child",
                "velocity": {"hit_cap_post_acceleration": 0.5},
                "intervention_overrides": {"security_forward_rd": {"lead_time_years": 0.25}},
            }
        )
    )
    s = load_scenario(child)
    assert s.name == "child"
    assert s.velocity.hit_cap_post_acceleration == 0.5
    assert s.velocity.hit_cap_pre_acceleration == 0.05  # inherited
    item = {i.id: i for i in s.interventions()}["security_forward_rd"]
    assert item.lead_time_years == 0.25
    assert s.tables.interventions[0].lead_time_years == 1.5  # the table itself is untouched


def test_with_updates_validates(baseline):
    assert (
        baseline.with_updates(
            {"velocity.hit_cap_pre_acceleration": 0.1}
        ).velocity.hit_cap_pre_acceleration
        == 0.1
    )
    with pytest.raises(ScenarioError, match="hit_cap_pre_acceleration"):
        baseline.with_updates({"velocity.hit_cap_pre_acceleration": 1.5})
    with pytest.raises(ScenarioError, match=r"velocty: unknown field; did you mean velocity\?"):
        baseline.with_updates({"velocty.hit_cap_pre_acceleration": 0.1})


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d.update(bogus=1), ["magma_baseline.yaml", "bogus: unknown field"]),
        (
            lambda d: d["velocity"].update(hit_cap_pre_acceleration=-0.1),
            ["velocity.hit_cap_pre_acceleration: must be between 0 and 1 (got -0.1)"],
        ),
        (
            lambda d: d["velocity"].update(weights={"compute": 0.5, "staff": 0.6}),
            ["velocity", "sum to 1"],
        ),
        (lambda d: d["horizon"].update(end="2031Q4"), ["budgets.csv", "missing period", "2030Q1"]),
        (
            lambda d: d["horizon"].update(end="2029Q5"),
            ["horizon: end: '2029Q5' is not a quarter label (like 2029Q4)"],
        ),
        (
            lambda d: d["horizon"].update(end="2024Q4"),
            ["horizon: end 2024Q4 is before start 2025Q1"],
        ),
        (
            lambda d: d.update(intervention_overrides={"nope": {"lead_time_years": 1}}),
            ["intervention_overrides.nope", "no such intervention"],
        ),
        (
            lambda d: d.update(
                intervention_overrides={"security_forward_rd": {"lead_time_years": -1}}
            ),
            ["intervention_overrides", "lead_time_years"],
        ),
        (
            lambda d: d.update(intervention_overrides={"security_forward_rd": {"lead_time": 1}}),
            [
                "intervention_overrides.security_forward_rd.lead_time: not an overridable",
                "did you mean intervention_overrides.security_forward_rd.lead_time_years?",
                "allowed: name, category, mode",
            ],
        ),
        (
            lambda d: d.update(intervention_overrides={"securty_forward_rd": {"max_effort": 1}}),
            ["did you mean intervention_overrides.security_forward_rd? known: security_forward_rd"],
        ),
    ],
)
def test_bad_yaml_fields_are_named(tmp_path, edit, expected):
    path = copy_project(tmp_path)
    doc = yaml.safe_load(path.read_text())
    edit(doc)
    path.write_text(yaml.safe_dump(doc))
    text = "\n".join(problems_of(path))
    for fragment in expected:
        assert fragment in text


@pytest.mark.parametrize(
    ("block", "line"),
    [
        (  # a share: both bounds allowed
            {"velocity": {"hit_cap_post_acceleration": 1.5}},
            "velocity.hit_cap_post_acceleration: must be between 0 and 1 (got 1.5)",
        ),
        (  # a mapping's value whose upper bound is excluded
            {"risk": {"residual_floor": {"own_direct": 1.0}}},
            "risk.residual_floor.own_direct: must be at least 0 and below 1 (got 1.0)",
        ),
    ],
)
def test_a_value_out_of_range_names_the_whole_range(tmp_path, block, line):
    """Pydantic says only the bound crossed ("Input should be less than or equal to 1"); the
    line says every value allowed."""
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"extends": str(BASELINE), "name": "mine", **block}))
    assert problems_of(path) == [f"{path}: {line}"]


def test_missing_periods_say_once_how_to_calibrate_tables_for_the_horizon(tmp_path):
    path = copy_project(tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc["horizon"]["end"] = "2032Q4"
    path.write_text(yaml.safe_dump(doc))
    lines = problems_of(path)
    assert sum("missing period" in line for line in lines) == 8  # compute, staff, 1, 5 channels
    (hint,) = [line for line in lines if "allocopt.scenario.calibrate" in line]
    command = (
        "python -m allocopt.scenario.calibrate --start 2025Q1 --end 2032Q4 --frequency quarter"
    )
    assert command in hint


def test_malformed_yaml_names_the_line(tmp_path):
    path = copy_project(tmp_path)
    path.write_text("name: x\nvelocity: {weights: [\n")
    (line,) = problems_of(path)
    assert "malformed YAML at line" in line
    assert str(path) in line


@pytest.mark.parametrize(
    ("table", "mutate", "expected"),
    [
        (
            "budgets",
            lambda t: t.replace("2026Q3,compute,", "2026Q3,compute,-", 1),
            ["budgets.csv", "line", "value", "greater than 0"],
        ),
        (
            "budgets",
            lambda t: "\n".join(ln for ln in t.splitlines() if not ln.startswith("2027Q2,staff")),
            ["budgets.csv", "missing period", "staff", "2027Q2"],
        ),
        (
            "hazards",
            lambda t: t.replace("hazard_per_year", "hazard", 1),
            ["hazards.csv", "missing column 'hazard_per_year'", "unknown column 'hazard'"],
        ),
        (
            "budgets",
            lambda t: t.replace(",kH100e,", ",GPU,", 1),
            ["budgets.csv", "unit of compute"],
        ),
        (
            "acceleration",
            lambda t: t.replace("2025Q3,", "2025Q2,", 1),
            ["acceleration.csv", "line 4: duplicate period 2025Q2"],
        ),
        (
            "interventions",
            lambda t: t.replace(",preparation,", ",prep,", 1),
            ["interventions.csv", "line 2", "mode"],
        ),
    ],
)
def test_bad_tables_are_named(tmp_path, table, mutate, expected):
    path = copy_project(tmp_path)
    csv = tmp_path / "data" / f"{table}.csv"
    csv.write_text(mutate(csv.read_text()))
    text = "\n".join(problems_of(path))
    for fragment in expected:
        assert fragment in text, text


def test_nan_is_refused(tmp_path):
    path = copy_project(tmp_path)
    csv = tmp_path / "data" / "hazards.csv"
    lines = csv.read_text().splitlines()
    head, *rest = lines[1].split(",", 3)
    lines[1] = ",".join([head, rest[0], "nan", rest[2]])
    csv.write_text("\n".join(lines) + "\n")
    (line,) = problems_of(path)
    assert "hazards.csv: line 2: hazard_per_year" in line
    assert "finite" in line


def test_every_problem_is_reported_at_once(tmp_path):
    path = copy_project(tmp_path)
    csv = tmp_path / "data" / "budgets.csv"
    csv.write_text(csv.read_text().replace(",kH100e,", ",GPU,"))
    assert len(problems_of(path)) == 20  # one per compute row


def test_extends_cycle_is_reported(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("extends: b.yaml\nname: a\n")
    b.write_text("extends: a.yaml\nname: b\n")
    (line,) = problems_of(a)
    assert "cycle" in line
