"""The public entry points that take a scenario take the path of a scenario file too."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocopt import Model, load_scenario, solve
from tests.projects import copy_project


@pytest.fixture
def short(tmp_path: Path) -> Path:
    """A scenario file: the core program over one year, in a copy of the project."""
    copy_project(tmp_path)
    path = tmp_path / "models" / "short.yaml"
    path.write_text("extends: magma_core.yaml\nname: short\nhorizon: {end: 2025Q4}\n")
    return path


def test_solve_and_model_load_a_scenario_file_named_by_str_or_path(short: Path) -> None:
    loaded = load_scenario(short)
    by_name = solve(str(short))
    assert by_name.scenario == loaded
    assert by_name.objective_model == pytest.approx(solve(loaded).objective_model, rel=1e-9)
    assert Model(short).scenario == loaded


@pytest.mark.parametrize("entry", [solve, Model])
def test_anything_else_is_a_one_line_type_error(entry) -> None:
    with pytest.raises(TypeError, match=r"^\w+: expected a Scenario or the path of a scenario "):
        entry({"name": "x"})
