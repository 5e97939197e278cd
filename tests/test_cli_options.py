"""Command-line options as Calliope and Hydra users expect: ``--set``, ``--override`` and
``--allow-path`` on every command that takes a scenario, messages naming the option and the field
with "did you mean", help showing defaults, ``--version``, ``--quiet`` and ``--verbose``."""

from __future__ import annotations

import logging
import shutil
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from allocopt import ScenarioError, load_scenario
from allocopt.cli import app
from tests.conftest import CORE, ROOT
from tests.projects import copy_project

runner = CliRunner()
COMMANDS = ("solve", "sweep", "compare", "report", "outcomes", "validate")
TYPO = "velocity.hit_cap=0.3"
TYPO_LINE = (
    "error: --set velocity.hit_cap: unknown field; did you mean "
    "velocity.hit_cap_pre_acceleration or velocity.hit_cap_post_acceleration?"
)
SETS = """\
overrides:
  cautious: {velocity.hit_cap_post_acceleration: 0.1, risk.cuts: 12}
  fine: {risk.cuts: 32}
  broken: {velocity.hit_cap_post_acceleration: 2}
"""


@pytest.fixture(autouse=True)
def _logger_level():
    """The global options set the allocopt logger's level; put it back after each test."""
    logger = logging.getLogger("allocopt")
    level, handlers = logger.level, list(logger.handlers)
    yield
    logger.setLevel(level)
    logger.handlers[:] = handlers


@pytest.fixture
def with_sets(tmp_path: Path) -> Path:
    """The core program plus named override sets, inside a copy of the project."""
    path = copy_project(tmp_path).parent / "with_sets.yaml"
    path.write_text(f"extends: magma_core.yaml\nname: with_sets\n{SETS}", encoding="utf-8")
    return path


def _run(*args: str) -> tuple[int, list[str]]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output.splitlines()


@pytest.mark.parametrize("command", COMMANDS)
def test_set_with_a_space_instead_of_equals_is_one_line_naming_the_form(
    command: str, tmp_path: Path
) -> None:
    """``--set FIELD VALUE`` is refused as the command line is read, not as click's "unexpected
    extra argument" (nor, for validate, VALUE read as a scenario file)."""
    code, lines = _run(command, str(CORE), "--set", "risk.cuts", "8", *_out(command, tmp_path))
    assert code == 2
    assert lines == [
        "error: --set risk.cuts: expected FIELD=VALUE, e.g. velocity.hit_cap_post_acceleration=0.3"
    ]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_set_and_names_option_and_field(command: str, tmp_path: Path) -> None:
    code, lines = _run(command, str(CORE), "--set", TYPO, *_out(command, tmp_path))
    assert code == 2
    assert lines == [TYPO_LINE]
    assert not (tmp_path / "out").exists()  # refused before anything ran


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_override_and_allow_path(
    command: str, with_sets: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    code, lines = _run(command, str(with_sets), "--override", "cautous", *_out(command, tmp_path))
    assert code == 2
    assert lines == [
        f"error: --override cautous: no override set of that name in {with_sets} "
        "(its sets: cautious, fine, broken); did you mean cautious?"
    ]
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    shutil.copy(ROOT / "data" / "budgets.csv", elsewhere)
    outside = with_sets.parent / "outside.yaml"
    outside.write_text(
        f"extends: with_sets.yaml\nname: outside\ndata: {{budgets: {elsewhere / 'budgets.csv'}}}\n",
        encoding="utf-8",
    )
    code, lines = _run(command, str(outside), *_out(command, tmp_path))
    assert code == 2
    assert "--allow-path" in lines[0]
    allowed = ("--allow-path", str(elsewhere), "--set", TYPO)  # loads, then the typo stops it
    assert _run(command, str(outside), *allowed, *_out(command, tmp_path)) == (2, [TYPO_LINE])


def _out(command: str, tmp_path: Path) -> tuple[str, ...]:
    """An --out for the commands that write one (never reached in these tests)."""
    if command == "validate":
        return ()
    return ("--out", str(tmp_path / ("out.csv" if command == "compare" else "out")))


def test_solve_with_set_changes_the_field(tmp_path: Path) -> None:
    """The issue's example: the cap after the switch bounds the mean hit after it, which sits
    at the cap up to the tie-break's moves (the smoothest optimum may leave a period a little
    below a cap whose price is ~0)."""
    for value in ("0.3", "1.5e-1"):
        out = tmp_path / value
        code, lines = _run(
            "solve", str(CORE), "--set", f"velocity.hit_cap_post_acceleration={value}",
            "--out", str(out),
        )  # fmt: skip
        assert code == 0, lines
        line = next(line for line in lines if "after the switch: mean velocity hit" in line)
        hit = float(line.split("mean velocity hit ")[1].split("%")[0]) / 100
        assert float(value) - 0.01 <= hit <= float(value) + 1e-9, line


def test_override_sets_apply_in_order_and_set_wins(with_sets: Path) -> None:
    loaded = load_scenario(with_sets, overrides=["cautious", "fine"])
    assert (loaded.velocity.hit_cap_post_acceleration, loaded.risk.cuts) == (0.1, 32)
    loaded = load_scenario(with_sets, overrides=["fine", "cautious"], updates={"risk.cuts": 8})
    assert (loaded.velocity.hit_cap_post_acceleration, loaded.risk.cuts) == (0.1, 8)
    code, lines = _run(
        "validate", str(with_sets), "--override", "cautious,fine", "--set", "risk.cuts=1e1"
    )
    assert code == 0
    assert lines[0].startswith(f"{with_sets}: ok")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ("--set", "velocity.hit_cap_post_acceleration=3"),
            "--set velocity.hit_cap_post_acceleration: must be between 0 and 1 (got 3)",
        ),
        (
            ("--set", "risk.cuts=[8"),
            "--set risk.cuts=[8: not a YAML value at line 1, column 3: expected ',' or ']', "
            "but got '<stream end>' (while parsing a flow sequence at line 1, column 1)",
        ),
        (
            ("--set", "risk"),
            "--set risk: expected FIELD=VALUE, e.g. velocity.hit_cap_post_acceleration=0.3",
        ),
        (
            ("--set", "risk.cuts.max=3"),
            "--set risk.cuts.max: risk.cuts is a value, not a block of fields",
        ),
        (
            ("--override", "broken"),
            "{path}: overrides.broken.velocity.hit_cap_post_acceleration: must be between 0 "
            "and 1 (got 2)",
        ),
        (  # a block's own check (a model validator) names the option, not the file
            ("--set", "velocity.weights.compute=0.9"),
            "--set velocity.weights.compute: velocity: weights must sum to 1, got compute 0.9 + "
            "staff 0.4 = 1.3 (set them together)",
        ),
        (
            ("--set", "horizon.end=2020Q1"),
            "--set horizon.end: horizon: end 2020Q1 is before start 2025Q1",
        ),
        (
            ("--set", "data.budgets=x.csv"),
            "--set data.budgets: the data files cannot be overridden",
        ),
        (
            ("--set", "intervention_overrides.security_forward_rd.lead_time_years=0.3"),
            "--set intervention_overrides.security_forward_rd.lead_time_years: 0.3 years is not "
            "a whole number of periods: 0, 0.25, 0.5, 0.75 ... on quarterly periods (nearest: "
            "0.25 or 0.5)",
        ),
    ],
)
def test_bad_overrides_are_one_line_naming_option_and_field(
    with_sets: Path, args: tuple[str, ...], line: str
) -> None:
    code, lines = _run("validate", str(with_sets), *args)
    assert code == 2
    assert lines == [f"error: {line.format(path=with_sets)}"]


def test_a_mistyped_sweep_field_names_the_option(tmp_path: Path) -> None:
    code, lines = _run(
        "sweep", str(CORE), "--param", "risk.cut=8:16:2", "--out", str(tmp_path / "out")
    )
    assert code == 2
    assert lines == ["error: --param risk.cut: unknown field; did you mean risk.cuts?"]
    assert not (tmp_path / "out").exists()


def test_python_updates_are_named_as_updates(with_sets: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(with_sets, updates={"risk.cutz": 8})
    assert caught.value.problems == ["updates risk.cutz: unknown field; did you mean risk.cuts?"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("slove",), "No such command 'slove'. Did you mean 'solve'?"),
        (("validate", "models/magma_cor.yaml"), "did you mean models/magma_core.yaml?"),
        (
            ("validate", "modls/magma_core.yaml"),
            "(folder modls does not exist; did you mean models?)",
        ),
    ],
)
def test_mistyped_commands_and_paths_get_a_suggestion(
    args: tuple[str, ...], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    code, lines = _run(*args)
    assert code == 2
    assert any(expected in line for line in lines), lines


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_defaults_and_no_placeholder_on_flags(command: str) -> None:
    code, lines = _run(command, "--help")
    text = "\n".join(lines)
    assert code == 0
    assert "<bool>" not in text
    assert "--set FIELD=VALUE" in text
    assert "--allow-path FOLDER" in text
    if command in ("solve", "sweep", "outcomes", "report"):
        assert "[default: results/" in " ".join(text.split())


def test_version_prints_allocopt_pyomo_highspy_and_piqp() -> None:
    code, lines = _run("--version")
    assert code == 0
    assert lines == [
        f"allocopt {version('allocopt')} pyomo {version('pyomo')} highspy {version('highspy')} "
        f"piqp {version('piqp')}"
    ]


@pytest.mark.parametrize(
    ("flag", "level"),
    [("--quiet", logging.WARNING), ("--verbose", logging.DEBUG), (None, logging.INFO)],
)
def test_quiet_and_verbose_set_the_logger_level(flag: str | None, level: int) -> None:
    code, _ = _run(*([flag] if flag else []), "validate", str(CORE))
    assert code == 0
    assert logging.getLogger("allocopt").level == level


def test_quiet_silences_progress_bars(tmp_path: Path) -> None:
    sweep = ("sweep", str(CORE), "--param", "risk.cuts=8:16:2", "--workers", "1")
    code, loud = _run(*sweep, "--out", str(tmp_path / "loud"))
    assert code == 0
    assert any("point" in line and "|" in line for line in loud), loud
    code, quiet = _run("--quiet", *sweep, "--out", str(tmp_path / "quiet"))
    assert code == 0
    assert quiet[0] == f"3 points (3 optimal) written to {tmp_path / 'quiet'}/"  # base and 2
    # no progress bar, the same table of points under that line as the loud run prints
    after = next(k for k, line in enumerate(loud) if "written to" in line) + 1
    assert quiet[1:] == [line for line in loud[after:] if line]
    assert not any("|" in line for line in quiet), quiet
    assert _run("--quiet", "--verbose", "validate", str(CORE))[0] == 2
