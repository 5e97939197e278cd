"""Tables as spreadsheets save them (data/*.csv): rows of empty cells, trailing separators,
semicolons with decimal commas, tabs, scientific notation; what stays ambiguous is one message in
the user's terms (docs/reliability.md, "Tables from spreadsheets")."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from allocopt import ScenarioError, load_scenario
from tests.projects import copy_project

NUMBER = re.compile(r"^-?[0-9]+\.[0-9]+$")


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _write(path: Path, rows: list[list[str]], delimiter: str = ",") -> None:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def _problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value.problems


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory):
    """The tables of the unchanged baseline."""
    return load_scenario(copy_project(tmp_path_factory.mktemp("ref"))).tables


@pytest.mark.parametrize("table", ["budgets", "interventions"])
def test_rows_of_empty_cells_are_skipped(project: Path, reference, table: str) -> None:
    path = project.parent.parent / "data" / f"{table}.csv"
    rows = _rows(path)
    width = len(rows[0])
    blank = [""] * width
    _write(path, [rows[0], rows[1], blank, *rows[2:], blank, [""] * (width + 3)])
    assert load_scenario(project).tables == reference


@pytest.mark.parametrize(("table", "extra"), [("hazards", 1), ("acceleration", 4)])
def test_trailing_separators_are_dropped(project: Path, reference, table: str, extra: int) -> None:
    path = project.parent.parent / "data" / f"{table}.csv"
    rows = _rows(path)
    _write(
        path,
        [rows[0] + [""] * extra] + [r + [""] * (extra + i % 2) for i, r in enumerate(rows[1:])],
    )
    assert load_scenario(project).tables == reference


@pytest.mark.parametrize(
    ("table", "delimiter"), [("hazards", ";"), ("interventions", ";"), ("budgets", "\t")]
)
def test_semicolons_with_decimal_commas_and_tabs_are_read(
    project: Path, reference, table: str, delimiter: str
) -> None:
    path = project.parent.parent / "data" / f"{table}.csv"
    rows = _rows(path)
    comma = [[v.replace(".", ",") if NUMBER.match(v) else v for v in r] for r in rows]
    _write(path, comma if delimiter == ";" else rows, delimiter)
    if delimiter == ";":
        assert any("," in v for r in comma[1:] for v in r)  # the file really has decimal commas
    assert load_scenario(project).tables == reference


def test_scientific_notation_in_cells_is_a_number(project: Path, reference) -> None:
    path = project.parent.parent / "data" / "budgets.csv"
    rows = _rows(path)
    at = rows[0].index("value")
    rows[1][at] = f"{float(rows[1][at]):e}"  # e.g. 1.234000e+02
    _write(path, rows)
    assert load_scenario(project).tables.budgets == reference.budgets


@pytest.mark.parametrize(("line", "column"), [(3, 4), (5, 6)])
def test_a_value_under_no_column_name_is_named_by_line_and_column(
    project: Path, line: int, column: int
) -> None:
    """Once "unknown column 'Unnamed: 3'", a name the file never writes."""
    path = project.parent.parent / "data" / "acceleration.csv"
    rows = _rows(path)
    rows = [r + [""] * (column - len(r)) for r in rows]
    rows[0][column - 1] = ""
    rows[line - 1][column - 1] = "3.5"
    _write(path, rows)
    (problem,) = _problems(project)
    assert problem == (
        f"{path.resolve()}: line {line}: value '3.5' in column {column}, "
        "which the header does not name"
    )


@pytest.mark.parametrize(
    ("table", "column", "expected"),
    [
        ("budgets", "value", "line 2: value: the cell is empty (a value is required)"),
        ("hazards", "channel", "line 2: channel: the cell is empty (a value is required)"),
    ],
)
def test_an_empty_cell_says_so(project: Path, table: str, column: str, expected: str) -> None:
    """Once "Input should be a valid string" for an empty cell or row."""
    path = project.parent.parent / "data" / f"{table}.csv"
    rows = _rows(path)
    rows[1][rows[0].index(column)] = ""
    _write(path, rows)
    (problem,) = _problems(project)
    assert problem.endswith(expected)


@pytest.mark.parametrize(
    ("old", "new", "hint"),
    [
        ("hazard_per_year", "hazard_per_yaer", "did you mean hazard_per_year?"),
        ("source", "sources", "did you mean source?"),
    ],
)
def test_a_mistyped_column_gets_a_suggestion(project: Path, old: str, new: str, hint: str) -> None:
    path = project.parent.parent / "data" / "hazards.csv"
    rows = _rows(path)
    rows[0][rows[0].index(old)] = new
    _write(path, rows)
    assert any(f"unknown column '{new}'; {hint}" in p for p in _problems(project))


def test_thousands_separators_stay_refused(project: Path) -> None:
    """'1.000,5' may be 1000.5 or a typo: refused with the value shown."""
    path = project.parent.parent / "data" / "budgets.csv"
    rows = _rows(path)
    rows[1][rows[0].index("value")] = "1.000,5"
    _write(path, rows, ";")
    (problem,) = _problems(project)
    assert "line 2: value:" in problem
    assert "'1.000,5'" in problem


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("budget.csv", "; did you mean {data}/budgets.csv?"),
        (
            "../dta/budgets.csv",
            " (folder {root}/dta does not exist; did you mean {root}/data?)",
        ),
    ],
)
def test_a_missing_table_suggests_the_nearest_file(project: Path, written: str, hint: str) -> None:
    path = project.parent / "typo.yaml"
    data = (project.parent.parent / "data").resolve()
    path.write_text(
        f"extends: magma_baseline.yaml\nname: typo\ndata: {{budgets: ../data/{written}}}\n",
        encoding="utf-8",
    )
    missing = (data / written).resolve()
    (problem,) = _problems(path)
    assert problem.startswith(
        f"{path.resolve()}: data.budgets: ../data/{written}: no such file (it resolves to {missing}"
    )
    assert hint.format(data=data, root=data.parent) in problem
