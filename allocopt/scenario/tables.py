"""Parameter tables (``data/*.csv``): row schemas with units, and a reader that reports every problem.

Each table is long-format CSV with a ``source`` column. Units are part of the column names
(``compute_per_effort_kh100e``) or, for budgets, an explicit ``unit`` column checked per resource.

The reader takes tables as spreadsheets save them: a byte-order mark, rows of empty cells
(skipped), trailing separators (empty cells beyond the named columns, dropped), semicolon or tab
separators (whichever the header line uses most), and then decimal commas in number columns
(``0,05``). Anything else it cannot read unambiguously is one problem line naming file and line.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from allocopt.errors import ScenarioError
from allocopt.scenario.fields import suggest, suggest_file, unwrap

RESOURCES: tuple[str, ...] = ("compute", "staff")
RESOURCE_UNITS: dict[str, str] = {"compute": "kH100e", "staff": "FTE"}
CATEGORIES: tuple[str, ...] = (
    "nonproliferation",
    "safety_distribution",
    "governance_communication",
    "ai_defense",
)
MODES: tuple[str, ...] = ("preparation", "mitigation")
CHANNELS: tuple[str, ...] = (
    "own_direct",
    "own_proliferation",
    "own_sabotage",
    "own_competition",
    "others",
)

Resource = Literal["compute", "staff"]
Category = Literal[
    "nonproliferation", "safety_distribution", "governance_communication", "ai_defense"
]
Mode = Literal["preparation", "mitigation"]
Channel = Literal["own_direct", "own_proliferation", "own_sabotage", "own_competition", "others"]
NonNegative = Annotated[float, Field(ge=0)]
Source = Annotated[str, Field(min_length=3)]


class Row(BaseModel):
    """A validated table row: unknown columns rejected, NaN and infinity refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class InterventionRow(Row):
    """One intervention of the catalog (``data/interventions.csv``).

    Effort is measured in effort units (EU): one full-time researcher of the intervention's
    team together with the compute that researcher uses. ``ai_leverage`` is the share of the work
    that AI labour can multiply; ``readiness_weight`` how much the intervention's benefit counts
    toward readiness to elicit safety research from AI (weights over the catalog sum to at most 1).
    """

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: str
    category: Category
    mode: Mode
    essay_priority: Literal["P0", "P1", "P2"] | None = None
    compute_per_effort_kh100e: Annotated[float, Field(ge=0, le=10)]
    staff_per_effort_fte: Annotated[float, Field(ge=0, le=10)]
    lead_time_years: Annotated[float, Field(ge=0, le=10)]
    depreciation_per_year: Annotated[float, Field(ge=0, lt=1)]
    saturation_effort: Annotated[float, Field(gt=0, le=1e6)]
    max_effort: Annotated[float, Field(gt=0, le=1e7)] | None = None
    effect_own_direct: Annotated[float, Field(ge=0, le=20)]
    effect_own_proliferation: Annotated[float, Field(ge=0, le=20)]
    effect_own_sabotage: Annotated[float, Field(ge=0, le=20)]
    effect_own_competition: Annotated[float, Field(ge=0, le=20)]
    effect_others: Annotated[float, Field(ge=0, le=20)]
    ai_leverage: Annotated[float, Field(ge=0, le=1)] = 0.0
    readiness_weight: Annotated[float, Field(ge=0, le=1)] = 0.0
    source: Source

    @model_validator(mode="after")
    def _uses_some_resource(self) -> InterventionRow:
        if self.compute_per_effort_kh100e + self.staff_per_effort_fte <= 0:
            raise ValueError("an intervention must use some compute or staff per unit of effort")
        return self

    def effect(self, channel: str) -> float:
        """Strength of this intervention on ``channel`` at saturation (e-folds of that channel)."""
        return float(getattr(self, f"effect_{channel}"))


class BudgetRow(Row):
    """Resource available to Magma in one period (``data/budgets.csv``), average over the period."""

    period: str
    resource: Resource
    value: Annotated[float, Field(gt=0, le=1e9)]  # > 0: velocity is measured per unit of budget
    unit: str
    source: Source

    @model_validator(mode="after")
    def _unit_matches_resource(self) -> BudgetRow:
        expected = RESOURCE_UNITS[self.resource]
        if self.unit != expected:
            raise ValueError(f"unit of {self.resource} must be {expected!r}, got {self.unit!r}")
        return self


class AccelerationRow(Row):
    """Reference AI software R&D speed-up relative to 2024 systems (``data/acceleration.csv``)."""

    period: str
    ai_rnd_speedup: Annotated[float, Field(ge=1, le=1e6)]
    source: Source


class HazardRow(Row):
    """Reference hazard of one risk channel with no safety work (``data/hazards.csv``), per year."""

    period: str
    channel: Channel
    hazard_per_year: Annotated[float, Field(ge=0, le=50)]
    source: Source


TABLE_SCHEMAS: dict[str, tuple[type[Row], tuple[str, ...]]] = {
    "interventions": (InterventionRow, ("id",)),
    "budgets": (BudgetRow, ("period", "resource")),
    "acceleration": (AccelerationRow, ("period",)),
    "hazards": (HazardRow, ("period", "channel")),
}


SEPARATORS = (",", ";", "\t")
DECIMAL_COMMA = re.compile(r"^[-+]?[0-9]*,[0-9]+(?:[eE][-+]?[0-9]+)?$")


def _describe(error: dict) -> str:
    loc = ".".join(str(p) for p in error["loc"]) or "row"
    msg = error["msg"].removeprefix("Value error, ")
    got = error.get("input")
    if got is None and error["loc"]:
        return f"{loc}: the cell is empty (a value is required)"
    shown = "" if isinstance(got, dict) else f" (got {got!r})"
    return f"{loc}: {msg}{shown}"


def _cells(name: str, where: str, path: Path) -> tuple[list[str], list[tuple[int, list[str]]], str]:
    """The header, the (line number, cells) of each row with any value, and the separator."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ScenarioError(
            f"{where}: file not found (table '{name}'){suggest_file(path)}"
        ) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ScenarioError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    first = text.split("\n", 1)[0]
    separator = max(SEPARATORS, key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    try:
        lines = [(reader.line_num, cells) for cells in reader]
    except csv.Error as exc:
        raise ScenarioError(
            f"{where}: line {reader.line_num}: not a readable CSV table ({exc})"
        ) from None
    if not lines or not any(c.strip() for c in lines[0][1]):
        raise ScenarioError(f"{where}: the table is empty (no header line)")
    (_, header), *rows = lines
    return header, [(n, c) for n, c in rows if any(v.strip() for v in c)], separator


def read_table(name: str, path: Path) -> list[Row]:
    """Read and validate table ``name`` from ``path`` (module docstring: what spreadsheets leave
    is accepted); raise ScenarioError listing every problem, each naming file and line."""
    schema, key = TABLE_SCHEMAS[name]
    where = str(path)
    header, rows, separator = _cells(name, where, path)
    fields = schema.model_fields
    required = [f for f, info in fields.items() if info.is_required()]
    columns = [c.strip() for c in header]
    problems = [
        f"{where}: missing column '{c}' (required: {', '.join(required)})"
        for c in required
        if c not in columns
    ]
    problems += [
        f"{where}: unknown column '{c}'"
        + (suggest(c, fields) or f" (allowed: {', '.join(fields)})")
        for c in columns
        if c and c not in fields
    ]
    named = [c for c in columns if c]
    if len(set(named)) != len(named):
        problems.append(f"{where}: duplicated column names")
    for line, cells in rows:
        stray = [
            (j, v)
            for j, v in enumerate(cells)
            if v.strip() and (j >= len(columns) or not columns[j])
        ]
        problems += [
            f"{where}: line {line}: value {v.strip()!r} in column {j + 1}, which the header "
            "does not name"
            for j, v in stray
        ]
    if problems:
        raise ScenarioError(problems)
    if not rows:
        raise ScenarioError(f"{where}: the table has no rows")

    numbers = {c for c, info in fields.items() if unwrap(info.annotation) is float}
    decimal_comma = separator != ","
    out: list[Row] = []
    seen: dict[tuple, int] = {}
    for line, cells in rows:
        record = {}
        padded = cells + [""] * (len(columns) - len(cells))  # cells beyond the header are empty
        for column, value in zip(columns, padded, strict=False):
            value = value.strip()
            if decimal_comma and column in numbers and DECIMAL_COMMA.match(value):
                value = value.replace(",", ".")
            if column:
                record[column] = value or None
        try:
            row = schema.model_validate(record)
        except ValidationError as exc:
            problems += [f"{where}: line {line}: {_describe(e)}" for e in exc.errors()]
            continue
        ident = tuple(getattr(row, k) for k in key)
        if ident in seen:
            problems.append(
                f"{where}: line {line}: duplicate {'/'.join(key)} {'/'.join(map(str, ident))} "
                f"(first on line {seen[ident]})"
            )
        seen[ident] = line
        out.append(row)
    if problems:
        raise ScenarioError(problems)
    return out
