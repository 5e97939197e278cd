"""Sweeps over scenario fields: one-at-a-time or a full grid, as one tidy table of measures.

Points are solved in chunks; each chunk builds one :class:`allocopt.Model`, updates it in place
from point to point and re-solves it warm, so a sweep costs one build per chunk (and one per
structural change). With endogenous capability (the bundled baseline) each point's outer loop
restarts from the previous point's converged schedule, a local optimum that matches a fresh
solve's to the approximation gap's tolerance (docs/explore.md). Chunks depend only on the points
and ``chunk_size``, never on the executor, so every executor gives the same table.

>>> Parameter.parse("velocity.hit_cap_post_acceleration=0.1:0.3:3").values
(0.1, 0.2, 0.3)
"""

from __future__ import annotations

import itertools
import math
import re
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from allocopt.analyses.runner import run_many
from allocopt.errors import ScenarioError, SolverError
from allocopt.optimize.session import Model
from allocopt.results.names import HEADLINE
from allocopt.results.result import Result
from allocopt.results.views import KNOB_UNITS, SUMMARY_UNITS
from allocopt.scenario.schema import Scenario

BASE = "base"
GRID = "grid"
SPEC = re.compile(r"^(?P<field>[A-Za-z_][\w.]*)=(?P<lo>[^:]+):(?P<hi>[^:]+):(?P<n>\d+)$")
MEASURES = [  # what :func:`measures` reports of each point's solve
    "status",
    "risk_reduction_exact",
    "risk_reduction_model",
    "approximation_gap",
    "probability_reduction_points",
    "probability_reduction_relative",
    "regime_switch_period",
    "velocity_hit_pre_acceleration",
    "velocity_hit_post_acceleration",
    "preparation_share_pre_acceleration",
    "preparation_share_post_acceleration",
    "safety_share_compute",
    "safety_share_staff",
]

# the label and unit of each numeric measure, as the summary, the tables and the figures say them
# (the headline numbers' from allocopt.results.names.HEADLINE, the knobs' units from KNOB_UNITS)
MEASURE_NAMES: dict[str, tuple[str, str]] = {
    **{m: HEADLINE[m] for m in MEASURES if m in HEADLINE},
    "approximation_gap": (
        "Approximation gap (exact against program)",
        SUMMARY_UNITS["approximation_gap"],
    ),
    "velocity_hit_pre_acceleration": (
        "Mean velocity hit before the switch",
        KNOB_UNITS["velocity_hit"],
    ),
    "velocity_hit_post_acceleration": (
        "Mean velocity hit after the switch",
        KNOB_UNITS["velocity_hit"],
    ),
    "preparation_share_pre_acceleration": (
        "Mean preparation share of safety before the switch",
        KNOB_UNITS["preparation_share"],
    ),
    "preparation_share_post_acceleration": (
        "Mean preparation share of safety after the switch",
        KNOB_UNITS["preparation_share"],
    ),
    "safety_share_compute": ("Mean safety share of compute", KNOB_UNITS["safety_share_compute"]),
    "safety_share_staff": ("Mean safety share of staff", KNOB_UNITS["safety_share_staff"]),
}
FIELD_UNIT = "the scenario field's own unit (docs/model.md)"  # the unit of a swept field's column

SweepPoint = dict[str, Any]  # "varied" and each swept field's value at one point


@dataclass(frozen=True)
class Parameter:
    """A scenario field (dotted path) and the values a sweep gives it."""

    field: str
    values: tuple[float, ...]

    @classmethod
    def parse(cls, spec: str) -> Parameter:
        """``FIELD=LO:HI:N``: N evenly spaced values from LO to HI. Raises ScenarioError."""
        match = SPEC.match(spec.strip())
        if not match:
            raise ScenarioError(
                f"--param {spec!r}: expected FIELD=LO:HI:N, "
                "e.g. velocity.hit_cap_post_acceleration=0.1:0.4:4"
            )
        try:
            lo, hi = float(match["lo"]), float(match["hi"])
        except ValueError:
            raise ScenarioError(f"--param {spec!r}: LO and HI must be numbers") from None
        n = int(match["n"])
        if n < 1 or not (math.isfinite(lo) and math.isfinite(hi)):
            raise ScenarioError(f"--param {spec!r}: need N >= 1 and finite LO, HI")
        values = np.linspace(lo, hi, n) if n > 1 else np.array([lo])
        return cls(match["field"], tuple(round(float(v), 12) for v in values))


def field_value(scenario: Scenario, field: str) -> Any:
    """The value ``field`` (dotted) has in ``scenario``, defaults included where they are implied
    (a budget multiplier of 1, an intervention's catalog value)."""
    keys = field.split(".")
    node: Any = scenario.model_dump()
    for k in keys:
        if not isinstance(node, dict) or k not in node:
            break
        node = node[k]
    else:
        return node
    if keys[0] in ("budget_multiplier", "budget_growth_multiplier") and len(keys) == 2:
        return 1.0
    if keys[0] == "intervention_overrides" and len(keys) == 3:
        rows = {row.id: row for row in scenario.interventions()}
        if keys[1] in rows:
            return getattr(rows[keys[1]], keys[2], math.nan)
    return math.nan


def one_at_a_time(scenario: Scenario, params: list[Parameter]) -> list[SweepPoint]:
    """The base point, then each parameter over its values with the others at their base values."""
    base = {p.field: field_value(scenario, p.field) for p in params}
    points = [{"varied": BASE, **base}]
    for p in params:
        points += [{"varied": p.field, **base, p.field: v} for v in p.values]
    return points


def grid(params: list[Parameter]) -> list[SweepPoint]:
    """Every combination of the parameters' values, in boustrophedon order: the last parameter
    varies fastest, running back and forth, so consecutive points differ by one step of one
    parameter and each warm start begins near its optimum."""
    fields = [p.field for p in params]
    points = []
    for digits in itertools.product(*(range(len(p.values)) for p in params)):
        snake, parity = [], 0
        for d, p in zip(digits, params, strict=True):
            d = len(p.values) - 1 - d if parity % 2 else d
            snake.append(p.values[d])
            parity += d
        points.append({"varied": GRID, **dict(zip(fields, snake, strict=True))})
    return points


def measures(result: Result) -> dict[str, Any]:
    """Risk reduction (exact and model) and summaries of the three knobs of one solve."""
    s, k = result.summary, result.knobs
    pre, post = k[k.regime == "pre_acceleration"], k[k.regime == "post_acceleration"]
    return {
        "status": result.status,
        "risk_reduction_exact": s["risk_reduction_exact"],
        "risk_reduction_model": s["risk_reduction_model"],
        "approximation_gap": s["approximation_gap"],
        "probability_reduction_points": s["probability_reduction_points"],
        "probability_reduction_relative": s["probability_reduction_relative"],
        "regime_switch_period": s["regime_switch_period"],
        "velocity_hit_pre_acceleration": _mean(pre.velocity_hit),
        "velocity_hit_post_acceleration": _mean(post.velocity_hit),
        "preparation_share_pre_acceleration": _mean(pre.preparation_share),
        "preparation_share_post_acceleration": _mean(post.preparation_share),
        "safety_share_compute": _mean(k.safety_share_compute),
        "safety_share_staff": _mean(k.safety_share_staff),
    }


def measure_label(name: str, *, with_unit: bool = True) -> str:
    """The label of the measure ``name`` (:data:`MEASURE_NAMES`), with ``with_unit`` followed by
    ", in <unit>" (for an axis); any other column's name as it is."""
    if name not in MEASURE_NAMES:
        return name
    text, unit = MEASURE_NAMES[name]
    return f"{text}, in {unit}" if with_unit else text


def sweep_parameters(table: pd.DataFrame) -> list[str]:
    """The swept fields of a sweep table: its columns between ``varied`` and ``status``."""
    columns = list(table.columns)
    return columns[columns.index("varied") + 1 : columns.index("status")]


def sweep_units(table: pd.DataFrame) -> dict[str, str]:
    """The unit of every numeric column of a sweep table: each swept field (:data:`FIELD_UNIT`),
    then each numeric measure it has (:data:`MEASURE_NAMES`), in the table's order."""
    units = {m: u for m, (_, u) in MEASURE_NAMES.items()}
    units |= dict.fromkeys(sweep_parameters(table), FIELD_UNIT)
    return {c: units[c] for c in table.columns if c in units}


def solve_chunk(task: tuple[dict, list[SweepPoint]]) -> list[dict[str, Any]]:
    """Solve the points of one chunk (base scenario as plain data, points as field values) with
    one persistent model, updated point to point; return one plain row of measures per point.
    Runs in a worker."""
    base_data, points = task
    base = Scenario.model_validate(base_data)
    model: Model | None = None
    rows = []
    for point in points:
        changes = {f: v for f, v in point.items() if f != "varied" and not _missing(v)}
        try:
            scenario = base.with_updates(changes)
        except ScenarioError as exc:  # values valid alone but not together
            rows.append({**point, **dict.fromkeys(MEASURES, math.nan), "status": f"invalid: {exc}"})
            continue
        if model is None:
            model = Model(scenario)
        else:
            model.set_scenario(scenario, ", ".join(changes))
        try:
            row = measures(model.solve())
        except SolverError as exc:
            row = {**dict.fromkeys(MEASURES, math.nan), "status": exc.status}
        rows.append({**point, **row})
    return rows


def _mean(values: pd.Series) -> float:
    return float(values.mean()) if len(values) else math.nan


def _missing(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def sweep(
    scenario: Scenario,
    params: list[Parameter],
    *,
    full_grid: bool = False,
    executor: Executor | None = None,
    chunk_size: int | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Solve ``scenario`` at every point of a one-at-a-time (default) or grid sweep of ``params``;
    one row per point: ``point``, ``varied``, the parameter values, then :data:`MEASURES`.

    Every parameter value is validated before anything is solved (ScenarioError names the first
    bad one); a grid point whose values are valid alone but not together gets status ``invalid``.
    A point that repeats an earlier one (a one-at-a-time value equal to the base value) is solved
    once and its row repeated, with its own ``varied``. HiGHS uses one thread per worker;
    ``chunk_size`` (points solved per chunk) defaults to :func:`auto_chunk_size` of the distinct
    points."""
    if not params:
        raise ScenarioError("a sweep needs at least one parameter")
    base = scenario.with_updates({"solver.threads": 1})
    points = grid(params) if full_grid else one_at_a_time(base, params)
    for p in params:  # each value on its own: fails fast on a bad field or value
        for v in p.values:
            base.with_updates({p.field: v})
    data = base.model_dump()
    keys = [repr([point[p.field] for p in params]) for point in points]
    first: dict[str, int] = {}  # each distinct point's place among those solved
    unique = []  # a repeated point (a value equal to the base one) is solved once
    for point, key in zip(points, keys, strict=True):
        if key not in first:
            first[key] = len(unique)
            unique.append(point)
    chunk_size = chunk_size or auto_chunk_size(len(unique))
    chunks = [unique[n : n + chunk_size] for n in range(0, len(unique), chunk_size)]
    rows = run_many([(data, c) for c in chunks], solve_chunk, executor, progress, _chunk_len)
    solved = [row for chunk in rows for row in chunk]
    table = pd.DataFrame(
        [{**solved[first[k]], "varied": p["varied"]} for p, k in zip(points, keys, strict=True)]
    )
    table.insert(0, "point", range(len(table)))
    return table


def auto_chunk_size(points: int) -> int:
    """Points per chunk: about 8 chunks (enough to keep a few workers busy), at most 50 points per
    warm-started model; a chunk's first point costs a build and a cold solve, worth ~15 warm ones.
    Depends on the number of points only, never on the executor."""
    return max(1, min(50, math.ceil(points / 8)))


def _chunk_len(task: tuple[dict, list[SweepPoint]]) -> int:
    return len(task[1])
