"""Sweeps: points, validation, outcomes, and the same table from every executor."""

from __future__ import annotations

import importlib
import itertools
import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from allocopt import ScenarioError, solve
from allocopt.analyses.runner import executor, run_many
from allocopt.analyses.sweep import MEASURES, Parameter, field_value, grid, one_at_a_time, sweep
from allocopt.optimize.session import Model
from tests.analyses.finish_order import finished, last_first
from tests.optimize.test_session import restarted_value_close

sweep_module = importlib.import_module("allocopt.analyses.sweep")

CAP = "velocity.hit_cap_post_acceleration"
HAZARD = "risk.hazard_multiplier_pre_acceleration"


@pytest.fixture(scope="module")
def small_grid(core):
    params = [Parameter.parse(f"{CAP}=0.1:0.3:2"), Parameter.parse(f"{HAZARD}=1:3:2")]
    return params, sweep(core, params, full_grid=True, chunk_size=3)


def test_parse_spec():
    p = Parameter.parse("budget_multiplier.compute=0.5:1.5:3")
    assert p.field == "budget_multiplier.compute"
    assert p.values == (0.5, 1.0, 1.5)
    assert Parameter.parse("risk.cuts=8:8:1").values == (8.0,)


@pytest.mark.parametrize("spec", ["velocity", "a=1:2", "a=x:2:3", "a=1:2:0", "a=1:inf:2"])
def test_bad_spec_is_a_scenario_error(spec):
    with pytest.raises(ScenarioError, match="--param"):
        Parameter.parse(spec)


def test_points_one_at_a_time_and_grid(core):
    a, b = Parameter(CAP, (0.1, 0.2)), Parameter("budget_multiplier.staff", (0.5, 1.5, 2.0))
    oat = one_at_a_time(core, [a, b])
    assert len(oat) == 1 + 2 + 3
    assert oat[0] == {"varied": "base", CAP: 0.25, "budget_multiplier.staff": 1.0}
    assert all(p["budget_multiplier.staff"] == 1.0 for p in oat if p["varied"] == CAP)
    assert len(grid([a, b])) == 6


def test_field_value_knows_implied_defaults(core):
    assert field_value(core, "intervention_overrides.security_forward_rd.lead_time_years") == 1.5
    assert field_value(core, "velocity.acceleration_threshold") == 3.0


def test_unknown_field_or_bad_value_fails_before_solving(core):
    with pytest.raises(ScenarioError, match="nope"):
        sweep(core, [Parameter("velocity.nope", (1.0,))])
    with pytest.raises(ScenarioError, match="hit_cap_post_acceleration"):
        sweep(core, [Parameter(CAP, (0.5, 1.5))])


def test_grid_rows_match_single_solves(core, small_grid):
    _, table = small_grid
    assert len(table) == 4
    assert list(table.columns) == ["point", "varied", CAP, HAZARD, *MEASURES]
    assert (table.status == "optimal").all()
    row = table[(table[CAP] == 0.3) & (table[HAZARD] == 3.0)].iloc[0]
    single = solve(core.with_updates({CAP: 0.3, HAZARD: 3.0}))
    assert row.risk_reduction_model == pytest.approx(single.objective_model, rel=1e-7)
    assert row.risk_reduction_exact == pytest.approx(
        single.summary["risk_reduction_exact"], rel=1e-4
    )
    lo, hi = table[table[HAZARD] == 1.0].sort_values(CAP).risk_reduction_exact
    assert hi > lo  # a looser velocity-hit cap never lowers the optimum


def test_infeasible_points_are_reported_not_raised(core):
    """The chunk's model goes on after an infeasible point and still finds the next optimum."""
    table = sweep(core, [Parameter("safety_floor_share.compute", (0.97, 0.03))])
    assert table.status.tolist() == ["optimal", "infeasible", "optimal"]
    assert table.risk_reduction_exact.isna().tolist() == [False, True, False]
    fresh = solve(core.with_updates({"safety_floor_share.compute": 0.03}))
    assert table.risk_reduction_model.iloc[2] == pytest.approx(fresh.objective_model, rel=1e-7)


def test_same_table_through_any_executor(core, small_grid):
    params, table = small_grid
    with ThreadPoolExecutor(max_workers=1) as pool:
        threaded = sweep(core, params, full_grid=True, chunk_size=3, executor=pool)
    assert threaded.equals(table)


def test_run_many_keeps_order():
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert run_many(list(range(20)), abs, pool) == list(range(20))
    assert run_many([-1, -2], abs) == [1, 2]


def test_values_valid_alone_but_not_together_are_marked_invalid(core):
    """An intervention must use some resource: zero compute and zero staff are each fine alone."""
    item = "intervention_overrides.security_incremental"
    params = [
        Parameter(f"{item}.compute_per_effort_kh100e", (0.0, 0.01)),
        Parameter(f"{item}.staff_per_effort_fte", (0.0, 1.0)),
    ]
    table = sweep(core, params, full_grid=True)
    assert table.status.iloc[0].startswith("invalid: ")
    assert "must use some compute or staff" in table.status.iloc[0]
    assert (table.status.iloc[1:] == "optimal").all()


def test_grid_walks_one_step_at_a_time():
    params = [Parameter("a", (0, 1)), Parameter("b", (0, 1, 2)), Parameter("c", (0, 1))]
    points = [tuple(p[f] for f in "abc") for p in grid(params)]
    assert sorted(points) == sorted(itertools.product((0, 1), (0, 1, 2), (0, 1)))
    steps = [
        sum(abs(x - y) for x, y in zip(p, q, strict=True)) for p, q in itertools.pairwise(points)
    ]
    assert steps == [1] * (len(points) - 1)


def test_executor_gives_this_process_or_a_process_pool():
    with executor(1) as none:
        assert none is None
    with executor(2) as pool:
        assert isinstance(pool, ProcessPoolExecutor)
        assert run_many([-1, -2, -3], abs, pool) == [1, 2, 3]


@pytest.fixture(scope="module")
def first_year(core):
    """The core program over four quarters: a sweep point solves in a blink."""
    return core.with_updates({"horizon.end": "2025Q4"})


def test_a_process_pool_returns_points_in_order_whatever_order_they_finish(
    first_year, tmp_path, monkeypatch
):
    """Two spawned workers; the first chunk (points 0-1) finishes after the second (points 2-3)."""
    params = [Parameter(CAP, (0.1, 0.2)), Parameter(HAZARD, (1.0, 3.0))]
    local = sweep(first_year, params, full_grid=True, chunk_size=2)
    monkeypatch.setattr(sweep_module, "run_many", last_first(tmp_path))
    with executor(2) as pool:
        pooled = sweep(first_year, params, full_grid=True, chunk_size=2, executor=pool)
    order, pids = finished(tmp_path)
    assert order == [1, 0]
    assert len(pids) == 2
    assert os.getpid() not in pids
    assert pooled.equals(local)
    assert pooled.point.tolist() == [0, 1, 2, 3]
    assert list(zip(pooled[CAP], pooled[HAZARD], strict=True)) == [
        (0.1, 1.0),
        (0.1, 3.0),
        (0.2, 3.0),
        (0.2, 1.0),
    ]
    assert (pooled.status == "optimal").all()


def test_a_sweep_of_the_endogenous_baseline_updates_one_model_per_chunk(baseline, monkeypatch):
    """One chunk of three points on the baseline (to 2027Q4, past its regime switch): one Model,
    built once, updated in place from point to point; each point's restarted outer loop matches
    a fresh solve (the tolerance of tests/optimize/test_session.py)."""
    short = baseline.with_updates({"horizon.end": "2027Q4"})
    models = []

    class Counted(Model):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.kinds: list[str] = []
            self.iterations: list[int] = []
            models.append(self)

        def set_scenario(self, *args, **kwargs):
            kind = super().set_scenario(*args, **kwargs)
            self.kinds.append(kind)
            return kind

        def solve(self, *args, **kwargs):
            result = super().solve(*args, **kwargs)
            self.iterations.append(result.summary["outer_iterations"])
            return result

    monkeypatch.setattr(sweep_module, "Model", Counted)
    table = sweep(short, [Parameter(CAP, (0.15, 0.2))], chunk_size=3)
    assert len(models) == 1
    (model,) = models
    assert model.endogenous
    assert model.kinds == ["in_place", "in_place"]
    assert model.builds == 1
    assert (table.status == "locally_optimal").all()
    fresh = solve(short.with_updates({CAP: 0.15, "solver.threads": 1}))
    row = table[table[CAP] == 0.15].iloc[0]
    assert restarted_value_close(row.risk_reduction_exact, fresh.summary["risk_reduction_exact"])
    # one restart may take an iteration more than a fresh solve; over several changes restarts
    # save iterations (tests/optimize/test_session.py)
    assert model.iterations[1] <= fresh.summary["outer_iterations"] + 1


def test_a_point_repeating_the_base_point_is_solved_once(core, monkeypatch):
    """One-at-a-time over values that include the base value: that point is not solved again;
    its row is the base point's, with its own ``varied``."""
    solved = []

    class Counted(Model):
        def solve(self, *args, **kwargs):
            solved.append(self.scenario.velocity.hit_cap_post_acceleration)
            return super().solve(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "Model", Counted)
    table = sweep(core, [Parameter(CAP, (0.2, 0.25, 0.3))], chunk_size=2)
    assert solved == [0.25, 0.2, 0.3]
    assert list(table.varied) == ["base", CAP, CAP, CAP]
    assert list(table.point) == [0, 1, 2, 3]
    base, repeat = table.iloc[0], table.iloc[2]
    assert repeat[CAP] == 0.25
    assert repeat.drop(["point", "varied"]).equals(base.drop(["point", "varied"]))
    assert table.iloc[1].risk_reduction_exact < table.iloc[3].risk_reduction_exact
