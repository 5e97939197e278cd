"""The options several commands share, and reading a scenario the way every command does.

Every command that takes a scenario also takes ``--set FIELD=VALUE`` (repeatable),
``--override A,B`` (sets of the file's ``overrides:`` block) and ``--allow-path``, read by
:func:`load`. Errors are :class:`~allocopt.errors.ScenarioError` lines naming the option.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from allocopt.cli.failing import failing
from allocopt.errors import ScenarioError
from allocopt.scenario.load import load_scenario, parse_updates
from allocopt.scenario.schema import Scenario

DEFAULT_SCENARIO = Path("models/magma_baseline.yaml")
CORES = os.cpu_count() or 1

ScenarioArg = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=True)]
AllowOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--allow-path",
        metavar="FOLDER",
        help="A folder outside the scenario's project whose files the scenario may name "
        "(data tables, extends); repeatable.",
    ),
]


def _read_sets(items: list[str] | None) -> list[str] | None:
    """``--set``'s items, checked as the command line is read: an item that is not FIELD=VALUE
    (``--set FIELD VALUE``) exits with 2 and one line naming the option and the expected form,
    before click would refuse VALUE as an unexpected extra argument."""
    with failing():
        parse_updates(items or [])
    return items


SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="FIELD=VALUE",
        help="Set a dotted scenario field (as Scenario.with_updates takes it), e.g. "
        "velocity.hit_cap_post_acceleration=0.3; VALUE is read as YAML (0.3, 1e3, null, "
        "[a, b]); repeatable, applied after --override.",
        callback=_read_sets,
    ),
]
OverrideOption = Annotated[
    list[str] | None,
    typer.Option(
        "--override",
        metavar="A,B",
        help="Apply these sets of the scenario file's overrides: block, in order; repeatable.",
    ),
]
FromResultOption = Annotated[
    Path | None,
    typer.Option(
        "--from-result",
        help="Folder of a saved result (what `allocopt solve --out` or a report's result/ "
        "holds): its optimum is not solved again.",
    ),
]

WorkersOption = Annotated[int, typer.Option(min=1, help="Local worker processes.")]
SchedulerOption = Annotated[
    str | None, typer.Option(help="Dask scheduler address (e.g. tcp://host:8786).")
]


def load(
    path: Path,
    allow: list[Path] | None = None,
    sets: list[str] | None = None,
    override: list[str] | None = None,
) -> Scenario:
    """Load ``path`` with the command's ``--allow-path``, ``--override`` and ``--set``."""
    if path == DEFAULT_SCENARIO and not path.exists():
        raise ScenarioError(f"{path}: not found; run from the allocopt checkout or name a scenario")
    names = [n.strip() for group in override or () for n in group.split(",") if n.strip()]
    return load_scenario(
        path,
        allow=allow or (),
        overrides=names,
        updates=parse_updates(sets or []),
        labels=("--override", "--set"),
    )


def with_option(option: str, scenario: Scenario, field: str, value: object) -> Scenario:
    """``scenario`` with ``field`` set from a command-line ``option``; its problems name it."""
    try:
        return scenario.with_updates({field: value})
    except ScenarioError as exc:
        inner = (line.removeprefix(f"scenario '{scenario.name}': ") for line in exc.problems)
        raise ScenarioError([f"{option} {line}" for line in inner]) from None


def grid(option: str, spec: str) -> tuple[float, ...]:
    """The values of a ``LO:HI:N`` option (N evenly spaced values from LO to HI)."""
    from allocopt.analyses.sweep import Parameter

    try:
        return Parameter.parse(f"grid={spec}").values
    except ScenarioError:
        raise ScenarioError(f"{option} {spec!r}: expected LO:HI:N, e.g. 0:1:5") from None
