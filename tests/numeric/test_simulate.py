"""The exact simulator: delay arithmetic, postponed risk, violations, agreement with the program."""

from __future__ import annotations

import numpy as np
import pytest

from allocopt.analyses.policies import capabilities_only
from allocopt.model import evaluate
from allocopt.numeric.inputs import prepare
from allocopt.numeric.simulate import Schedule
from allocopt.numeric.trajectory import read


def test_interpolation_is_exact_for_exponential_series_and_its_slope_matches():
    xs = np.array([0.0, 1.0, 2.0])
    ys = 2.0 * np.exp(0.7 * xs)
    at = np.array([-0.5, 0.3, 1.5, 2.5])  # extrapolates with the end segments
    value, slope = read(xs, ys, at)
    assert value == pytest.approx(2.0 * np.exp(0.7 * at))
    assert slope == pytest.approx(0.7 * value)


def test_capabilities_only_has_no_delay_and_no_risk_reduction(baseline):
    inp = prepare(baseline)
    ev = evaluate(inp, capabilities_only(inp))
    assert ev.violations == ()
    assert np.allclose(ev.delay, 0)
    assert ev.delay_end == pytest.approx(0.0, abs=1e-12)
    assert np.allclose(ev.point.hazard, inp.hazard)
    assert ev.risk_reduction(inp) == pytest.approx(0.0, abs=1e-12)


def test_delay_accumulates_the_hits_and_postpones_own_risk(tiny):
    # Hand solution: staff-only velocity, budget flat at 100 FTE, 20 FTE idle each year: hit 20%,
    # so the delay before years 1, 2, 3 is 0, 0.2, 0.4 and 0.6 at the end. The own hazard is flat
    # (0.1/yr), so shifting it changes nothing within the horizon, and the postponed part is
    # 0.1 * 0.6 = 0.06 per year*year at the last residual share (1: no safety work).
    s = tiny(
        [{}],
        budgets=[(5.0, 100.0)] * 3,
        hazard=[0.1] * 3,
        config={"capability": {"hazard_follows_delay": True}},
    )
    inp = prepare(s)
    schedule = Schedule(effort=np.zeros((3, 1)), capabilities=np.tile([5.0, 80.0], (3, 1)))
    ev = evaluate(inp, schedule)
    assert ev.delay == pytest.approx([0.0, 0.2, 0.4])
    assert ev.delay_end == pytest.approx(0.6)
    assert ev.postponed[0] == pytest.approx(0.06)
    assert ev.risk_reduction(inp) == pytest.approx(-0.06 + 0.0)  # idling buys nothing here


def test_budget_and_cap_violations_are_reported(baseline):
    inp = prepare(baseline)
    schedule = capabilities_only(inp)
    over = Schedule(effort=schedule.effort, capabilities=schedule.capabilities * 1.01)
    assert any("exceeds the budget" in v for v in evaluate(inp, over).violations)
    idle = Schedule(effort=schedule.effort, capabilities=schedule.capabilities * 0.5)
    assert any(
        "velocity hit" in v and "exceeds the cap" in v for v in evaluate(inp, idle).violations
    )


def test_the_optimum_is_feasible_and_matches_its_exact_value(baseline, baseline_result):
    s = baseline_result.summary
    assert baseline_result.violations == ()
    assert baseline_result.status == "locally_optimal"  # a converged outer loop
    assert abs(s["approximation_gap"]) <= 0.01  # docs/model.md: |gap| <= 1% on the baseline
    assert 1 <= s["outer_iterations"] < baseline.capability.slp.max_iterations


@pytest.mark.parametrize(("excess", "flagged"), [(2e-7, False), (1e-4, True)])
def test_reassignment_is_judged_relative_to_the_staff_moved_between(tiny, excess, flagged):
    # Hand solution: 1000 FTE each year, 10% re-assignment a year: at most 100 FTE may move into
    # the intervention in year 2. Moving 100 + excess * 1000 FTE exceeds the limit by `excess`
    # of the staff employed: rounding of the staff levels at 2e-7 (the inflow is a difference of
    # two ~1000 FTE allocations), a real violation at 1e-4.
    s = tiny(
        [{}],
        budgets=[(5.0, 1000.0)] * 2,
        hazard=[0.1] * 2,
        config={"staff": {"reassignment_share_per_year": 0.1}},
    )
    inp = prepare(s)
    moved = 100.0 + excess * 1000.0
    per_eu = float(inp.intensity[0, 1])
    effort = np.array([[0.0], [moved / per_eu]])
    schedule = Schedule(
        effort=effort, capabilities=np.array([[5.0, 1000.0], [5.0, 1000.0 - moved]])
    )
    found = [v for v in evaluate(inp, schedule).violations if "re-assignment" in v]
    assert bool(found) is flagged
