"""Cross-field checks of a scenario: the problems no single block can see.

:func:`cross_problems` runs whenever a :class:`~allocopt.scenario.schema.Scenario` is validated;
:func:`branch_problems` and :func:`uncertainty_problems` re-validate the scenario with changed
fields, so :func:`~allocopt.scenario.load.load_scenario` runs them once, after loading. Each
returns one line per problem, naming the file or block and the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from allocopt.errors import ScenarioError
from allocopt.scenario.config import ScenarioConfig, Tables
from allocopt.scenario.fields import format_errors, suggest
from allocopt.scenario.periods import is_period_label
from allocopt.scenario.tables import CHANNELS, RESOURCES, InterventionRow

# durations the model counts in whole periods (docs/model.md, "Durations and periods")
WHOLE_PERIOD_FIELDS = ("lead_time_years", "pause_years")
# the columns of an intervention that ``intervention_overrides`` may change
OVERRIDABLE = tuple(f for f in InterventionRow.model_fields if f != "id")


def cross_problems(s: ScenarioConfig, tables: Tables) -> list[str]:
    """Problems only the configuration and its ``tables`` together reveal, one line each: tables
    missing periods of the horizon (then one more line: the command that calibrates tables for
    the horizon) or holding labels of another frequency, tree stages out of
    place, overrides naming unknown interventions or fields, the readiness weights, durations
    that are not whole periods (:func:`duration_problems`)."""
    periods = s.periods().labels
    problems: list[str] = []
    keyed = {
        "budgets": {(r.period, r.resource) for r in tables.budgets},
        "acceleration": {(r.period,) for r in tables.acceleration},
        "hazards": {(r.period, r.channel) for r in tables.hazards},
    }
    extra_keys = {"budgets": RESOURCES, "acceleration": ("",), "hazards": CHANNELS}
    frequency = s.horizon.frequency
    for table, present in keyed.items():
        strange = sorted({key[0] for key in present if not is_period_label(key[0], frequency)})
        if strange:
            problems.append(
                f"{s.data.model_dump()[table]}: period label(s) {', '.join(strange[:6])} are not "
                f"{frequency} labels like {periods[0]}"
            )
        for extra in extra_keys[table]:
            missing = [p for p in periods if ((p, extra) if extra else (p,)) not in present]
            if missing:
                what = f" for {extra}" if extra else ""
                problems.append(
                    f"{s.data.model_dump()[table]}: missing period(s){what}: "
                    f"{', '.join(missing[:6])}{' ...' if len(missing) > 6 else ''} "
                    f"(the horizon runs {periods[0]}–{periods[-1]})"
                )
    if any("missing period" in p for p in problems):
        problems.append(
            "the calibrated tables can be made for this horizon with `python -m "
            f"allocopt.scenario.calibrate --start {periods[0]} --end {periods[-1]} --frequency "
            f"{frequency} --out <folder>` (then point the scenario's data.budgets, "
            "data.acceleration and data.hazards at <folder>)"
        )
    problems += tree_problems(s)
    ids = [r.id for r in tables.interventions]
    for iid, change in s.intervention_overrides.items():
        if iid not in ids:
            problems.append(
                f"intervention_overrides.{iid}: no such intervention"
                + _choices(iid, ids, "intervention_overrides.", "known")
            )
            continue
        for field in change:
            if field not in OVERRIDABLE:
                problems.append(
                    f"intervention_overrides.{iid}.{field}: not an overridable intervention field"
                    + _choices(field, OVERRIDABLE, f"intervention_overrides.{iid}.", "allowed")
                )
        if any(isinstance(v, bool) for v in change.values()):
            problems.append(f"intervention_overrides.{iid}: values must be numbers or text")
    if not problems:
        total = sum(r.readiness_weight for r in tables.interventions)
        if total > 1 + 1e-9:
            problems.append(
                f"{s.data.interventions}: readiness_weight sums to {total:g} over the "
                "catalog; it must be at most 1"
            )
        for row in tables.interventions:
            change = s.intervention_overrides.get(row.id)
            try:
                InterventionRow.model_validate({**row.model_dump(), **(change or {})})
            except ValidationError as exc:
                problems += format_errors(f"intervention_overrides.{row.id}", exc)
    if not problems:
        problems += duration_problems(s, tables)
    return problems


def _choices(word: str, choices: Sequence[str], prefix: str, label: str) -> str:
    """`` (did you mean <prefix>X? <label>: a, b, ...)``: :func:`suggest`'s suggestion for
    ``word`` (without its "; ", which separates the problems of a model-level check) and the
    ``choices``."""
    hint = suggest(word, choices, prefix).removeprefix("; ")
    return f" ({hint}{' ' if hint else ''}{label}: {', '.join(choices)})"


def duration_problems(s: ScenarioConfig, tables: Tables) -> list[str]:
    """Durations the model counts in whole periods (:data:`WHOLE_PERIOD_FIELDS`) that are not a
    whole number of the horizon's periods, one line each naming where the value is written
    (the table and intervention, or the override) and the allowed values."""
    periods = s.periods()
    durations = []
    for row in tables.interventions:
        change = s.intervention_overrides.get(row.id, {})
        where = (
            f"intervention_overrides.{row.id}.lead_time_years"
            if "lead_time_years" in change
            else f"{s.data.interventions}: intervention {row.id}: lead_time_years"
        )
        durations.append((where, change.get("lead_time_years", row.lead_time_years)))
    if s.outcomes is not None:
        durations.append(("outcomes.pause_years", s.outcomes.pause_years))
    problems = []
    for where, years in durations:
        try:
            periods.whole(years)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    return problems


def tree_problems(s: ScenarioConfig) -> list[str]:
    """Reveal periods inside the horizon, after its first period and in order; branch updates
    that do not touch the tree itself."""
    if s.tree is None:
        return []
    periods = s.periods().labels
    problems, last = [], 0
    for k, stage in enumerate(s.tree.stages):
        where = f"tree.stages[{k}]"
        if stage.reveal not in periods[1:]:
            problems.append(
                f"{where}.reveal: {stage.reveal} is not a period after the first of the horizon "
                f"({periods[1] if len(periods) > 1 else periods[0]}–{periods[-1]})"
            )
            continue
        at = periods.index(stage.reveal)
        if at <= last and k:
            problems.append(f"{where}.reveal: {stage.reveal} must come after the previous stage's")
        last = at
        for name, branch in stage.branches.items():
            for path in branch.updates:
                if path.split(".")[0] in ("tree", "name", "data"):
                    problems.append(
                        f"{where}.branches.{name}.updates.{path}: a branch may not change "
                        "the tree, the name or the data files"
                    )
    return problems


def branch_problems(s: ScenarioConfig, where: str) -> list[str]:
    """Every outcome of every tree stage must give a valid scenario (checked one stage at a time,
    so each problem names the outcome that causes it)."""
    problems: list[str] = []
    for k, stage in enumerate(s.tree.stages if s.tree else ()):
        for name, branch in stage.branches.items():
            try:
                s.with_updates({**branch.updates, "tree": None})
            except ScenarioError as exc:
                inner = (p.removeprefix(f"scenario '{s.name}': ") for p in exc.problems)
                problems += [
                    f"{where}: tree.stages[{k}].branches.{name}.updates: {p}" for p in inner
                ]
    return problems


def uncertainty_problems(s: ScenarioConfig, where: str) -> list[str]:
    """Each uncertain field must be a scenario field that takes a number and accepts the centre of
    its distribution (values drawn later are checked when they are drawn)."""
    problems: list[str] = []
    for field, dist in (s.uncertainty.parameters if s.uncertainty else {}).items():
        at = f"{where}: uncertainty.parameters.{field}"
        if field.split(".")[-1] in WHOLE_PERIOD_FIELDS:
            problems.append(
                f"{at}: a duration counted in whole periods cannot be drawn from a "
                "distribution (its draws would fall between periods)"
            )
            continue
        try:
            moved = s.with_updates({field: dist.center})
        except ScenarioError as exc:
            inner = (p.removeprefix(f"scenario '{s.name}': ") for p in exc.problems)
            problems += [f"{at}: cannot be set to {dist.center:g} (its centre): {p}" for p in inner]
            continue
        node: Any = moved.model_dump()
        for key in field.split("."):
            node = node[key]
        if isinstance(node, bool):
            problems.append(f"{at}: a switch (true/false), not a number")
    return problems
