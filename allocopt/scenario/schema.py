"""The loaded scenario: a :class:`~allocopt.scenario.config.ScenarioConfig` plus its validated
tables, cross-checked (:func:`~allocopt.scenario.checks.cross_problems`) whenever it is validated,
including by :meth:`~allocopt.scenario.config.ScenarioConfig.with_updates`.

A scenario file is validated in steps (:func:`allocopt.scenario.load.load_scenario`): the YAML
against :class:`ScenarioConfig` (unknown fields rejected), then its tables against the row schemas
of :mod:`allocopt.scenario.tables`, then the cross-checks that need both (every period present,
overrides naming existing interventions and fields).
"""

from __future__ import annotations

from pydantic import model_validator

from allocopt.scenario.checks import cross_problems
from allocopt.scenario.config import ScenarioConfig, Tables
from allocopt.scenario.tables import InterventionRow


class Scenario(ScenarioConfig):
    """A loaded scenario: the configuration plus its tables, cross-checked; plain data throughout."""

    tables: Tables

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        problems = cross_problems(self, self.tables)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def interventions(self) -> tuple[InterventionRow, ...]:
        """The catalog with ``intervention_overrides`` applied."""
        rows = []
        for row in self.tables.interventions:
            change = self.intervention_overrides.get(row.id)
            rows.append(
                InterventionRow.model_validate({**row.model_dump(), **change}) if change else row
            )
        return tuple(rows)
