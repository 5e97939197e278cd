"""Outcomes after acceleration (essay Appendix A): each outcome's inputs by hand, the exact
enumeration, and the Appendix A heuristics as regions of the outcome map — results of the data,
which a counter-scenario (models/counter_outcomes_no_dropout_gain.yaml) removes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.legend import Legend
from typer.testing import CliRunner

from allocopt import ScenarioError, load_scenario
from allocopt.analyses.outcome_inputs import (
    PAUSE,
    REST,
    SCALE,
    SELF_DESTRUCT,
    TERMS,
    dropout_relief,
    frontier_hazard,
    pause_failure,
    pause_success,
    scale,
    self_destruct,
    switch_period,
)
from allocopt.analyses.outcome_values import EndogenousPause, sure
from allocopt.analyses.outcomes import choose_outcome, decomposition, outcome_map, terms_of
from allocopt.cli import app
from allocopt.model import evaluate
from allocopt.numeric.inputs import prepare
from allocopt.numeric.simulate import Schedule
from allocopt.plot.outcomes import MEANINGS, PARTS, plot_decomposition, plot_outcome_map
from allocopt.results.files import MANIFEST
from allocopt.results.names import HAZARD_UNIT
from allocopt.scenario.config import Solver
from allocopt.scenario.tables import CHANNELS
from tests.conftest import ROOT

OUTCOMES_YAML = ROOT / "models" / "magma_outcomes.yaml"
COUNTER_YAML = ROOT / "models" / "counter_outcomes_no_dropout_gain.yaml"
# the core program: magma_core.yaml's capability block (the baseline's capability terms off)
CORE = {
    "capability": yaml.safe_load((ROOT / "models" / "magma_core.yaml").read_text())["capability"]
}
OTHERS = CHANNELS.index("others")
GOVERNANCE = {"category": "governance_communication", "effect_others": 1.0}
OUTCOME_FIELDS = {
    "lag_years": 0.5,
    "influence_halflife_years": 0.5,
    "pause_years": 1.0,
    "pause_attempt_years": 1.0,
    "signal_advocacy_gain": 1.0,
    "self_destruct_budget_decline_per_year": 0.5,
    "self_destruct_competition_relief": 0.25,
    "relief_lag_scale_years": 0.5,
    "self_destruct_replacement": 0.5,
}


@pytest.fixture
def four_years(tiny):
    """Yearly 2025–2028, switch in 2026 (speed-up 3x); own_direct hazard doubles every year."""
    scenario = tiny(
        [{}, GOVERNANCE],
        budgets=[(10, 10), (20, 20), (40, 40), (80, 80)],
        hazard=[0.1, 0.2, 0.4, 0.8],
        speedup=[1.0, 3.0, 5.0, 7.0],
        config={"outcomes": OUTCOME_FIELDS},
    )
    return prepare(scenario), scenario.outcomes


def test_switch_is_the_first_period_at_the_threshold(four_years):
    inp, _ = four_years
    assert switch_period(inp) == 1


def test_scale_keeps_the_reference_and_weighs_exports_by_the_lag(four_years):
    inp, o = four_years
    out = scale(inp, o)
    np.testing.assert_allclose(out.hazard, inp.hazard)
    np.testing.assert_allclose(out.hazard_full, inp.hazard)
    np.testing.assert_allclose(out.budget, inp.budget)
    # 2^(-0.5/0.5) = 0.5 after the switch, full weight before it
    np.testing.assert_allclose(out.export_weight, [[1, 1], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]])


def test_self_destruct_holds_own_hazard_and_hands_part_of_it_to_others(four_years):
    inp, o = four_years
    out = self_destruct(inp, o)
    np.testing.assert_allclose(out.hazard[:, 0], [0.1, 0.2, 0.2, 0.2])  # flat after the switch
    # others (zero in the data) take half of the forgone own hazard: 0.5 * (0.4 - 0.2), (0.8 - 0.2)
    np.testing.assert_allclose(out.hazard[:, OTHERS], [0, 0, 0.1, 0.3])
    np.testing.assert_allclose(out.hazard_full, inp.hazard)  # the common baseline
    np.testing.assert_allclose(out.budget[:, 1], [10, 20, 10, 5])  # halves per year from 2026
    np.testing.assert_allclose(out.hit_cap, [0.1, 1, 1, 1])
    # influence halves each half-year behind: lag 0.5, then 1.5 and 2.5 years; advocacy doubled
    fade = np.array([1, 0.5, 0.125, 0.03125])
    np.testing.assert_allclose(out.export_weight[:, 0], fade)
    np.testing.assert_allclose(out.export_weight[:, 1], fade * [1, 2, 2, 2])


def test_self_destruct_relieves_others_hazard(core):
    scenario = core.with_updates({"outcomes": {"self_destruct_replacement": 0.0}})
    inp, o = prepare(scenario), scenario.outcomes
    s = switch_period(inp)
    full = frontier_hazard(inp, o.lag_years)
    out = self_destruct(inp, o)
    # a quarter-year behind, half a year of lag scale: relief 0.15 * exp(-0.5) = 0.090980
    np.testing.assert_allclose(out.hazard[s:, OTHERS], 0.909020 * full[s:, OTHERS], rtol=1e-6)
    np.testing.assert_allclose(out.hazard[:s], full[:s])


def test_dropout_relief_fades_with_the_lag_by_hand(four_years):
    """Others' hazard flat at 1 per year: dropping out half a year behind (lag scale half a year)
    removes 0.25 * exp(-1) = 0.091970 of it, a laggard two years behind 0.25 * exp(-4)."""
    inp, o = four_years
    hazard = inp.hazard.copy()
    hazard[:, OTHERS] = 1.0
    flat = dataclasses.replace(inp, hazard=hazard, hazard_full=hazard)
    out = self_destruct(flat, o)
    # plus half the forgone own hazard: 0.5 * (0.4 - 0.2) in 2027, 0.5 * (0.8 - 0.2) in 2028
    np.testing.assert_allclose(out.hazard[:, OTHERS], [1, 0.908030, 1.008030, 1.208030], rtol=1e-6)
    assert dropout_relief(o, 0.0) == pytest.approx(0.25)
    assert dropout_relief(o, 2.0) == pytest.approx(0.25 * np.exp(-4))


def test_each_self_destruct_term_switched_off_alone(four_years):
    inp, o = four_years
    full = self_destruct(inp, o)
    off = {term: self_destruct(inp, o, (term,)) for term in TERMS}
    np.testing.assert_allclose(off["compute"].budget, inp.budget)  # the budgets of scaling
    # influence stays at the switch's lag, 2^(-0.5/0.5) = 0.5; advocacy still doubled
    np.testing.assert_allclose(off["influence_window"].export_weight[1:], [[0.5, 1]] * 3)
    np.testing.assert_allclose(off["costly_signal"].export_weight[:, 1], full.export_weight[:, 0])
    np.testing.assert_allclose(off["replacement"].hazard[:, OTHERS], 0)  # others zero here
    for term in TERMS:  # everything else as in full self-destruction
        same = [f for f in ("hazard", "budget", "export_weight") if term not in FIELD_OF[f]]
        for field in same:
            np.testing.assert_allclose(getattr(off[term], field), getattr(full, field))
    with pytest.raises(ValueError, match="unknown self_destruct terms"):
        self_destruct(inp, o, ("signal",))


FIELD_OF = {  # the Inputs field each term changes
    "hazard": {"relief", "replacement"},
    "budget": {"compute"},
    "export_weight": {"influence_window", "costly_signal"},
}


def test_terms_split_the_difference_and_name_the_deciding_part():
    without = {
        "influence_window": 0.7,  # the window lost costs 0.2
        "costly_signal": 0.49,
        "relief": 0.45,  # relief brings 0.05
        "compute": 0.51,
        "replacement": 0.6,  # replacement costs 0.1
    }
    cell = terms_of(0.5, 0.6, without)
    assert cell["difference"] == pytest.approx(-0.1)
    assert cell["influence_window"] == pytest.approx(-0.2)
    assert cell["relief"] == pytest.approx(0.05)
    # -0.1 - (-0.2 + 0.01 + 0.05 - 0.01 - 0.1) = 0.15: own hazard held and the rest
    assert cell[REST] == pytest.approx(0.15)
    assert cell["deciding"] == "influence_window"  # pushes hardest against self-destruction
    assert terms_of(0.5, 0.3, without)["deciding"] == REST  # for it, when it wins


def test_pause_success_holds_every_hazard_then_resumes_postponed(four_years):
    inp, o = four_years
    out = pause_success(inp, o)
    # held at the 2026 level for one year, then the reference one year late
    np.testing.assert_allclose(out.hazard[:, 0], [0.1, 0.2, 0.2, 0.4])
    np.testing.assert_allclose(out.hit_cap, [0.1, 1, 1, 1])
    np.testing.assert_allclose(out.export_weight, scale(inp, o).export_weight)


def test_pause_failure_is_scaling_further_behind(four_years):
    inp, o = four_years
    out = pause_failure(inp, o)
    np.testing.assert_allclose(out.export_weight[1:], 2.0 ** (-1.5 / 0.5))  # lag 0.5 + 1 year
    np.testing.assert_allclose(out.hazard, inp.hazard)


def test_the_frontier_ahead_moves_others_hazard_earlier(core):
    inp = prepare(core)
    shifted = frontier_hazard(inp, 0.5)  # two quarters
    np.testing.assert_allclose(shifted[:-2, OTHERS], inp.hazard[2:, OTHERS], rtol=1e-9)
    np.testing.assert_allclose(shifted[:, :OTHERS], inp.hazard[:, :OTHERS])


def test_risk_reduction_counts_what_an_outcome_removes_from_the_common_baseline(four_years):
    inp, o = four_years
    out = pause_success(inp, o)
    idle = Schedule(effort=np.zeros((4, 2)), capabilities=out.budget * [1, 1])
    # no safety work: the whole reduction is the hazard the pause holds off, 0.4 - 0.2 in 2027
    # and 0.8 - 0.4 in 2028, over one-year periods
    assert evaluate(out, idle).risk_reduction(out) == pytest.approx(0.6)


def test_export_weight_scales_the_others_capacity(four_years):
    inp, _ = four_years
    effort = np.full((4, 2), 5.0)
    schedule = Schedule(effort=effort, capabilities=np.zeros((4, 2)))
    full = evaluate(inp, schedule).capacity[:, OTHERS]
    half = dataclasses.replace(inp, export_weight=np.full((4, 2), 0.5))
    np.testing.assert_allclose(evaluate(half, schedule).capacity[:, OTHERS], full / 2)
    assert full.min() > 0


def test_enumeration_picks_the_best_outcome_and_the_pause_is_its_expectation(tiny):
    scenario = tiny(
        [{}, GOVERNANCE],
        budgets=[(10, 10), (20, 20), (40, 40), (80, 80)],
        hazard=[0.1, 0.2, 0.4, 0.8],
        speedup=[1.0, 3.0, 5.0, 7.0],
        config={"outcomes": {**OUTCOME_FIELDS, "pause_plausibility": 0.3}},
    )
    choice = choose_outcome(scenario)
    assert choice.switch_period == "2026"
    models = {v.outcome: v.risk_reduction_model for v in choice.values}
    assert choice.chosen == max(models, key=models.get)
    pause = choice.value(PAUSE)
    assert pause.branches == ("success", "failure")
    assert pause.risk_reduction_exact == pytest.approx(0.3 * pause.exact[0] + 0.7 * pause.exact[1])
    assert pause.exact[0] > pause.exact[1]  # a pause that holds removes hazard itself
    table = choice.table()
    assert table.chosen.sum() == 1
    assert table.loc[table.chosen, "outcome"].item() == choice.chosen


@pytest.fixture(scope="module")
def baseline_map() -> pd.DataFrame:
    """The outcome map of models/magma_outcomes.yaml over the core program at its corners."""
    return outcome_map(load_scenario(OUTCOMES_YAML).with_updates(CORE), [0.0, 0.75], [0.0, 2.0])


def _at(table: pd.DataFrame, p: float, lag: float) -> str:
    return table.set_index(["pause_plausibility", "lag_years"]).loc[(p, lag), "chosen"]


def test_map_shows_the_appendix_a_regions(baseline_map):
    # heuristic 1: a plausible pause is always picked
    assert _at(baseline_map, 0.75, 0.0) == PAUSE
    assert _at(baseline_map, 0.75, 2.0) == PAUSE
    # heuristic 2: without a pause, scale in the pack
    assert _at(baseline_map, 0.0, 0.0) == SCALE
    assert (baseline_map.margin > 0).all()


def test_relief_and_signal_fade_with_the_lag_and_replacement_decides(baseline_map):
    """Heuristic 3 (self-destruct when far behind) rests on the replacement: a laggard's
    dropping out relieves the leader little, and the costly signal reaches no one once its
    influence has faded; with the others taking over none of the forgone hazard, self-destruction
    wins far behind."""
    cells = decomposition(baseline_map).set_index(["pause_plausibility", "lag_years"])
    pack, far = cells.loc[(0.0, 0.0)], cells.loc[(0.0, 2.0)]
    assert far.relief < 0.1 * pack.relief
    assert 0 < far.costly_signal < 0.1 * pack.costly_signal
    assert pack.influence_window < -10 * pack.costly_signal  # the window, not the signal
    assert (cells.deciding == "replacement").all()
    assert _at(baseline_map, 0.0, 2.0) == SCALE
    assert far.replacement < far.difference  # switching it off alone flips the cell
    scenario = load_scenario(OUTCOMES_YAML).with_updates(
        {**CORE, "outcomes.self_destruct_replacement": 0.0}
    )
    assert _at(outcome_map(scenario, [0.0], [2.0]), 0.0, 2.0) == SELF_DESTRUCT


def test_without_dropout_gains_self_destruction_is_never_chosen():
    table = outcome_map(load_scenario(COUNTER_YAML).with_updates(CORE), [0.0], [0.0, 2.0])
    assert (table.chosen == SCALE).all(), table
    assert (table.self_destruct < table.scale).all()


def test_model_and_exact_values_agree_for_every_outcome():
    choice = choose_outcome(load_scenario(OUTCOMES_YAML).with_updates(CORE))
    for v in choice.values:
        assert v.risk_reduction_model >= v.risk_reduction_exact * (1 - 1e-9)
        assert v.risk_reduction_model == pytest.approx(v.risk_reduction_exact, rel=0.01)


def test_bad_outcomes_field_names_file_field_and_bound(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            {"extends": str(OUTCOMES_YAML), "name": "bad", "outcomes": {"pause_plausibility": 1.5}}
        )
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(bad, allow=[ROOT])
    (line,) = err.value.problems
    assert line.startswith(str(bad))
    assert "outcomes.pause_plausibility" in line
    assert "outcomes.pause_plausibility: must be between 0 and 1 (got 1.5)" in line


@pytest.fixture(scope="module")
def endogenous():
    """models/magma_outcomes.yaml: the baseline's capability terms."""
    scenario = load_scenario(OUTCOMES_YAML)
    return prepare(scenario), scenario.outcomes


def test_over_endogenous_capability_the_lag_scales_the_competition_relief(endogenous):
    inp, o = endogenous
    assert inp.capability.competition_relief == (0.02, 0.15)
    # a quarter-year behind, half a year of lag scale: 0.15 * exp(-0.5); the pre-switch relief kept
    np.testing.assert_allclose(
        scale(inp, o).capability.competition_relief, (0.02, 0.090980), rtol=1e-5
    )
    # a failed pause attempt puts Magma a quarter-year further behind: 0.15 * exp(-1)
    np.testing.assert_allclose(
        pause_failure(inp, o).capability.competition_relief[1], 0.055182, rtol=1e-5
    )


def test_self_destruction_replaces_the_delay_terms_by_its_own(endogenous):
    inp, o = endogenous
    out = self_destruct(inp, o)
    cap = out.capability
    assert (cap.hazard_follows_delay, cap.influence_halflife_years) == (False, None)
    assert cap.competition_relief == (0.02, 0.0)  # dropout_relief instead
    np.testing.assert_array_equal(cap.budget_frontier_share, [0, 0])  # the calendar decline
    assert cap.ai_labour
    assert cap.endogenous
    assert out.hit_cap_by_regime == (inp.hit_cap_by_regime[0], 1.0)  # may stop once past 3x
    s = switch_period(inp)
    np.testing.assert_allclose(out.speedup[s:], inp.speedup[s])  # its AI stops advancing
    np.testing.assert_allclose(out.speedup[:s], inp.speedup[:s])


def test_outcomes_over_endogenous_capability_are_local_optima_of_the_outer_loop():
    scenario = load_scenario(OUTCOMES_YAML).with_updates({"horizon.end": "2027Q4"})
    choice = choose_outcome(scenario)
    assert {v.status for v in choice.values} == {"locally_optimal"}
    models = {v.outcome: v.risk_reduction_model for v in choice.values}
    assert choice.chosen == max(models, key=models.get)
    assert choice.value(PAUSE).branches == ("success", "failure")
    for v in choice.values:
        assert v.risk_reduction_exact == pytest.approx(v.risk_reduction_model, rel=0.02)
    assert set(choice.table().status) == {"locally_optimal"}


@pytest.fixture(scope="module")
def endogenous_pause():
    """The pause of models/magma_outcomes.yaml over the baseline's capability terms, to 2027Q4
    (switch at 2026Q1): its inputs, the pause, and its value at plausibility 0.5."""
    scenario = load_scenario(OUTCOMES_YAML).with_updates({"horizon.end": "2027Q4"})
    inp = prepare(scenario)
    pause = EndogenousPause.of(inp, scenario.outcomes, scenario.solver, None)
    return inp, pause, pause.value(0.5, scenario.solver)


def test_a_pause_over_endogenous_capability_shares_its_decisions_until_the_switch(
    endogenous_pause,
):
    """The two branches of a pause that may succeed run one outer loop, each on its own
    trajectory: the same decisions before the switch, their own from it on. The pause's value
    is their expectation, and each branch's program value is not below its exact value.

    Which branch is worth more is the calibration's, not the model's: the success branch's hold
    cuts hazard within the horizon, while the failure branch, a quarter-year further behind for
    good, leaves a larger tail past it (``tail_full``, each branch's own) for Magma's safety work
    to cut. On data/hazards.csv to 2027Q4 the failing branch is worth more (0.167 against 0.138),
    so no order between the branches is asserted."""
    inp, _, half = endogenous_pause
    assert half.status == "locally_optimal"
    assert half.branches == ("success", "failure")
    assert half.probability == (0.5, 0.5)
    s = switch_period(inp)
    success, failure = half.schedules
    for field in ("effort", "capabilities"):
        np.testing.assert_array_equal(getattr(success, field)[:s], getattr(failure, field)[:s])
        assert np.abs(getattr(success, field)[s:] - getattr(failure, field)[s:]).max() > 1
    assert half.risk_reduction_model == pytest.approx(0.5 * sum(half.model))
    assert all(m >= e - 1e-9 for m, e in zip(half.model, half.exact, strict=True))


def test_a_certain_or_impossible_pause_over_endogenous_capability_is_one_branch_alone(
    endogenous_pause,
):
    """Plausibility 0 is the failing branch's own loop, 1 the succeeding branch's. Between them
    the two-branch loop's value is bounded like with like, both bounds expectations over the
    same two branches: below by the failing pause's plan kept in both branches (a plan of the
    tree, sharing its decisions before the switch, and the loop's start: from a feasible start
    no accepted step loses exact merit), above by the branches solved alone (wait and see, up to
    the loops' local optima). The failing pause alone is no bound: it is the failure branch
    only, which may be worth more than the success branch (see the test above)."""
    _, pause, half = endogenous_pause
    solver = Solver()
    never, always = pause.value(0.0, solver), pause.value(1.0, solver)
    assert (never.branches, always.branches) == (("failure",), ("success",))
    assert never.outcome == always.outcome == PAUSE
    failing = sure("failure", pause.inputs[1], solver)
    assert never.risk_reduction_model == pytest.approx(failing.risk_reduction_model, rel=1e-9)
    succeeding = sure("success", pause.inputs[0], solver)
    assert always.risk_reduction_model == pytest.approx(succeeding.risk_reduction_model, rel=1e-9)
    held = pause.failure.schedules[0]
    kept = 0.5 * sum(evaluate(i, held).risk_reduction(i) for i in pause.inputs)
    assert kept <= half.risk_reduction_exact + 1e-9
    bound = 0.5 * (never.risk_reduction_model + always.risk_reduction_model)
    assert half.risk_reduction_model <= bound * (1 + 1e-3)


def test_no_switch_within_the_horizon_is_refused(tiny):
    # yearly periods: a pause of one year (a whole number of periods; the default 0.5 is refused)
    outcomes = {"pause_years": 1.0}
    scenario = tiny(
        [{}], budgets=[(10, 10), (10, 10)], hazard=[0.1, 0.1], config={"outcomes": outcomes}
    )
    with pytest.raises(ScenarioError, match="never reaches"):
        choose_outcome(scenario)


def test_choose_outcome_needs_an_outcomes_block(core):
    with pytest.raises(ScenarioError, match="no outcomes: block"):
        choose_outcome(core)


def test_outcome_map_figure_draws_the_chosen_regions():
    table = pd.DataFrame(
        {
            "pause_plausibility": [0, 0, 1, 1],
            "lag_years": [0, 2, 0, 2],
            "chosen": [SCALE, SELF_DESTRUCT, PAUSE, PAUSE],
        }
    )
    ax = plot_outcome_map(table)
    codes = ax.images[0].get_array()
    np.testing.assert_array_equal(codes, [[0, 1], [2, 1]])  # rows: lag; columns: plausibility
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["automated scaling", "coordinated pause", "self-destruction"]
    assert "(years)" in ax.get_ylabel()
    assert "probability" in ax.get_xlabel()
    assert not ax.texts  # no decomposition columns, no labels
    plt.close(ax.figure)


LABELS_SHOWN = ["automated scaling", "coordinated pause"]


def test_decomposition_figure_draws_each_part_per_lag_and_labels_the_map():
    parts = {t: [0.01 * (k + 1), -0.01 * (k + 1)] for k, t in enumerate([*TERMS, REST])}
    table = pd.DataFrame(
        {
            "pause_plausibility": [0.0, 0.0, 1.0, 1.0],
            "lag_years": [0.0, 2.0, 0.0, 2.0],
            "chosen": [SCALE, SCALE, PAUSE, PAUSE],
            "rival": [SCALE, SCALE, PAUSE, PAUSE],
            "difference": [-0.1, -0.2, -0.3, -0.4],
            **{t: v * 2 for t, v in parts.items()},
            "deciding": ["relief", "compute", "rest", "relief"],
        }
    )
    ax = plot_decomposition(table)
    bars = [b.get_height() for b in ax.patches]
    assert len(bars) == 2 * len(parts)  # one bar per part and lag, at plausibility 0 only
    assert bars[:2] == [0.01, -0.01]  # influence window at lag 0 and 2
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [-0.1, -0.2])
    plt.close(ax.figure)
    ax = plot_outcome_map(table)
    # rows: lag, columns: plausibility
    labels = [t.get_text() for t in ax.texts]
    assert labels == [
        "competition relief",
        "own hazard held, rest",
        "compute",
        "competition relief",
    ]
    # a note under the outcomes' legend says what each named part means, once each
    (note,) = [c for c in ax.get_children() if c.get_gid() == "cell_note"]
    lines = [t.get_text().replace("\n", " ") for t in note.get_texts()]
    assert lines == [f"{PARTS[p]}: {MEANINGS[p]}" for p in ("relief", "compute", "rest")]
    assert "deciding for or against self-destruction" in note.get_title().get_text().replace(
        "\n", " "
    )
    legends = [c for c in ax.get_children() if isinstance(c, Legend) and c is not note]
    assert [t.get_text() for t in legends[0].get_texts()] == LABELS_SHOWN  # the outcomes' too
    plt.close(ax.figure)


def _on_the_core_program(path: Path, tmp_path: Path) -> Path:
    """A scenario file extending ``path`` with magma_core.yaml's capability block (:data:`CORE`)."""
    out = tmp_path / f"core_{path.name}"
    out.write_text(yaml.safe_dump({"extends": str(path), "name": "core", **CORE}))
    return out


def test_cli_solve_reports_and_writes_each_outcome(tmp_path):
    out = tmp_path / "out"
    path = _on_the_core_program(OUTCOMES_YAML, tmp_path)
    result = CliRunner().invoke(app, ["solve", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "outcome after the switch (2026Q1)" in result.output
    table = pd.read_csv(out / "outcomes.csv", keep_default_na=False)
    assert set(table.outcome) == {SCALE, PAUSE, SELF_DESTRUCT}
    assert table.chosen.sum() == 1


def test_cli_outcomes_writes_map_and_figure_and_refuses_bad_grids(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(app, ["outcomes", str(COUNTER_YAML), "--lag", "0:2"])
    assert bad.exit_code == 2
    assert "--lag '0:2'" in bad.output
    out = tmp_path / "map"
    path = _on_the_core_program(COUNTER_YAML, tmp_path)
    args = ["outcomes", str(path), "--plausibility", "0:0:1", "--lag", "0:0:1"]
    result = runner.invoke(app, [*args, "--workers", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    names = {"outcome_map.csv", "outcome_map.png"}
    names |= {"outcome_decomposition.csv", "outcome_decomposition.png", "units.csv"}
    assert {p.name for p in out.iterdir()} == names | {MANIFEST}
    units = pd.read_csv(out / "units.csv")  # as a result's: every numeric column has a unit
    for name in ("outcome_map", "outcome_decomposition"):
        numeric = set(pd.read_csv(out / f"{name}.csv").select_dtypes("number").columns)
        assert set(units.column[units.table == name]) == numeric, name
    assert set(units.unit[units.column == SCALE]) == {HAZARD_UNIT}
    assert pd.read_csv(out / "outcome_map.csv").chosen.tolist() == [SCALE]
    cells = pd.read_csv(out / "outcome_decomposition.csv")
    assert cells.deciding.tolist() == ["replacement"]  # others take over all forgone hazard
    assert cells.relief.tolist() == [0.0]  # no relief on the counter-scenario
