"""Monte Carlo evaluation of a fixed plan: reproducible draws, hand-checkable samples, validation,
the same tables through any executor, and the fan chart."""

from __future__ import annotations

import dataclasses
import math
import pickle
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.backends.backend_agg import FigureCanvasAgg
from typer.testing import CliRunner

from allocopt import Scenario, ScenarioError, Schedule, evaluate, load_scenario
from allocopt.analyses.montecarlo import (
    KEPT,
    QUANTITIES,
    MonteCarlo,
    carry,
    draw,
    evaluate_sample,
    montecarlo,
    summarize,
)
from allocopt.analyses.policies import essay_split, follow_rule
from allocopt.analyses.runner import executor
from allocopt.analyses.sweep import FIELD_UNIT
from allocopt.cli import app
from allocopt.numeric.inputs import prepare
from allocopt.plot.uncertainty import fan_table, plot_fan
from allocopt.results.names import HAZARD_UNIT
from tests.conftest import CORE

HAZARD = "risk.hazard_multiplier_post_acceleration"
SPREAD = {  # the kinds of field the essay calls uncertain, one distribution each
    HAZARD: {"distribution": "lognormal", "median": 1.0, "sigma": 0.5},
    "risk.hazard_multiplier_pre_acceleration": {"distribution": "uniform", "low": 0.5, "high": 2},
    "budget_multiplier.compute": {"distribution": "normal", "mean": 1, "sd": 0.2, "low": 0.6},
    "velocity.acceleration_threshold": {
        "distribution": "triangular",
        "low": 2.0,
        "mode": 3.0,
        "high": 5.0,
    },
}


def uncertain(scenario: Scenario, parameters: dict, samples: int = 20, seed: int = 1) -> Scenario:
    """``scenario`` with an uncertainty block."""
    block = {"samples": samples, "seed": seed, "parameters": parameters}
    return scenario.with_updates({"uncertainty": block})


@pytest.fixture(scope="module")
def plan(core_result, core) -> Schedule:
    """The optimum of the core program, as the schedule its result carries."""
    return core_result.schedule


@pytest.fixture(scope="module")
def spread_run(core, plan) -> MonteCarlo:
    """20 samples of four uncertain fields, evaluated in this process."""
    return montecarlo(uncertain(core, SPREAD), plan)


def write_scenario(tmp_path: Path, uncertainty: dict) -> Path:
    path = tmp_path / "mc.yaml"
    doc = {"extends": str(CORE), "name": "mc", "uncertainty": uncertainty}
    path.write_text(yaml.safe_dump(doc))
    return path


def test_the_plan_is_the_schedule_the_result_reports(core, core_result, plan):
    inp = prepare(core)
    exact = evaluate(inp, plan).risk_reduction(inp)
    assert exact == pytest.approx(core_result.summary["risk_reduction_exact"], rel=1e-12)
    effort = core_result.allocation.query("resource == 'effort'").value.to_numpy()
    np.testing.assert_allclose(effort, plan.effort.T.ravel().round(9), rtol=0, atol=1e-12)


def test_same_seed_same_tables_other_seed_other_samples(core, plan, spread_run):
    again = montecarlo(uncertain(core, SPREAD), plan)
    for name, table in spread_run.tables().items():
        pd.testing.assert_frame_equal(table, again.tables()[name], check_exact=True)
    other = montecarlo(uncertain(core, SPREAD, seed=2), plan)
    for field in SPREAD:
        assert not np.array_equal(other.samples[field], spread_run.samples[field])
    assert other.statistic("risk_reduction", "mean") != spread_run.statistic(
        "risk_reduction", "mean"
    )


def test_each_field_draws_its_own_stream(core):
    both = draw(uncertain(core, SPREAD, samples=30).uncertainty)
    alone = draw(uncertain(core, {HAZARD: SPREAD[HAZARD]}, samples=50).uncertainty)
    # adding fields leaves a field's draws unchanged; more samples extend the same sequence
    np.testing.assert_array_equal(both[HAZARD], alone[HAZARD][:30])


def test_draws_respect_their_distributions(core):
    parameters = {
        HAZARD: {"distribution": "lognormal", "median": 2.0, "sigma": 0.3},
        "budget_multiplier.compute": {
            "distribution": "normal",
            "mean": 1.0,
            "sd": 0.5,
            "low": 0.9,
            "high": 1.2,
        },
        "budget_multiplier.staff": {"distribution": "uniform", "low": 0.8, "high": 0.9},
        "velocity.acceleration_threshold": {
            "distribution": "triangular",
            "low": 2.0,
            "mode": 2.5,
            "high": 4.0,
        },
    }
    d = draw(uncertain(core, parameters, samples=4000).uncertainty)
    # the median of a lognormal is its median; sampling error at n=4000 is about 0.6%
    assert np.median(d[HAZARD]) == pytest.approx(2.0, rel=0.03)
    assert d["budget_multiplier.compute"].between(0.9, 1.2).all()
    assert d["budget_multiplier.compute"].min() < 0.91
    assert d["budget_multiplier.compute"].max() > 1.19
    assert d["budget_multiplier.staff"].between(0.8, 0.9).all()
    # triangular mean is (low + mode + high) / 3 = 2.8333
    assert d["velocity.acceleration_threshold"].mean() == pytest.approx(8.5 / 3, rel=0.01)
    assert d["velocity.acceleration_threshold"].between(2.0, 4.0).all()


def test_zero_spread_reproduces_the_deterministic_evaluation(core, plan):
    nominal = {
        HAZARD: {"distribution": "normal", "mean": 1.0, "sd": 0},
        "budget_multiplier.compute": {"distribution": "uniform", "low": 1.0, "high": 1.0},
        "velocity.acceleration_threshold": {
            "distribution": "triangular",
            "low": 3.0,
            "mode": 3.0,
            "high": 3.0,
        },
        "budget_multiplier.staff": {"distribution": "lognormal", "median": 1.0, "sigma": 0},
    }
    mc = montecarlo(uncertain(core, nominal, samples=3), plan)
    inp = prepare(core)
    ev = evaluate(inp, plan)
    rule = evaluate(inp, follow_rule(inp, essay_split)).risk_reduction(inp)
    s = mc.samples
    assert (s.risk_reduction == ev.risk_reduction(inp)).all()
    assert (s.risk_reduction_essay_rule == rule).all()
    assert (s.violations == 0).all()
    cumulative = float(inp.hazard.sum() * inp.dt)
    assert (s.probability_without_plan == -math.expm1(-cumulative)).all()
    with_plan = -np.expm1(-np.cumsum(ev.hazard_plan.sum(axis=1)) * inp.dt)
    np.testing.assert_array_equal(mc.paths.probability_with_plan, np.tile(with_plan, 3))
    assert mc.statistic("risk_reduction", "nominal") == ev.risk_reduction(inp)
    assert mc.statistic("risk_reduction", "sd") == pytest.approx(
        0, abs=1e-12
    )  # rounding of the mean
    # the optimum of the core program is at least as good as the essay's rule on the nominal sample
    assert (s.risk_reduction >= s.risk_reduction_essay_rule).all()
    assert mc.statistic("plan_worse_than_essay_rule", "probability") == 0


def test_a_hazard_multiplier_scales_the_cumulative_hazard_without_plan(core, plan):
    both = {"distribution": "uniform", "low": 0.5, "high": 2.0}
    scaled = uncertain(core, {HAZARD: both}, samples=10)
    mc = montecarlo(scaled, plan)
    k = mc.samples[HAZARD].to_numpy()
    base = -math.log1p(-mc.statistic("probability_without_plan", "nominal"))
    inp = prepare(core)
    post = float(inp.hazard[inp.post_acceleration].sum() * inp.dt)
    expected = base + (k - 1) * post  # only the post-acceleration hazard is multiplied
    np.testing.assert_allclose(
        -np.log1p(-mc.samples.probability_without_plan), expected, rtol=1e-12
    )
    assert len(set(k)) == 10
    assert k.min() >= 0.5
    assert k.max() <= 2.0


def test_the_plan_is_carried_as_shares_of_each_budget():
    plan = Schedule(effort=np.array([[2.0, 4.0]]), capabilities=np.array([[10.0, 6.0]]))
    budget = np.array([[20.0, 10.0]])
    carried = carry(plan, budget, np.array([[10.0, 12.0]]))  # compute halves, staff +20%
    np.testing.assert_allclose(carried.capabilities, [[5.0, 7.2]], rtol=1e-15)
    np.testing.assert_array_equal(carried.effort, [[1.0, 2.0]])  # the scarcer resource: x0.5


BUDGETS = {
    "budget_multiplier.compute": {"distribution": "uniform", "low": 0.6, "high": 1.4},
    "budget_multiplier.staff": {"distribution": "uniform", "low": 0.7, "high": 1.3},
}
BOTH_HAZARDS = ("risk.hazard_multiplier_pre_acceleration", HAZARD)


def test_on_the_baseline_the_nominal_sample_is_the_outer_loops_exact_value(
    baseline, baseline_result, core
):
    """The bundled example's program: each sample runs the endogenous dynamics, so the nominal
    sample reproduces the exact value the outer loop reported, which the core program's fixed
    trajectory (no delay, no postponed risk) does not."""
    plan = baseline_result.schedule
    mc = montecarlo(uncertain(baseline, BUDGETS, samples=4), plan)
    exact = baseline_result.summary["risk_reduction_exact"]
    assert mc.statistic("risk_reduction", "nominal") == pytest.approx(exact, rel=1e-12)
    fixed = prepare(core)
    assert abs(evaluate(fixed, plan).risk_reduction(fixed) - exact) > 1e-3
    assert (mc.samples.violations == 0).all()  # other budgets: shares, never an overspend


def test_on_the_baseline_a_carried_plan_keeps_its_velocity_and_delay(baseline, baseline_result):
    """Budgets that follow Magma's own delay (capability.budget_frontier_share) scale with the
    sample's multipliers, so capabilities carried as shares keep every period's velocity and the
    plan gives up the same progress on every budget sample."""
    plan, nominal = baseline_result.schedule, prepare(baseline)
    ev = evaluate(nominal, plan)
    assert ev.delay_end > 0.1
    for compute, staff in [(0.6, 1.3), (1.4, 0.7)]:
        inp = prepare(
            baseline.with_updates(
                {"budget_multiplier.compute": compute, "budget_multiplier.staff": staff}
            )
        )
        carried = evaluate(inp, carry(plan, nominal.budget, inp.budget))
        np.testing.assert_allclose(carried.velocity, ev.velocity, rtol=1e-12)
        assert carried.delay_end == pytest.approx(ev.delay_end, rel=1e-12)
        assert carried.violations == ()


@pytest.mark.parametrize("k", [0.5, 1.7])
def test_on_the_baseline_a_uniform_hazard_multiplier_scales_the_plans_value(
    baseline, baseline_result, k
):
    """The trajectory (delay, regime switch) follows the schedule and budgets only and reads a
    hazard k times the nominal one, so every term of the exact risk reduction, the own risk the
    plan postpones past the horizon included, scales by k."""
    plan, budget = baseline_result.schedule, prepare(baseline).budget
    nominal = evaluate_sample(baseline, plan, budget, {})
    scaled = evaluate_sample(baseline, plan, budget, dict.fromkeys(BOTH_HAZARDS, k))
    assert scaled["risk_reduction"] == pytest.approx(k * nominal["risk_reduction"], rel=1e-10)
    for name in ("probability_without_plan", "probability_with_plan_and_postponed"):
        cumulative = -math.log1p(-nominal[name])
        assert -math.log1p(-scaled[name]) == pytest.approx(k * cumulative)


def test_a_plan_on_other_budgets_never_overspends(core, plan):
    mc = montecarlo(uncertain(core, BUDGETS, samples=10), plan)
    assert (mc.samples.violations == 0).all()
    assert mc.statistic("samples_with_violations", "probability") == 0


def test_summary_statistics_come_from_the_samples(spread_run):
    s = spread_run.samples
    assert spread_run.statistic("risk_reduction", "q50") == s.risk_reduction.median()
    assert spread_run.statistic("risk_reduction", "q95") == s.risk_reduction.quantile(0.95)
    worse = (s.risk_reduction < s.risk_reduction_essay_rule - 1e-9).mean()
    assert spread_run.statistic("plan_worse_than_essay_rule", "probability") == worse
    # a later regime switch puts the plan's post-acceleration hits under the pre-acceleration cap
    late = s["velocity.acceleration_threshold"] > 3.3838  # the 2026Q1 speed-up
    assert (s.violations[late] > 0).all()
    assert (s.violations[~late] == 0).all()
    assert late.any()
    assert (~late).any()


def test_two_processes_give_the_tables_of_one(core, plan, spread_run):
    with executor(2) as pool:
        remote = montecarlo(uncertain(core, SPREAD), plan, executor=pool, chunk_size=7)
    for name, table in spread_run.tables().items():
        pd.testing.assert_frame_equal(table, remote.tables()[name], check_exact=True)


@pytest.mark.parametrize(
    ("parameters", "named"),
    [
        ({"velocity.nope": {"distribution": "uniform", "low": 1, "high": 2}}, "velocity.nope"),
        (
            {"nosuch.field": {"distribution": "uniform", "low": 1, "high": 2}},
            "nosuch: unknown field",
        ),
        ({"risk.cuts": {"distribution": "uniform", "low": 8, "high": 9}}, "risk.cuts"),
        ({"capability.ai_labour": {"distribution": "uniform", "low": 1, "high": 1}}, "a switch"),
        ({"budget_multiplier.gpu": {"distribution": "uniform", "low": 1, "high": 1}}, "'compute'"),
        (
            {HAZARD: {"distribution": "uniform", "low": -2, "high": -1}},
            "must be between 0 and 1000",
        ),
        ({HAZARD: {"distribution": "normal", "mean": 1, "sd": -1}}, "normal.sd"),
        ({HAZARD: {"distribution": "normal", "mean": 1, "sd": 0.1, "low": 5}}, "almost none"),
        ({HAZARD: {"distribution": "uniform", "low": 2, "high": 1}}, "must not exceed high"),
        ({HAZARD: {"distribution": "triangular", "low": 1, "mode": 3, "high": 2}}, "low <= mode"),
        ({HAZARD: {"distribution": "lognormal", "median": 0, "sigma": 1}}, "lognormal.median"),
        ({HAZARD: {"distribution": "beta", "a": 1}}, "'normal', 'lognormal', 'uniform'"),
        ({HAZARD: {"mean": 1}}, "discriminator 'distribution'"),
        ({}, "uncertainty.parameters"),
    ],
)
def test_a_bad_uncertainty_block_is_named_on_load(tmp_path, parameters, named):
    path = write_scenario(tmp_path, {"samples": 5, "seed": 0, "parameters": parameters})
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert all(str(path) in p and "uncertainty" in p for p in info.value.problems)
    assert any(named in p for p in info.value.problems), info.value.problems


@pytest.mark.parametrize(("field", "value"), [("samples", 0), ("seed", -1), ("seed", 1.5)])
def test_samples_and_seed_are_checked(tmp_path, field, value):
    block = {"samples": 5, "seed": 0, "parameters": {HAZARD: SPREAD[HAZARD]}, field: value}
    with pytest.raises(ScenarioError, match=f"uncertainty.{field}"):
        load_scenario(write_scenario(tmp_path, block))


def test_a_drawn_value_the_scenario_rejects_is_named(core, plan):
    wide = uncertain(core, {HAZARD: {"distribution": "normal", "mean": 1, "sd": 1}})
    with pytest.raises(ScenarioError) as info:
        montecarlo(wide, plan)
    (problem,) = info.value.problems
    assert f"uncertainty.parameters.{HAZARD}: sample" in problem
    assert "must be between 0 and 1000 (got" in problem
    assert "truncate" in problem


def test_values_valid_alone_but_not_together_name_the_sample(core, plan):
    # an intervention must use some compute or staff: each field may be 0, not both
    zero = {"distribution": "uniform", "low": 0, "high": 0}
    item = "intervention_overrides.control_evals"
    both = {f"{item}.compute_per_effort_kh100e": zero, f"{item}.staff_per_effort_fte": zero}
    with pytest.raises(ScenarioError) as info:
        montecarlo(uncertain(core, both, samples=3), plan)
    (problem,) = info.value.problems
    assert problem.startswith(f"uncertainty: sample 0 ({item}.compute_per_effort_kh100e=0, ")
    assert "must use some compute or staff" in problem
    # the error crosses a process pool with its problems intact
    assert pickle.loads(pickle.dumps(info.value)).problems == [problem]


def test_a_scenario_without_uncertainty_has_nothing_to_sample(core, plan):
    with pytest.raises(ScenarioError, match="no uncertainty: block"):
        montecarlo(core, plan)


runner = CliRunner()


def test_cli_solve_writes_the_monte_carlo_tables(tmp_path):
    block = {"samples": 6, "seed": 3, "parameters": {HAZARD: SPREAD[HAZARD]}}
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["solve", str(write_scenario(tmp_path, block)), "--out", str(out), "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "Monte Carlo evaluation of the deterministic optimum above: 6 samples" in result.output
    names = {p.name for p in out.iterdir()}
    assert {"montecarlo_samples.csv", "montecarlo_summary.csv", "knobs.csv"} <= names
    assert (out / "montecarlo_fan.png").read_bytes().startswith(b"\x89PNG")
    samples = pd.read_csv(out / "montecarlo_samples.csv")
    assert list(samples["sample"]) == list(range(6))
    summary = pd.read_csv(out / "montecarlo_summary.csv")
    mean = summary.loc[(summary.quantity == "risk_reduction") & (summary.statistic == "mean")]
    assert mean.value.iloc[0] == pytest.approx(samples.risk_reduction.mean(), rel=1e-9)
    # montecarlo_units.csv gives every numeric column of the wide tables (but the sample's
    # number) its unit, in the form of a result's units.csv
    units = pd.read_csv(out / "montecarlo_units.csv")
    assert list(units.columns) == ["table", "column", "unit"]
    paths = pd.read_csv(out / "montecarlo_paths.csv")
    for name, table in {"montecarlo_samples": samples, "montecarlo_paths": paths}.items():
        # "broken" is text (empty, so read as NaN, when no sample breaks a constraint)
        numeric = table.drop(columns=["sample", "broken"], errors="ignore")
        numeric = numeric.select_dtypes("number").columns
        assert list(units.column[units.table == name]) == list(numeric), name
    by_column = units.set_index("column").unit
    assert by_column[HAZARD] == FIELD_UNIT
    assert by_column["risk_reduction"] == HAZARD_UNIT
    assert by_column["violations"] == "count"


@pytest.mark.parametrize(
    ("distribution", "named"),
    [
        ({"distribution": "uniform", "low": 1, "high": 1}, "velocity.nope"),  # on load
        ({"distribution": "normal", "mean": 1, "sd": 1}, "sample"),  # when drawn
    ],
)
def test_cli_bad_uncertainty_exits_2_and_writes_nothing(tmp_path, distribution, named):
    field = "velocity.nope" if named == "velocity.nope" else HAZARD
    block = {"samples": 20, "seed": 0, "parameters": {field: distribution}}
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["solve", str(write_scenario(tmp_path, block)), "--out", str(out), "--workers", "1"]
    )
    assert result.exit_code == 2, result.output
    assert named in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_fan_chart_draws_the_quantiles_of_the_samples(spread_run):
    fig = plot_fan(spread_run)
    (ax,) = fig.axes
    fan = fan_table(spread_run)
    by_gid = {a.get_gid(): a for a in [*ax.lines, *ax.collections]}
    assert set(by_gid) == {
        f"{kind}_{side}"
        for kind in ("band_5%_95%", "band_25%_75%", "median")
        for side in ("without_plan", "with_plan")
    }
    median = by_gid["median_with_plan"].get_ydata()
    np.testing.assert_array_equal(median, np.append(0.0, fan[("with_plan", 0.5)]))
    paths = spread_run.paths
    last = paths[paths.period == "2029Q4"].probability_with_plan
    assert median[-1] == last.median()
    assert "Monte Carlo, 20 samples" in ax.get_title(loc="left")
    assert ax.get_ylabel() == "Probability since the start"  # the headline vocabulary
    assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    assert mdates.num2date(ax.get_xlim()[0]).year == 2025


def test_a_later_switch_breaks_the_velocity_cap_and_the_summary_names_it(baseline, baseline_result):
    # the baseline's plan slows by the post-acceleration cap from 2026Q1; a sample whose switch
    # comes later holds the pre-acceleration cap there: the plan breaks it, and the velocity
    # family is named; the nominal sample breaks nothing
    plan, budget = baseline_result.schedule, prepare(baseline).budget
    nominal = evaluate_sample(baseline, plan, budget, {})
    late = evaluate_sample(baseline, plan, budget, {"velocity.acceleration_threshold": 4.5})
    assert (nominal["violations"], nominal["broken"]) == (0, "")
    assert late["violations"] > 0
    assert late["broken"] == "velocity"
    for row in (nominal, late):  # the four probabilities, in pairs on one basis
        assert row["probability_with_plan"] < row["probability_without_plan"]
        assert row["probability_with_plan_and_postponed"] > row["probability_with_plan"]
        assert row["probability_without_plan_and_postponed"] > row["probability_without_plan"]


def test_summary_counts_each_family_and_the_samples_kept():
    samples = pd.DataFrame(
        {
            "risk_reduction": [1.0, 2.0, 4.0, 8.0],
            "violations": [0, 2, 0, 3],
            "broken": ["", "velocity", "", "velocity, staff"],
            **{q: [0.5] * 4 for q in QUANTITIES if q != "risk_reduction"},
            "risk_reduction_essay_rule": [1.5, 3.0, 3.0, 3.0],  # the plan below it in 0 and 1
            "risk_reduction_capabilities_only": [0.0, 2.5, 0.0, 0.0],  # in 1 (breaks one)
        }
    )
    summary = summarize(samples, dict.fromkeys(QUANTITIES, 0.5))
    mc = MonteCarlo("s", 1, samples, summary, pd.DataFrame())
    assert mc.statistic("samples_with_violations", "probability") == 0.5
    assert mc.statistic("samples_breaking_velocity", "probability") == 0.5
    assert mc.statistic("samples_breaking_staff", "probability") == 0.25
    assert mc.statistic(KEPT, "count") == 2
    assert mc.statistic(KEPT, "mean") == 2.5  # samples 0 and 2
    # the comparison with a policy over all samples and over the kept ones, each unit saying so
    assert mc.statistic("plan_worse_than_essay_rule", "probability") == 0.5  # 0 and 1 of 4
    kept_worse = mc.statistic("plan_worse_than_essay_rule_where_kept", "probability")
    assert kept_worse == 0.5  # sample 0 of 0 and 2
    assert mc.statistic("plan_worse_than_capabilities_only", "probability") == 0.25  # 1
    assert mc.statistic("plan_worse_than_capabilities_only_where_kept", "probability") == 0
    units = summary.set_index("quantity").unit
    assert units["plan_worse_than_essay_rule"] == "share of all samples"
    assert units["samples_with_violations"] == "share of all samples"  # as the text says it
    assert units["samples_breaking_velocity"] == "share of all samples"
    assert "keeps every constraint" in units["plan_worse_than_essay_rule_where_kept"]
    text = mc.text_summary()
    assert (
        "the plan does worse than the essay's rule in 50.0% of all 4 samples, 50.0% of the 2 "
        "where it keeps every constraint\n  the plan does worse than capabilities only in 25.0% "
        "of all 4 samples, 0.0% of the 2 where it keeps every constraint"
    ) in text
    assert (
        "the plan breaks a constraint in 50.0% of all 4 samples "
        "(staff frictions 25.0%, velocity-hit cap 50.0%: the plan"
    ) in text
    assert "over the 2 samples where it keeps every constraint: mean 2.5000" in text


def test_fan_chart_title_fits_in_the_figure(spread_run):
    """The title of a long scenario name with many samples is not cut off at the right."""
    fig = plot_fan(dataclasses.replace(spread_run, scenario_name="magma_montecarlo_long"))
    drawn = fig.get_tightbbox(FigureCanvasAgg(fig).get_renderer())  # inches, everything drawn
    assert drawn.x1 <= fig.bbox_inches.x1
