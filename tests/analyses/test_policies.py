"""Policies run through the simulator and compared with the optimum."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from allocopt.analyses.policies import compare, essay_split, follow_rule, meanings
from allocopt.cli import app
from allocopt.model import evaluate
from allocopt.numeric.inputs import prepare


def test_the_essay_rule_is_feasible_and_prepares_before_the_switch(baseline):
    inp = prepare(baseline)
    schedule = follow_rule(inp, essay_split)
    ev = evaluate(inp, schedule)
    assert ev.violations == ()
    pre = ~ev.point.post_acceleration
    assert (ev.velocity_hit[pre] <= inp.hit_cap_by_regime[0] + 1e-9).all()
    mitigation = ~inp.is_preparation
    assert np.allclose(schedule.effort[np.ix_(pre, mitigation)], 0)  # preparation only before


def test_each_policy_says_what_schedule_it_is_with_the_scenarios_caps(baseline):
    caps = baseline.with_updates({"velocity.hit_cap_post_acceleration": 0.3})
    said = meanings(caps)
    assert "(5%, then 30%)" in said["essay_rule"]  # the rule takes each cap
    assert "held at 5%" in said["never_slow"]  # the pre-switch cap after the switch too
    assert "fixed" in said["essay_rule"]
    assert "solver" in said["never_slow"]


def test_compare_ranks_the_optimum_first(baseline, baseline_result):
    table = compare(baseline, baseline_result).set_index("policy")
    assert list(table.index) == ["optimum", "essay_rule", "never_slow", "capabilities_only"]
    best = table.loc["optimum", "risk_reduction"]
    assert (table.risk_reduction <= best + 1e-9).all()
    assert table.loc["capabilities_only", "risk_reduction"] == pytest.approx(0.0, abs=1e-12)
    assert table.loc["capabilities_only", "velocity_lost_years"] == pytest.approx(0.0, abs=1e-12)
    assert 0 < table.loc["essay_rule", "share_of_optimum"] < 1
    assert (table.violations == 0).all()


def test_cli_compare_prints_every_policy(tiny, tmp_path):
    s = tiny(
        [{}, {"mode": "preparation", "essay_priority": "P1", "lead_time_years": 1.0}],
        budgets=[(5.0, 100.0)] * 3,
        hazard=[0.01, 0.2, 0.4],
        speedup=[1.0, 4.0, 8.0],
    )
    path = tmp_path / "scenario.yaml"
    doc = yaml.safe_load((tmp_path / "tiny.yaml").read_text())
    path.write_text(yaml.safe_dump(doc))
    out = tmp_path / "compare.csv"
    result = CliRunner().invoke(app, ["compare", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for policy, meaning in meanings(s).items():  # each row, and a line saying what it is
        assert policy in result.output
        assert any(ln.split() == [policy, *meaning.split()] for ln in lines)
    assert result.stdout.startswith("scenario tiny: ")  # logs go to stderr
    written = pd.read_csv(out)
    assert list(written.columns[:2]) == ["policy", "risk_reduction"]
    assert list(written.policy) == ["optimum", "essay_rule", "never_slow", "capabilities_only"]
    assert list(meanings(s)) == list(written.policy)  # one meaning per row, in its order
    # the file holds the very table of the Python API (to the 10 digits the CLI writes)
    pd.testing.assert_frame_equal(written, compare(s), rtol=1e-9, check_dtype=False)
    assert written.risk_reduction.iloc[0] > 0
    assert (written.risk_reduction <= written.risk_reduction.iloc[0] + 1e-12).all()
    assert written.set_index("policy").loc["capabilities_only", "risk_reduction"] == 0
    # the line on the essay's rule against never slowing only where it slows more and buys less
    row = written.set_index("policy")
    paradox = (row.risk_reduction.essay_rule < row.risk_reduction.never_slow) and (
        row.velocity_lost_years.essay_rule > row.velocity_lost_years.never_slow
    )
    assert ("essay_rule scores below never_slow" in result.output) == paradox
