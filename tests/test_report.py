"""The HTML report embeds every figure and shows assumptions, knobs, schedule and risk; the
``allocopt report`` command solves or reads a saved result and exits 0, 1 or 2."""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import os
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from markupsafe import escape
from PIL import Image
from typer.testing import CliRunner

from allocopt import load_result, load_scenario, save_result, solve
from allocopt.cli import app
from allocopt.report import (
    FIGURES,
    PAGE_FIGURES,
    PLAN_NOTE,
    assumptions,
    essay_heuristics,
    headline,
    render_html,
    risk_by_channel,
    tied_groups,
    write_report,
)
from allocopt.results.files import MANIFEST
from allocopt.results.names import label
from allocopt.results.result import past_horizon_hazard
from allocopt.scenario.tables import CHANNELS
from tests.conftest import BASELINE, CORE, ROOT, files_below, manifest_files

runner = CliRunner()
EMBEDDED = re.compile(
    r'<figure id="figure-(\w+)"><img alt="\w+" src="data:image/png;base64,([^"]+)"'
)


@pytest.fixture(scope="module")
def report_dir(baseline, baseline_result, tmp_path_factory):
    """The baseline's report, written once for this module."""
    out = tmp_path_factory.mktemp("report")
    write_report(baseline_result, out)
    return out


def test_the_page_embeds_every_figure_as_written_to_disk(report_dir):
    page = (report_dir / "index.html").read_text(encoding="utf-8")
    embedded = dict(EMBEDDED.findall(page))
    assert sorted(embedded) == sorted(PAGE_FIGURES)  # the knobs figure once, not its parts again
    for name, data in embedded.items():
        assert base64.b64decode(data) == (report_dir / "figures" / f"{name}.png").read_bytes()
    for name in FIGURES:
        assert (report_dir / "figures" / f"{name}.pdf").stat().st_size > 0
    assert "http" not in page  # self-contained: nothing fetched from elsewhere
    assert 'src="figures/' not in page
    assert "<link" not in page


def test_the_readme_figure_shows_the_baseline_as_solved_now(baseline_result, report_dir):
    # docs/knobs.png is a copy of a report's knobs figure, whose Description carries the knobs
    # it drew: a change of the baseline's plan makes the README's picture stale, caught here
    stale = "docs/knobs.png is stale: make it again as README.md says under the picture"

    def knobs(path):
        note = Image.open(path).text.get("Description")
        assert note is not None, f"{path}: no Description; {stale}"
        return json.loads(note)

    fresh, readme = knobs(report_dir / "figures" / "knobs.png"), knobs(ROOT / "docs" / "knobs.png")
    assert fresh["scenario"] == readme["scenario"] == baseline_result.scenario_name
    assert readme["period"] == fresh["period"] == list(baseline_result.knobs.period)
    for name in PLAN_NOTE:
        np.testing.assert_allclose(fresh[name], baseline_result.knobs[name], atol=1e-4)
        np.testing.assert_allclose(readme[name], fresh[name], atol=2e-3, err_msg=stale)


def test_the_page_shows_assumptions_knobs_schedule_and_risk(baseline, baseline_result, report_dir):
    page = (report_dir / "index.html").read_text(encoding="utf-8")
    for heading in ("How to read this", "Key assumptions", "The three knobs", "Schedule", "Risk"):
        assert f"<h2>{heading}</h2>" in page
    for knob in ("Velocity hit", "Preparation share of safety", "Safety portfolio"):
        assert f"<dt>{knob}</dt>" in page
    assert "<dt>The horizon's end</dt>" in page  # read the last quarters with care
    cap = baseline.velocity.hit_cap_post_acceleration
    assert f'<td>velocity.hit_cap_post_acceleration</td><td class="text">{cap}' in page
    with_plan = baseline_result.summary["probability_with_plan"]
    assert f"<td>{label('probability_with_plan')}</td><td>{with_plan:.1%}</td>" in page
    assert "NOT OPTIMAL" not in page
    versions = baseline_result.versions
    assert f"allocopt {versions['allocopt']}, pyomo {versions['pyomo']}" in page
    assert re.search(r"Written \d{4}-\d\d-\d\d \d\d:\d\d UTC", page)


def test_no_headline_value_is_shown_twice(baseline_result, report_dir):
    page = (report_dir / "index.html").read_text(encoding="utf-8")
    values = [value for _, value in headline(baseline_result)]
    names = [name for name, _ in headline(baseline_result)]
    assert len(set(names)) == len(names)
    for key in baseline_result.summary:  # raw summary keys are not listed after the numbers
        assert f"<td>{key}</td>" not in page
    for value in values:
        if value not in ("optimal", "2026Q1"):  # also in the assumptions and on axes
            assert page.count(f"<td>{value}</td>") == 1, value


def test_rendering_is_escaped_and_dated_as_asked(baseline_result):
    odd = dataclasses.replace(baseline_result, scenario_name="<b>&odd</b>")
    page = render_html(odd, dict.fromkeys(FIGURES, b"png"), written="2026-01-01 00:00 UTC")
    assert "<b>&odd" not in page
    assert "&lt;b&gt;&amp;odd&lt;/b&gt;" in page
    assert "Written 2026-01-01 00:00 UTC" in page


def test_the_report_folder_holds_every_export_and_the_saved_result(report_dir):
    assert {p.name for p in report_dir.iterdir()} == {
        "index.html",
        "figures",
        "csv",
        "parquet",
        "result.xlsx",
        "tables",
        "result",
        "manifest.json",
    }
    assert (report_dir / "result" / "result.json").exists()
    assert not [p for p in report_dir.rglob(".*")]  # no temporary file left behind


def test_assumptions_are_grouped_without_tables_or_empty_rows(baseline):
    groups = assumptions(baseline)
    rows = {s.field: s for settings in groups.values() for s in settings}
    assert rows["velocity.hit_cap_pre_acceleration"].value == str(
        baseline.velocity.hit_cap_pre_acceleration
    )
    assert rows["horizon.start"].value == "2025Q1"
    assert all(s.field.split(".")[0] == group for group, ss in groups.items() for s in ss)
    assert not any(key.startswith(("tables", "data.", "name")) for key in rows)
    assert not any(s.value in ("None", "{}", "") for s in rows.values())
    assert "tree" not in groups
    assert "safety_floor_share" not in groups


def test_assumptions_mark_the_values_that_differ_from_the_default(baseline, baseline_result):
    rows = {s.field: s for ss in assumptions(baseline).values() for s in ss}
    assert not rows["horizon.frequency"].changed  # quarter, the default
    changed = baseline.with_updates({"velocity.hit_cap_pre_acceleration": 0.07})
    again = {s.field: s for ss in assumptions(changed).values() for s in ss}
    assert again["velocity.hit_cap_pre_acceleration"].changed
    assert again["velocity.hit_cap_pre_acceleration"].default == "0.05"
    row = '<tr class="changed"><td>velocity.hit_cap_pre_acceleration</td>'
    pngs = dict.fromkeys(FIGURES, b"png")
    assert row not in render_html(baseline_result, pngs)
    assert row in render_html(dataclasses.replace(baseline_result, scenario=changed), pngs)


def test_a_non_optimal_result_is_flagged_on_the_page(baseline_result):
    stopped = dataclasses.replace(baseline_result, status="time_limit")
    page = render_html(stopped, dict.fromkeys(FIGURES, b"png"))
    assert '<p class="warning">NOT OPTIMAL (time_limit)' in page


def test_cli_report_solves_and_writes_the_page(tmp_path):
    # the core program (one LP): the baseline's page is report_dir's
    out = tmp_path / "report"
    result = runner.invoke(app, ["report", str(CORE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"report written to {out / 'index.html'}" in result.output
    assert len(EMBEDDED.findall((out / "index.html").read_text(encoding="utf-8"))) == len(
        PAGE_FIGURES
    )


def test_cli_report_from_a_saved_result_does_not_need_the_scenario(baseline_result, tmp_path):
    saved = save_result(baseline_result, tmp_path / "saved")
    out = tmp_path / "report"
    result = runner.invoke(app, ["report", "--from-result", str(saved), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "magma_baseline: locally optimal (" in result.output
    page = (out / "index.html").read_text(encoding="utf-8")
    assert '<td>horizon.start</td><td class="text">2025Q1' in page  # the saved scenario's


def test_cli_report_refuses_a_saved_result_of_another_scenario(baseline_result, tmp_path):
    other = save_result(dataclasses.replace(baseline_result, scenario_name="other"), tmp_path / "s")
    args = ["report", str(BASELINE), "--from-result", str(other), "--out", str(tmp_path / "r")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "holds scenario 'other', not 'magma_baseline'" in result.output
    assert not (tmp_path / "r").exists()


def test_cli_report_exits_2_on_a_folder_that_is_not_a_saved_result(tmp_path):
    out = tmp_path / "r"
    result = runner.invoke(app, ["report", "--from-result", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 2
    assert "not a saved result" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_cli_report_exits_2_on_bad_input_and_1_on_an_infeasible_scenario(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"extends": str(BASELINE), "name": "bad", "velocity": {"x": 1}}))
    assert runner.invoke(app, ["report", str(bad), "--out", str(tmp_path / "a")]).exit_code == 2
    floor = tmp_path / "floor.yaml"
    floor.write_text(
        yaml.safe_dump(
            {"extends": str(BASELINE), "name": "floor", "safety_floor_share": {"compute": 0.5}}
        )
    )
    result = runner.invoke(app, ["report", str(floor), "--out", str(tmp_path / "b")])
    assert result.exit_code == 1
    assert "infeasible" in result.output
    assert not (tmp_path / "a").exists()
    assert not (tmp_path / "b").exists()


def test_a_yearly_scenario_without_a_regime_switch_gets_a_full_report(tiny, tmp_path):
    scenario = tiny(
        [{}, {"id": "prep", "mode": "preparation", "category": "ai_defense", "lead_time_years": 1}],
        budgets=[(5.0, 100.0)] * 3,
        hazard=[0.1, 0.2, 0.3],
    )
    page = write_report(solve(scenario), tmp_path).read_text(encoding="utf-8")
    assert len(EMBEDDED.findall(page)) == len(PAGE_FIGURES)
    assert "<td>Regime switch (acceleration)</td><td>none</td>" in page


def test_cli_report_leaves_a_users_file_in_result_with_a_warning(baseline_result, tmp_path):
    """The report's folder is a run's folder (allocopt.results.files.write_run): a file of the
    user's where the saved result goes stays, named in a warning; the saved result is written
    beside it and reads back."""
    saved = save_result(baseline_result, tmp_path / "saved")
    (tmp_path / "out" / "result").mkdir(parents=True)
    (tmp_path / "out" / "result" / "mine.txt").write_text("keep")
    args = ["report", "--from-result", str(saved), "--out", str(tmp_path / "out")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "result/mine.txt" in result.output
    assert (tmp_path / "out" / "result" / "mine.txt").read_text() == "keep"
    assert "result/mine.txt" not in manifest_files(tmp_path / "out")
    assert load_result(tmp_path / "out" / "result").scenario_name == baseline_result.scenario_name


def test_report_folders_follow_the_umask(report_dir):
    """Folders the report creates (the saved result's too) get an ordinary folder's mode."""
    mask = os.umask(0)
    os.umask(mask)
    for sub in ("result", "figures", "csv"):
        assert (report_dir / sub).stat().st_mode & 0o777 == 0o777 & ~mask, sub


def test_the_manifest_lists_every_file_of_the_report(report_dir):
    assert manifest_files(report_dir) == [f for f in files_below(report_dir) if f != MANIFEST]


def test_risk_by_channel_adds_up_to_the_horizon_probabilities(baseline_result):
    rows = risk_by_channel(baseline_result)
    assert [r[0] for r in rows] == list(CHANNELS)
    for column, plan in ((1, "without_plan"), (2, "with_plan")):
        cumulative = sum(float(r[column]) for r in rows)
        probability = baseline_result.summary[f"probability_{plan}"]
        assert -math.expm1(-cumulative) == pytest.approx(probability, rel=1e-3)


def test_assumptions_go_into_lists_of_blocks_never_show_a_python_repr():
    scenario = load_scenario(ROOT / "models" / "magma_tree.yaml")
    rows = assumptions(scenario)["tree"]
    fields = {row.field: row.value for row in rows}
    assert fields["tree.stages.0.reveal"] == "2026Q1"
    assert fields["tree.stages.1.branches.hard.probability"] == "0.5"
    assert not any(ch in row.value for row in rows for ch in "[]{}'"), rows


def test_the_page_says_the_chance_of_no_catastrophe_as_the_terminal_does(baseline_result):
    rows = dict(headline(baseline_result))
    said = rows["Chance of no catastrophe, including the risk past the horizon"]
    assert said in baseline_result.text_summary()  # the same words and numbers as the summary
    # the points including the risk past the horizon come with why they are few, as there too
    past = past_horizon_hazard(baseline_result.summary)
    reduction = rows[label("probability_reduction_points")]
    assert f"the risk past the horizon adds {past:.2f} in cumulative hazard" in reduction


def test_the_page_reads_heuristics_2_and_3_on_the_plan(baseline_result, report_dir):
    from allocopt.analyses.heuristics import h2, h3

    page = (report_dir / "index.html").read_text(encoding="utf-8")
    assert "<h2>The essay's heuristics on this plan</h2>" in page
    rows = essay_heuristics(baseline_result)
    verdicts = [row[2].split(" (")[0] for row in rows]
    assert verdicts == [h2(baseline_result).verdict, h3(baseline_result, by_value=False).verdict]
    for row in rows:  # every cell on the page, escaped as the template escapes it
        assert all(str(escape(cell)) in page for cell in row), row


def test_a_tie_for_third_place_names_the_groups_and_their_share():
    from allocopt.analyses.heuristics import H3

    def three(**shares: float) -> H3:
        return H3(pd.Series(shares), preparation_share_pre=0.5)

    tie = three(P1=0.6, P0=0.2, P2=0.1, coordination_prep=0.1)  # P2 and coordination share 3rd
    assert tie.verdict == "tie"
    said = tied_groups(tie)
    assert "extreme security (P2), coordination_prep take 10% each" in said
    assert "awareness" not in said  # second, not at third place
    assert "elicitation" not in said
    assert tied_groups(three(P1=0.5, P0=0.3, P2=0.15, coordination_prep=0.05)) == ""  # holds


def test_without_a_tail_the_page_adds_nothing_to_the_points(core_result):
    reduction = dict(headline(core_result))[label("probability_reduction_points")]
    assert past_horizon_hazard(core_result.summary) == 0
    assert "risk past the horizon adds" not in reduction
