"""Fuzzing the loader: randomly broken scenario files and tables end in a clean ScenarioError or a
valid solve — never an uncaught exception, never a partly written output folder.

The cases are generated from a fixed seed, so a failure names a case that can be replayed alone.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from allocopt import Result, ScenarioError, SolverError, Status, load_scenario, solve
from allocopt.cli import app
from allocopt.run import Run
from tests.projects import copy_project

SEED = 20261127
CASES = 600  # fuzzed projects, run through the Python API
CLI_EVERY = 10  # every tenth case also goes through `allocopt solve`
TABLES = ("interventions", "budgets", "acceleration", "hazards")
NASTY_VALUES: tuple[Any, ...] = (
    None,
    True,
    "abc",
    "",
    -1,
    0,
    0.5,
    2,
    1e308,
    -1e308,
    10**30,
    math.nan,
    math.inf,
    -math.inf,
    [],
    {},
    {"x": 1},
    "1e400",
    "2025Q9",
)
NASTY_CELLS = (
    "",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "-1",
    "0",
    "1e400",
    "abc",
    "  ",
    "1,5",
    '"',
    "2025Q9",
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path of a nested mapping (mappings and leaves)."""
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out += _paths(value, (*prefix, key))
    return out


def _parent(doc: dict, path: tuple) -> dict:
    node = doc
    for key in path[:-1]:
        node = node[key]
    return node


def _mutate_yaml(rng: random.Random, doc: dict) -> dict:
    """One structural change: drop, replace, negate, scale, nudge (often still valid) or add."""
    path = rng.choice(_paths(doc))
    parent, key = _parent(doc, path), path[-1]
    kind = rng.choice(("drop", "replace", "negate", "scale", "nudge", "nudge", "add"))
    value = parent[key]
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "drop":
        del parent[key]
    elif kind == "replace":
        parent[key] = rng.choice(NASTY_VALUES)
    elif kind == "nudge" and number:
        parent[key] = value * rng.uniform(0.8, 1.25)
    elif kind in ("negate", "scale") and number:
        parent[key] = -value if kind == "negate" else value * rng.choice((1e-9, 0.5, 3, 1e9))
    else:
        parent[f"unknown_{rng.randrange(100)}"] = rng.choice(NASTY_VALUES)
    return doc


def _mutate_text(rng: random.Random, data: bytes) -> bytes:
    """One byte-level change: truncate, re-encode, inject invalid bytes, duplicate a line, empty."""
    kind = rng.choice(("truncate", "utf16", "latin1", "garbage", "duplicate_line", "empty"))
    if kind == "truncate":
        return data[: rng.randrange(len(data) + 1)]
    if kind == "utf16":
        return data.decode("utf-8").encode("utf-16")
    if kind == "latin1":
        return data.decode("utf-8").replace("e", "é", 3).encode("latin-1")
    if kind == "garbage":
        at = rng.randrange(len(data) + 1)
        return data[:at] + bytes(rng.randrange(256) for _ in range(8)) + data[at:]
    if kind == "duplicate_line" and data:
        lines = data.splitlines(keepends=True)
        at = rng.randrange(len(lines))
        return b"".join([*lines[: at + 1], lines[at], *lines[at + 1 :]])
    return b""


def _mutate_csv(rng: random.Random, text: str) -> str:
    """One table change: a nasty cell, a duplicated, dropped or shuffled row, a dropped column."""
    lines = text.splitlines()
    header, rows = lines[0], lines[1:]
    kind = rng.choice(("cell", "duplicate_row", "drop_row", "shuffle", "drop_column", "header"))
    if kind == "cell" and rows:
        at = rng.randrange(len(rows))
        cells = rows[at].split(",")
        cells[rng.randrange(len(cells))] = rng.choice(NASTY_CELLS)
        rows[at] = ",".join(cells)
    elif kind == "duplicate_row" and rows:
        rows.append(rng.choice(rows))
    elif kind == "drop_row" and rows:
        rows.pop(rng.randrange(len(rows)))
    elif kind == "shuffle":
        rng.shuffle(rows)
    elif kind == "drop_column":
        names = header.split(",")
        header = ",".join(n for n in names if n != rng.choice(names))
    else:
        header = header.replace(rng.choice(header.split(",")), "renamed", 1)
    return "\n".join([header, *rows]) + "\n"


def _fuzz_project(rng: random.Random, folder: Path) -> Path:
    """A copy of the project with the baseline (shortened to 4 quarters) broken 1-3 ways."""
    scenario = copy_project(folder)
    doc = yaml.safe_load(scenario.read_text(encoding="utf-8"))
    doc["horizon"]["end"] = "2025Q4"  # keep each valid solve small
    doc["capability"]["slp"] = {"max_iterations": 3}  # ends optimal or not_converged, quickly
    raw: bytes | None = None
    for _ in range(rng.randint(1, 3)):
        where = rng.choice(("yaml", "yaml", "yaml_text", "csv", "csv", "csv_text"))
        if where == "yaml":
            doc = _mutate_yaml(rng, doc)
        elif where == "yaml_text":
            raw = _mutate_text(rng, yaml.safe_dump(doc, sort_keys=False).encode("utf-8"))
        else:
            table = folder / "data" / f"{rng.choice(TABLES)}.csv"
            data = table.read_bytes()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                continue  # already broken by an earlier mutation
            if where == "csv" and text.strip():
                table.write_text(_mutate_csv(rng, text), encoding="utf-8")
            else:
                table.write_bytes(_mutate_text(rng, data))
    scenario.write_bytes(raw if raw is not None else yaml.safe_dump(doc).encode("utf-8"))
    return scenario


def _check_problems(problems: list[str]) -> None:
    assert problems
    for line in problems:
        assert isinstance(line, str)
        assert line.strip()
        assert "\n" not in line
        assert "Traceback" not in line


def _outcome(scenario: Path, out: Path) -> str:
    """Load, solve and write one fuzzed project through the Python API; say how it ended."""
    try:
        loaded = load_scenario(scenario)
    except ScenarioError as exc:
        _check_problems(exc.problems)
        return "invalid"
    try:
        result = solve(loaded)
    except SolverError as exc:
        return Status(exc.status).value  # a documented status, or ValueError
    assert isinstance(result, Result)
    assert result.violations == ()
    Run(result).write(out)  # what `allocopt solve` writes: the tables and the saved result
    assert {p.stem for p in out.glob("*.csv")} == set(result.tables())
    return "solved"


def _via_cli(scenario: Path, out: Path, api_out: Path) -> int:
    """Run ``allocopt solve``; it writes what the API wrote (``api_out``) or nothing at all."""
    run = CliRunner().invoke(app, ["solve", str(scenario), "--out", str(out)])
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    assert run.exit_code in (0, 1, 2), run.output
    if run.exit_code == 0:
        assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in api_out.iterdir())
    else:
        assert not out.exists()  # nothing half-written
        assert run.output.startswith("error: ")
    return run.exit_code


@pytest.mark.parametrize("block", range(6))
def test_fuzzed_inputs_end_cleanly(block: int, tmp_path: Path) -> None:
    """CASES fuzzed projects in 6 blocks; each block reports how its cases ended."""
    per_block = CASES // 6
    outcomes: dict[str, int] = {}
    for case in range(block * per_block, (block + 1) * per_block):
        folder = tmp_path / f"case{case}"
        scenario = _fuzz_project(random.Random(SEED + case), folder)
        try:
            ending = _outcome(scenario, folder / "out")
            if case % CLI_EVERY == 0:
                code = _via_cli(scenario, folder / "cli_out", folder / "out")
                assert code == {"invalid": 2, "solved": 0}.get(ending, 1), ending
        except Exception as exc:
            raise AssertionError(f"fuzz case {case} (seed {SEED + case})") from exc
        outcomes[ending] = outcomes.get(ending, 0) + 1
    print(f"fuzz block {block}: {per_block} cases -> {outcomes}")
    # the fuzzer must exercise both ends: files it broke beyond repair, and files still valid
    assert outcomes.get("solved", 0) > 0, outcomes
    assert outcomes.get("invalid", 0) > 0, outcomes
    assert set(outcomes) <= {"solved", "invalid", *Status}, outcomes
