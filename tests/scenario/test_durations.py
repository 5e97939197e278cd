"""Durations counted in periods (lead times, pause lengths) are a whole number of periods or are
refused naming the file, the field and the allowed values; nothing is rounded silently
(docs/model.md, "Durations and periods")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from allocopt import ScenarioError, load_scenario
from allocopt.numeric.inputs import prepare
from allocopt.scenario.periods import Periods
from tests.conftest import TinyBuilder
from tests.projects import copy_project


def _refused(build, *args, **kwargs) -> str:
    with pytest.raises(ScenarioError) as caught:
        build(*args, **kwargs)
    return "\n".join(caught.value.problems)


PREP = {"mode": "preparation", "category": "ai_defense"}


@pytest.mark.parametrize(
    ("lead", "nearest"),
    [(0.5, "nearest: 0 or 1"), (1.5, "nearest: 1 or 2")],  # once 0 and 2 periods, silently
)
def test_a_lead_between_yearly_periods_is_refused_naming_file_field_and_values(
    tiny: TinyBuilder, tmp_path: Path, lead: float, nearest: str
) -> None:
    text = _refused(tiny, [{}, {**PREP, "lead_time_years": lead}], [(1, 10)] * 3, [0.1] * 3)
    assert str(tmp_path / "interventions.csv") in text
    assert "intervention item1: lead_time_years" in text
    assert f"{lead:g} years is not a whole number of periods: 0, 1, 2 ... on yearly periods" in text
    assert nearest in text
    assert len(text.splitlines()) == 1


def test_whole_leads_are_exact_on_every_frequency(tiny: TinyBuilder, baseline) -> None:
    yearly = tiny([{}, {**PREP, "lead_time_years": 2.0}], [(1, 10)] * 3, [0.1] * 3)
    assert prepare(yearly).lead_periods.tolist() == [0, 2]
    quarterly = prepare(baseline)
    leads = [i.lead_time_years for i in baseline.interventions()]
    assert quarterly.lead_periods.tolist() == [round(4 * y) for y in leads]
    assert 1.5 in leads
    assert 0.75 in leads
    months = Periods.from_horizon("2025-01", "2026-12", "month")
    assert [months.whole(y) for y in (0.0833, 0.25, 1.5)] == [1, 3, 18]  # 0.0833: one month


def test_an_override_or_update_between_quarters_is_refused(baseline) -> None:
    field = "intervention_overrides.security_forward_rd.lead_time_years"
    with pytest.raises(ScenarioError) as caught:
        baseline.with_updates({field: 0.3})
    (line,) = caught.value.problems
    assert f"{field}: 0.3 years is not a whole number of periods" in line
    assert "0, 0.25, 0.5, 0.75 ... on quarterly periods (nearest: 0.25 or 0.5)" in line
    assert baseline.with_updates({field: 0.5}).interventions()[0].lead_time_years == 0.5


def test_a_pause_between_periods_is_refused(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    path = project.parent / "magma_outcomes.yaml"
    loaded = load_scenario(path)
    assert loaded.outcomes is not None
    with pytest.raises(ScenarioError, match=r"outcomes\.pause_years: 0\.6 years is not a whole"):
        loaded.with_updates({"outcomes.pause_years": 0.6})
    assert loaded.with_updates({"outcomes.pause_years": 0.75}).outcomes.pause_years == 0.75


def test_a_tree_branch_or_a_distribution_cannot_put_a_lead_between_periods(
    tmp_path: Path,
) -> None:
    project = copy_project(tmp_path)
    field = "intervention_overrides.security_forward_rd.lead_time_years"
    tree = project.parent / "magma_tree.yaml"
    doc = yaml.safe_load(tree.read_text(encoding="utf-8"))
    doc["tree"]["stages"][0]["branches"]["late"]["updates"] = {field: 1.1}
    tree.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tree)
    (line,) = caught.value.problems
    assert f"tree.stages[0].branches.late.updates: {field}: 1.1 years is not a whole" in line

    sampled = project.parent / "magma_montecarlo.yaml"
    doc = yaml.safe_load(sampled.read_text(encoding="utf-8"))
    doc["uncertainty"]["parameters"][field] = {
        "distribution": "uniform",
        "low": 1.0,
        "high": 2.0,
    }
    sampled.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(sampled)
    (line,) = caught.value.problems
    assert f"uncertainty.parameters.{field}: a duration counted in whole periods" in line


def test_continuous_durations_move_the_inputs_by_the_exact_amount(baseline) -> None:
    """Shifts and lags are read between period midpoints: a fraction of a period counts."""
    base = prepare(baseline).speedup
    quarter = prepare(baseline.with_updates({"timeline.shift_years": 0.25})).speedup
    tenth = prepare(baseline.with_updates({"timeline.shift_years": 0.1})).speedup
    assert np.allclose(quarter[1:], base[:-1])  # a whole period: the table one period later
    assert not np.allclose(tenth, base)
    assert not np.allclose(tenth[1:], base[:-1])
