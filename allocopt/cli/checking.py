"""The command that checks scenario files without solving: ``validate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from allocopt.cli.failing import failing
from allocopt.cli.options import AllowOption, OverrideOption, SetOption, load
from allocopt.errors import ScenarioError


def validate(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario YAML files.")],
    set_: SetOption = None,
    override: OverrideOption = None,
    allow_path: AllowOption = None,
) -> None:
    """Check scenario files and their tables without solving; report every problem."""
    with failing():
        problems: list[str] = []
        for path in scenarios:
            try:
                loaded = load(path, allow_path, set_, override)
            except ScenarioError as exc:  # collected: every file is checked
                problems += [p for p in exc.problems if p not in problems]  # --set's once
                continue
            typer.echo(
                f"{path}: ok ({len(loaded.periods())} periods, "
                f"{len(loaded.tables.interventions)} interventions)"
            )
        if problems:
            raise ScenarioError(problems)
