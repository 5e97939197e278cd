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


def test_the_tail_is_met_at_the_last_residual_and_cancels_without_safety_work(tiny):
    # Hand solution: as above, with two years of progress past the horizon's end. The own hazard
    # still ahead at the end is the untraversed 0.6 years and the 2-year tail, 0.1 * 2.6 = 0.26,
    # met at the last residual (1); at full speed the tail alone, 0.1 * 2 = 0.2. Without safety
    # work the tail cancels: the reduction is the postponed -0.06 again.
    s = tiny(
        [{}],
        budgets=[(5.0, 100.0)] * 3,
        hazard=[0.1] * 3,
        config={"capability": {"hazard_follows_delay": True, "tail_years": 2.0}},
    )
    inp = prepare(s)
    schedule = Schedule(effort=np.zeros((3, 1)), capabilities=np.tile([5.0, 80.0], (3, 1)))
    ev = evaluate(inp, schedule)
    assert ev.postponed[0] == pytest.approx(0.26)
    assert ev.tail_full[0] == pytest.approx(0.2)
    assert ev.risk_reduction(inp) == pytest.approx(-0.06)
    # 20 EU of safety work in the last year instead of idling: residual exp(-(1 - e^-2)) there,
    # and the tail and the postponed part are met at it
    work = Schedule(effort=np.array([[0.0], [0.0], [20.0]]), capabilities=schedule.capabilities)
    ev = evaluate(inp, work)
    rho = np.exp(-(1 - np.exp(-2.0)))
    assert ev.residual[-1, 0] == pytest.approx(rho)
    assert ev.risk_reduction(inp) == pytest.approx(0.1 * (1 - rho) + 0.2 - 0.26 * rho)


def test_safety_difficulty_divides_the_level_by_the_own_speed_up(tiny):
    # Hand solution: speed-up 2 then 8 (log-linear between year midpoints), elasticity 0.5, a
    # 10% hit in year 1 (10 FTE of safety, 90 to capabilities): delay 0.1 years before year 2,
    # whose own speed-up is 8 * 4^-0.1, so the level its benefit reads is 10 EU divided by
    # (8 * 4^-0.1 / 2)^0.5 = 2^0.9; year 1 reads 10 EU as it is.
    s = tiny(
        [{}],
        budgets=[(5.0, 100.0)] * 2,
        hazard=[0.1] * 2,
        speedup=[2.0, 8.0],
        config={"capability": {"safety_difficulty_elasticity": 0.5}},
    )
    inp = prepare(s)
    schedule = Schedule(effort=np.full((2, 1), 10.0), capabilities=np.tile([5.0, 90.0], (2, 1)))
    ev = evaluate(inp, schedule)
    assert ev.delay == pytest.approx([0.0, 0.1])
    assert ev.point.ease == pytest.approx([1.0, 2.0**-0.9])
    assert ev.level[:, 0] == pytest.approx([10.0, 10.0 * 2.0**-0.9])
    assert ev.benefit[:, 0] == pytest.approx(1 - np.exp(-np.array([1.0, 2.0**-0.9])))
    # the slope: d ease / d delay = 0.5 * ease * ln 4 (a delay lowers the speed-up by ln 4 per year)
    assert ev.point.ease_slope[1] == pytest.approx(0.5 * 2.0**-0.9 * np.log(4.0))
    # with a tail the last period's safety also meets the hazard past the horizon, whose path
    # is traversed whatever the delay: its difficulty is read on the full-speed path, (8 / 2)^0.5
    tail = prepare(s.with_updates({"capability.tail_years": 1.0}))
    ev = evaluate(tail, schedule)
    assert ev.point.ease == pytest.approx([1.0, 0.5])
    assert ev.point.ease_slope[1] == 0.0


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
