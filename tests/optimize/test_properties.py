"""Invariants over randomly generated valid scenarios (hypothesis): every optimum is feasible by the
simulator's independent check, more budget is never worse, a resource's unit changes nothing but
units (over ten orders of magnitude of budgets, intensities and hazards), and the same input
gives the same bytes.

Scenarios are the baseline on a short quarterly horizon (2-8 quarters, across the 2026Q1 regime
switch) with random budgets, caps, hazard multipliers, intensities and staff frictions.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st

from allocopt import Result, Status, load_scenario, solve
from allocopt.model import evaluate
from allocopt.numeric.inputs import prepare
from allocopt.numeric.simulate import Schedule
from allocopt.optimize.finish import to_result
from allocopt.scenario.tables import RESOURCES
from tests.conftest import BASELINE, INTENSITY, in_units

EXAMPLES = 30  # per property; each example is one to three solves of at most 8 quarters
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples in CI and locally
    phases=(Phase.explicit, Phase.generate),  # no shrinking: bounded time; failures still print
)
# HiGHS proves optima to its dual feasibility tolerance (allocopt.optimize.pipeline.DUAL_TOLERANCE), so two
# optima of equivalent LPs agree to about 1e-7 of the objective; 1e-5 leaves a margin.
REL = 1e-5
ABS = 1e-12
ENDS = ("2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q4")


# the baseline's core program (fixed reference trajectory: one LP, where these properties are
# theorems) with coarser cuts: the properties hold for any cut count, and solve faster
# the tie-break off: the smoothest of near-equal optima is an LP with ties of its own, so in
# other units it may pick another (velocity moved by up to 0.2% in a period); the optimum's
# schedule is what must not depend on the units
BASE = load_scenario(BASELINE).with_updates(
    {"risk.cuts": 8, "capability": {}, "solver.smooth_tolerance": None}
)


@st.composite
def updates(draw: st.DrawFn) -> dict:
    """Updates of the baseline to a random, valid and feasible scenario (no safety floors; staff
    may grow as fast as its budget) — drawn as a small dict, so a failure prints readably."""
    overrides = {
        row.id: {"compute_per_effort_kh100e": round(row.compute_per_effort_kh100e * f, 6)}
        for row in BASE.tables.interventions
        if (f := draw(st.one_of(st.none(), st.floats(0.2, 5.0)))) is not None
    }
    return {
        "horizon.end": draw(st.sampled_from(ENDS)),
        "budget_multiplier": {r: draw(st.floats(0.2, 5.0)) for r in RESOURCES},
        "velocity.hit_cap_pre_acceleration": draw(st.floats(0.0, 0.3)),
        "velocity.hit_cap_post_acceleration": draw(st.floats(0.0, 0.6)),
        "risk.hazard_multiplier_pre_acceleration": draw(st.floats(0.1, 5.0)),
        "risk.hazard_multiplier_post_acceleration": draw(st.floats(0.1, 5.0)),
        "staff.growth_max_per_year": draw(st.floats(0.5, 2.0)),
        "staff.reassignment_share_per_year": draw(st.floats(0.0, 1.0)),
        "intervention_overrides": overrides,
    }


@given(change=updates())
@PROPERTY
def test_every_optimum_passes_the_simulator(change: dict) -> None:
    result = solve(BASE.with_updates(change))
    assert result.is_optimal
    assert result.violations == ()
    shares = result.knobs[["safety_share_compute", "safety_share_staff", "velocity"]]
    assert ((shares >= -1e-9) & (shares <= 1 + 1e-9)).all().all()


@given(change=updates(), more=st.floats(1.0, 4.0))
@PROPERTY
def test_more_budget_never_lowers_the_optimum(change: dict, more: float) -> None:
    """Scaling both budgets by k >= 1 keeps every schedule scaled by k feasible (all constraints
    are homogeneous in the budget), and more effort never cuts less risk; more compute alone keeps
    the old safety spending feasible."""
    scenario = BASE.with_updates(change)
    before = solve(scenario).objective_model
    mult = scenario.budget_multiplier
    both = {r: mult[r] * more for r in RESOURCES}
    compute_only = {**mult, "compute": mult["compute"] * more}
    for richer in (both, compute_only):
        after = solve(scenario.with_updates({"budget_multiplier": richer})).objective_model
        assert after >= before - REL * abs(before) - ABS


@given(change=updates(), resource=st.sampled_from(RESOURCES), k=st.floats(0.1, 4.0))
@PROPERTY
def test_unit_of_a_resource_changes_nothing_but_units(
    change: dict, resource: str, k: float
) -> None:
    """Measuring ``resource`` in a unit k times smaller (its budgets and intensities times k): the
    optimum is the same, the old optimal allocation with that resource times k is optimal for the
    new scenario, and every share reported for it is unchanged. (The LP's optimum need not be
    unique, so the solver may return another optimal vertex; k <= 4 keeps every intensity within
    its allowed range.)"""
    scenario = BASE.with_updates(change)
    column = INTENSITY[resource]
    rescaled = scenario.with_updates(
        {
            "budget_multiplier": {
                **scenario.budget_multiplier,
                resource: scenario.budget_multiplier[resource] * k,
            },
            "intervention_overrides": {
                row.id: {**scenario.intervention_overrides.get(row.id, {}), column: value * k}
                for row in scenario.interventions()
                if (value := getattr(row, column))
            },
        }
    )
    one, two = solve(scenario), solve(rescaled)
    assert two.objective_model == pytest.approx(one.objective_model, rel=REL, abs=ABS)

    inp = prepare(rescaled)
    old = one.schedule
    units = np.where(np.array(RESOURCES) == resource, k, 1.0)
    moved = Schedule(old.effort, old.capabilities * units)
    ev = evaluate(inp, moved)
    assert ev.violations == ()
    again = to_result(inp, rescaled, moved, Status.OPTIMAL, one.objective_model, {})
    assert again.summary["risk_reduction_exact"] == pytest.approx(
        one.summary["risk_reduction_exact"], rel=1e-9, abs=1e-12
    )
    # shares *of safety* are 0/0 where safety gets (next to) nothing; compare them elsewhere
    knobs = one.knobs
    real = knobs.period[knobs.safety_share_compute + knobs.safety_share_staff > 1e-9]
    unit_column = f"budget_{resource}"  # the one knob column in the resource's unit
    np.testing.assert_allclose(again.knobs[unit_column], one.knobs[unit_column] * k, rtol=1e-9)
    for table, undefined in (("knobs", "preparation_share"), ("portfolio", "share")):
        mine, theirs = getattr(again, table), getattr(one, table)
        skip = [undefined, unit_column] if table == "knobs" else [undefined]
        pd.testing.assert_frame_equal(mine.drop(columns=skip), theirs.drop(columns=skip), atol=1e-8)
        kept = mine.period.isin(real)
        np.testing.assert_allclose(mine[undefined][kept], theirs[undefined][kept], atol=1e-8)
    scaled = one.allocation.value.where(
        one.allocation.resource != resource, one.allocation.value * k
    )
    np.testing.assert_allclose(again.allocation.value, scaled, rtol=1e-9, atol=1e-8)


@given(change=updates())
@settings(PROPERTY, max_examples=EXAMPLES // 2)
def test_same_input_same_bytes(change: dict) -> None:
    scenario = BASE.with_updates(change)
    results = [solve(scenario) for _ in range(2)]
    with tempfile.TemporaryDirectory() as tmp:
        written = [r.to_csv(Path(tmp) / f"run{n}") for n, r in enumerate(results)]
        first, second = ({p.name: p.read_bytes() for p in files} for files in written)
    assert first == second
    assert set(first) == {f"{name}.csv" for name in results[0].tables()}


def _same_schedule(one: Result, two: Result) -> None:
    """Equal effort, to 1e-6 of the largest (or of one unit, where all are solver noise around
    0), and equal velocity per period (to 1e-6). Capabilities are compared through the velocity
    they give, which is unit-free: their split between compute and staff is not unique where
    only the velocity-hit row binds them (the core program prices velocity at nothing else), so
    two exact optima may split them differently."""
    mine, theirs = two.schedule.effort, one.schedule.effort
    scale = max(float(np.abs(theirs).max()), 1.0)
    np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-6 * scale)
    np.testing.assert_allclose(two.knobs.velocity, one.knobs.velocity, rtol=0, atol=1e-6)


@given(change=updates(), power=st.floats(-7.0, 3.0))
@example(change={}, power=-7.0)  # the example: every hazard times 1e-7
@example(change={}, power=3.0)
@PROPERTY
def test_hazards_in_any_unit_give_the_same_schedule(change: dict, power: float) -> None:
    """Every hazard times s = 10**power, over ten orders of magnitude: the same optimal
    schedule, and the optimum times s (HiGHS's absolute tolerances once stopped 12% short at
    1e-7; the objective is now scaled into a band HiGHS resolves,
    :func:`allocopt.optimize.highs.options.objective_scale`)."""
    scenario = BASE.with_updates({k: v for k, v in change.items() if "hazard" not in k})
    s = 10.0**power
    hazards = {f"risk.hazard_multiplier_{r}_acceleration": s for r in ("pre", "post")}
    one, two = solve(scenario), solve(scenario.with_updates(hazards))
    assert two.is_optimal
    assert two.objective_model == pytest.approx(s * one.objective_model, rel=REL)
    assert two.summary["risk_reduction_exact"] == pytest.approx(
        s * one.summary["risk_reduction_exact"], rel=REL
    )
    _same_schedule(one, two)


@given(
    change=updates(),
    compute=st.floats(-9.0, 0.9),
    staff=st.floats(-9.0, 0.9),
    hazard=st.floats(-7.0, 3.0),
)
@example(change={}, compute=-9.0, staff=-9.0, hazard=-7.0)  # once past HiGHS's tolerances
@example(change={}, compute=0.9, staff=-9.0, hazard=3.0)
@PROPERTY
def test_budgets_intensities_and_hazards_in_any_unit_give_the_same_schedule(
    change: dict, compute: float, staff: float, hazard: float
) -> None:
    """Each resource in its own unit, k_r = 10**power times smaller (its budgets and intensities
    times k_r; from 1e-9 to the largest intensity the scenario allows, 10 per unit of effort),
    and every hazard times s, from 1e-7 to 1e3: the same effort and velocity, the optimum times
    s. Rows 1e-7 times smaller once fell under HiGHS's absolute tolerances (~1% short at 1e-7,
    over budget at 1e-9); each resource's rows are now scaled to its budget
    (:func:`allocopt.model.budget.resource_scale`)."""
    scenario = BASE.with_updates({"horizon.end": change.get("horizon.end", "2026Q2")})
    s = 10.0**hazard
    hazards = {f"risk.hazard_multiplier_{r}_acceleration": s for r in ("pre", "post")}
    moved = in_units(scenario, {"compute": 10.0**compute, "staff": 10.0**staff})
    one, two = solve(scenario), solve(moved.with_updates(hazards))
    assert two.is_optimal
    assert two.objective_model == pytest.approx(s * one.objective_model, rel=REL)
    _same_schedule(one, two)
