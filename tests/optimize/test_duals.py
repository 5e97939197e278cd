"""Shadow prices: each dual is the objective's change per unit relaxation of its row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest

from allocopt import Model
from allocopt.model import build_model
from allocopt.model.linearization import reference
from allocopt.numeric.inputs import prepare
from allocopt.optimize.duals import FIXED_MILP, DualRows
from allocopt.optimize.highs.runner import HighsRunner
from allocopt.optimize.local_duals import (
    BOUND,
    LOOP,
    RTOL,
    SLP_LOCAL,
    RowShifts,
    finite_difference,
    local_duals,
    rerun_value,
)
from allocopt.optimize.outer import successive_lp
from allocopt.optimize.pipeline import shadow_prices, solve, solve_at
from allocopt.optimize.slp_program import SlpProgram
from allocopt.results.result import DUAL_COLUMNS


def _dual(duals: pd.DataFrame, constraint: str, period: str, resource="", activity="") -> float:
    row = duals[
        (duals.constraint == constraint)
        & (duals.period == period)
        & (duals.resource == resource)
        & (duals.activity == activity)
    ]
    assert len(row) == 1
    return float(row.value.iloc[0])


def _relaxed_objective(core, component: str, index: tuple, step: float) -> float:
    """Optimum of a fresh model whose one row's right-hand side is raised by ``step``."""
    m = build_model(prepare(core))
    con = m.component(component)[index]
    upper = con.upper + step
    con.set_value(con.body == upper if con.equality else con.body <= upper)
    return HighsRunner()(m)


@pytest.fixture(scope="module")
def core_optimum(core) -> float:
    """The core program's LP optimum (the result's ``objective_model`` is the value at the
    smoothed schedule, up to ``solver.smooth_tolerance`` below it: docs/model.md, "Tie-break")."""
    return HighsRunner()(build_model(prepare(core)))


@pytest.mark.parametrize(
    ("component", "index", "step", "label"),
    [
        ("budget_limit", ("2027Q2", "compute"), 2.0, ("2027Q2", "compute", "")),
        ("budget_limit", ("2026Q3", "staff"), 2.0, ("2026Q3", "staff", "")),
        ("budget_limit", ("2025Q2", "compute"), 0.1, ("2025Q2", "compute", "")),
        ("velocity_hit_limit", "2027Q2", 1e-4, ("2027Q2", "", "")),
        # a row at a degenerate vertex has a kink: its dual is one of the one-sided slopes
        # (coordination_prep in 2026Q2 is such a row on the core program), so this one is not
        (
            "stock_balance",
            ("2025Q3", "security_forward_rd"),
            0.01,
            ("2025Q3", "", "security_forward_rd"),
        ),
    ],
)
def test_dual_times_step_is_the_objective_change(
    core, core_result, core_optimum, component, index, step, label
):
    period, resource, activity = label
    dual = _dual(core_result.duals, component, period, resource, activity)
    change = _relaxed_objective(core, component, index, step) - core_optimum
    assert abs(dual) > 1e-9
    assert change == pytest.approx(dual * step, rel=2e-3)


def test_velocity_cap_duals_price_a_scenario_change(core, core_result):
    """Raising the post-acceleration cap moves the optimum by the sum of those periods' duals."""
    step = 1e-4
    post = core_result.knobs.period[core_result.knobs.regime == "post_acceleration"]
    duals = core_result.duals[core_result.duals.constraint == "velocity_hit_limit"].set_index(
        "period"
    )
    model = Model(core.with_updates({"solver.smooth_tolerance": None}))  # optima, not ties
    base = model.solve().objective_model
    model.update({"velocity.hit_cap_post_acceleration": 0.25 + step})
    change = model.solve().objective_model - base
    assert change == pytest.approx(duals.value[post].sum() * step, rel=2e-3)


def test_duals_table_is_tidy_with_units_and_signs(core_result):
    d = core_result.duals
    assert list(d.columns) == DUAL_COLUMNS
    budget = d[d.constraint == "budget_limit"]
    assert len(budget) == 2 * len(core_result.knobs)
    assert (budget.value >= -1e-9).all()  # <= rows of a maximization are worth >= 0
    assert set(budget.unit) == {"risk reduction per kH100e", "risk reduction per FTE"}
    assert {"staff_growth", "staff_reassignment", "stock_balance"} <= set(d.constraint)


def test_velocity_price_is_velocity_dual_over_budget_dual(core_result):
    d = core_result.duals
    price = _dual(d, "velocity_hit_price", "2027Q2", "compute")
    ratio = _dual(d, "velocity_hit_limit", "2027Q2") / _dual(d, "budget_limit", "2027Q2", "compute")
    assert price == pytest.approx(ratio)
    assert (
        d[d.constraint == "velocity_hit_price"]
        .unit.iloc[0]
        .endswith("per unit of velocity-hit cap")
    )


def test_duals_reach_the_exports(core_result, tmp_path):
    assert "duals" in core_result.tables()
    core_result.to_csv(tmp_path)
    written = pd.read_csv(tmp_path / "duals.csv", keep_default_na=False)
    assert len(written) == len(core_result.duals)
    np.testing.assert_allclose(
        pd.to_numeric(written.value, errors="coerce"), core_result.duals.value, rtol=1e-9
    )


def test_stock_duals_are_the_value_of_extra_stock(core_result):
    stock = core_result.duals[core_result.duals.constraint == "stock_balance"]
    assert set(stock.unit) == {"risk reduction per EU*year of stock"}
    assert stock.value.max() > 0


def test_milp_duals_come_from_the_lp_with_integers_fixed(core, core_result):
    """A binary gate that stays open changes nothing: the fixed-LP duals equal the LP's."""
    m = build_model(prepare(core))
    m.gate_open = pyo.Var(domain=pyo.Binary)
    m.gate = pyo.Constraint(expr=m.effort["2025Q1", "security_incremental"] <= 1e3 * m.gate_open)
    run = HighsRunner()
    run(m)
    duals = shadow_prices(m, run, DualRows.of(m))
    assert set(duals.source) == {FIXED_MILP}
    assert set(core_result.duals.source) == {"lp"}
    assert m.gate_open.is_binary()  # the model is left as it was
    assert not m.gate_open.fixed
    budget = duals.constraint == "budget_limit"
    np.testing.assert_allclose(
        duals.value[budget],
        core_result.duals.value[core_result.duals.constraint == "budget_limit"],
        rtol=1e-6,
        atol=1e-12,
    )


@pytest.fixture(scope="module")
def short(baseline):
    """The baseline (endogenous capability) to 2027Q4: the outer loop converges in a few seconds."""
    return baseline.with_updates({"horizon.end": "2027Q4"})


@pytest.fixture(scope="module")
def short_program(short):
    """The program of ``short`` with its row shifts, and the outer loop's outcome on it."""
    inp = prepare(short)
    program = SlpProgram(inp, HighsRunner(), reference(inp))
    shifts = RowShifts(program)
    outcome = successive_lp(inp, solve_at(program, {}))
    assert outcome.status == "locally_optimal"
    return program, shifts, outcome


@pytest.fixture(scope="module")
def short_local(short_program):
    """The outer loop on ``short`` and the check of the largest dual of each row group."""
    program, shifts, outcome = short_program
    inp = program.inputs
    return outcome, local_duals(inp, program, shifts, outcome, solve_at(program, {}), per_group=1)


def _tightened_exact(scenario, start, constraint: str, index: tuple, step: float) -> float:
    """Exact risk reduction of the outer loop on a fresh program whose one row's right-hand
    side is lowered by ``step`` (set in the Pyomo row itself), run from the schedule ``start``."""
    inp = prepare(scenario)
    program = SlpProgram(inp, HighsRunner(), reference(inp))
    con = program.model.component(constraint)[index]
    con.set_value(con.body <= con.upper - step)
    outcome = successive_lp(inp, solve_at(program, {}), start=start, accept_first=True)
    assert outcome.status == "locally_optimal"
    return outcome.evaluation.risk_reduction(inp)


def test_endogenous_duals_are_confirmed_local_sensitivities(short, short_local):
    """Each reported slp_local dual agrees with a finite difference computed apart; a checked
    row whose finite difference disagrees is left out of the table. A check the re-run stopped
    early records a bound at least the full re-run's finite difference (on this sample every
    re-run runs to its end; the next test forces an early stop, and a dual the check refuses).
    The finite difference is taken against the same re-run with nothing tightened (step 0): on
    ``short`` with salvage that re-run ends 6e-5 of the value below the converged point (within
    the loop's resolution), which against the converged value moved every finite difference 10-13%
    above its dual and confirmed none."""
    outcome, local = short_local
    first = local.checks[local.checks.constraint == "budget_limit"].iloc[0]
    index = (first.period, first.resource)
    # the reference re-run: one row "tightened" by 0
    base = _tightened_exact(short, outcome.schedule, "budget_limit", index, 0.0)
    assert local.checks.confirmed.any()
    reported = local.table[local.table.constraint != "velocity_hit_price"]
    confirmed = local.checks[local.checks.confirmed]
    assert set(local.table.source) == {SLP_LOCAL}
    assert list(local.table.columns) == DUAL_COLUMNS
    assert len(reported) == len(confirmed)
    for check in local.checks.itertuples():
        budget = check.constraint == "budget_limit"
        index = (check.period, check.resource) if budget else check.period
        fd = base - _tightened_exact(short, outcome.schedule, check.constraint, index, check.step)
        fd /= check.step
        agrees = abs(fd - check.dual) <= RTOL * abs(check.dual)
        assert agrees == check.confirmed, check
        if check.settled_by == BOUND:
            assert check.fd >= fd - 1e-9 / check.step, check
        listed = (reported.constraint == check.constraint) & (reported.period == check.period)
        listed &= reported.resource == check.resource
        assert listed.sum() == int(check.confirmed)


def test_solve_reports_slp_local_duals(short, short_local):
    """allocopt.solve of an endogenous scenario carries the confirmed duals (the same check)."""
    result = solve(short)
    assert set(result.duals.source) == {SLP_LOCAL}
    pd.testing.assert_frame_equal(result.duals, short_local[1].table, rtol=1e-6)
    assert result.timings["duals"] > 0


def test_solve_can_skip_the_local_duals(short, short_local):
    """``local_duals=False``: the same schedule, no duals table and no time spent checking."""
    result = solve(short.with_updates({"solver.smooth_tolerance": None}), local_duals=False)
    assert result.duals.empty
    assert "duals" not in result.timings
    outcome = short_local[0]
    np.testing.assert_allclose(
        result.schedule.effort, outcome.schedule.effort, rtol=1e-6, atol=1e-9
    )


def test_a_program_with_nothing_binding_has_an_empty_local_duals_table(tiny):
    """One year of endogenous capability (a two-year tail), one preparation whose lead time
    (1 year) ends past the horizon, where the tail meets the last stock: no effort is worth
    anything, so no candidate row has a dual to check. The solve reports an empty table of
    local duals (once it raised, reading labels through an empty mask)."""
    prepared = {"mode": "preparation", "lead_time_years": 1, "depreciation_per_year": 0.5}
    scenario = tiny(
        [prepared], budgets=[(5.0, 100.0)], hazard=[0.1], config={"capability": {"tail_years": 2.0}}
    )
    result = solve(scenario)
    assert result.status.value == "locally_optimal"
    assert result.summary["risk_reduction_exact"] == pytest.approx(0.0, abs=1e-12)
    assert list(result.duals.columns) == list(DUAL_COLUMNS)
    assert result.duals.empty


def test_the_rerun_stops_early_only_when_it_cannot_confirm(short_program, short_local):
    """Tightened by a checked row's step: with its true dual the loop runs to its end (the
    finite difference the check recorded); with a dual far above what the first step's merit
    allows, the re-run stops after that step, and the loop run to its end gives a finite
    difference at most the recorded bound: it could not have confirmed that dual either."""
    program, shifts, outcome = short_program
    inp = program.inputs
    base = rerun_value(inp, solve_at(program, {}), outcome)
    check = short_local[1].checks.iloc[0]  # budget_limit compute, confirmed by the loop
    k = next(
        k
        for k in shifts.candidates
        if tuple(shifts.rows.labels.iloc[k][["constraint", "period", "resource"]])
        == (check.constraint, check.period, check.resource)
    )
    calls = []

    def counted(lin):
        calls.append(lin)
        return solve_at(program, {})(lin)

    shifts.param[k].set_value(-check.step)
    try:
        fd, how = finite_difference(inp, counted, outcome, base, check.dual, check.step)
        assert how == LOOP
        assert fd == pytest.approx(check.fd, rel=1e-6)
        loop_calls = len(calls)
        calls.clear()
        fd, how = finite_difference(inp, counted, outcome, base, 3 * check.dual, check.step)
        again = successive_lp(inp, solve_at(program, {}), outcome.schedule, accept_first=True)
    finally:
        shifts.param[k].set_value(0.0)
    assert how == BOUND
    assert len(calls) == 1 <= loop_calls
    loop_fd = (base - again.evaluation.risk_reduction(inp)) / check.step
    assert loop_fd <= fd
    assert abs(loop_fd - 3 * check.dual) > RTOL * 3 * check.dual
