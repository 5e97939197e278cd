"""The outer loop (trust-region successive LP) driven by a scripted stub program, no HiGHS.

The stub answers each call of ``solve_at(lin)`` from a script — a schedule and the program's value
of it, or an error to raise — and records the linearization it was asked at, so each test can
assert the exact trust radii the loop used, its iteration log and its status. The schedules run on
a tiny real scenario (two years, one mitigation item, 1 FTE per EU, velocity on staff only, hit cap
50%), so the loop's own exact evaluation and merit decide what is accepted: ``S(e)`` puts ``e``
FTE on the item each year, which delays Magma by ``e / 100`` years in the second year (the delay
step between ``S(a)`` and ``S(b)`` is ``|a - b| / 100``; readiness stays 0), and the exact merit
rises with effort to a flat peak near 25, falls slowly beyond it and steeply beyond 50, where the
hit exceeds the cap (``test_the_script_s_merit``).

Unless a test scripts the value, the stub values ``S(e)`` at its exact risk reduction, as a
program without approximation would: the program's gap (value less exact value) is then 0, and
from a feasible point the predicted gain equals the actual one (ratio 1). The loop starts at
``S(0)`` (full speed, merit 0) with radius ``TRUST``; the widest radius is 16 x 0.01 = 0.16.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np
import pytest

from allocopt.errors import InfeasibleError, SolverError
from allocopt.model import evaluate
from allocopt.numeric.inputs import Inputs, prepare
from allocopt.numeric.simulate import Schedule
from allocopt.optimize.outer import (
    GAIN_TOLERANCE,
    MAX_TRUST_FACTOR,
    PENALTY,
    Outcome,
    merit,
    successive_lp,
)

TRUST = 0.01  # initial trust radius (years): a move of 0.009 years reaches it (90%)
TOLERANCE = 0.001  # years


def S(effort: float) -> Schedule:
    """``effort`` FTE (= EU) on the item in both years, the rest of the staff on capabilities."""
    return Schedule(
        effort=np.full((2, 1), effort), capabilities=np.array([[5.0, 100.0 - effort]] * 2)
    )


@pytest.fixture
def inputs(tiny):
    """Inputs of the tiny endogenous scenario, with the outer loop's settings as given."""

    def make(
        max_iterations: int = 30,
        speedup: list[float] | None = None,
        staff: dict | None = None,
        item: dict | None = None,
    ) -> Inputs:
        scenario = tiny(
            [item or {}],
            budgets=[(5.0, 100.0)] * 2,
            hazard=[0.2, 0.2],
            speedup=speedup,
            config={
                "velocity": {"hit_cap_pre_acceleration": 0.5},
                "staff": staff or {},
                "capability": {
                    "hazard_follows_delay": True,
                    "slp": {
                        "trust_region_years": TRUST,
                        "tolerance_years": TOLERANCE,
                        "max_iterations": max_iterations,
                    },
                },
            },
        )
        inp = prepare(scenario)
        assert inp.capability.endogenous
        return inp

    return make


def exact(inp: Inputs, effort: float) -> float:
    """The exact risk reduction of ``S(effort)`` (its merit when it violates nothing)."""
    return evaluate(inp, S(effort)).risk_reduction(inp)


def score(inp: Inputs, effort: float) -> float:
    """The exact merit of ``S(effort)``."""
    return merit(inp, S(effort), evaluate(inp, S(effort)))


class Stub:
    """A program that answers from ``script`` (the last entry repeats). An entry is an effort
    ``e`` (answer ``S(e)`` valued at :func:`exact`), an ``(e, value)`` pair, or an error to
    raise."""

    def __init__(self, inp: Inputs, *script: float | tuple[float, float] | SolverError) -> None:
        self.inp = inp
        self.script = script
        self.asked: list = []  # the Linearization of each call

    def __call__(self, lin) -> tuple[float, Schedule]:
        self.asked.append(lin)
        entry = self.script[min(len(self.asked), len(self.script)) - 1]
        if isinstance(entry, SolverError):
            raise entry
        effort, value = entry if isinstance(entry, tuple) else (entry, exact(self.inp, entry))
        return value, S(effort)

    @property
    def trusts(self) -> list[float]:
        return [lin.trust for lin in self.asked]


def log(outcome: Outcome) -> list[tuple[int, float, bool]]:
    return [(i.iteration, i.trust, i.accepted) for i in outcome.iterations]


@pytest.mark.parametrize(("moved", "excess"), [(20, 0.0), (40, 15 / 25)])
def test_the_merit_prices_staff_moved_beyond_the_reassignment_limit(inputs, moved, excess):
    """With a quarter of the 100 FTE movable per year, 40 FTE moved from capabilities to the item
    in the second year are 15 FTE (60% of the 25 FTE limit) past it: the merit falls by the
    penalty on that relative excess, as it does for the budget and the velocity cap, so a point
    just past a friction never out-scores its feasible neighbours (the loop would otherwise
    shrink its radius around it and end there, ``not_converged``)."""
    inp = inputs(staff={"reassignment_share_per_year": 0.25})
    schedule = Schedule(
        effort=np.array([[0.0], [moved]]), capabilities=np.array([[5.0, 100.0], [5.0, 100 - moved]])
    )
    ev = evaluate(inp, schedule)
    assert bool(ev.violations) == (excess > 0), ev.violations
    assert all("re-assignment limit 25 FTE" in v for v in ev.violations)
    assert merit(inp, schedule, ev) == pytest.approx(
        ev.risk_reduction(inp) - PENALTY * excess, rel=1e-12
    )


def test_the_script_s_merit(inputs):
    """The premises of the tests below, on the loop's own merit."""
    inp = inputs()
    rising = [0, 0.05, 0.5, 0.85, 0.95, 1, 3, 4, 7, 7.4, 8, 8.05, 8.5, 15, 25, 25.4]
    scores = [score(inp, e) for e in rising]
    assert all(np.diff(scores) > 0)
    assert score(inp, 15) < score(inp, 31) < score(inp, 25)  # past the peak, above S(15)
    # S(25) -> S(25.4) gains less than the gain tolerance: the merit is flat at its peak
    assert 0 < score(inp, 25.4) - score(inp, 25) < GAIN_TOLERANCE * score(inp, 25.4)
    assert score(inp, 8.05) - score(inp, 8) > GAIN_TOLERANCE * score(inp, 8.05)
    assert score(inp, 70) < score(inp, 60) < 0  # over the cap: the penalty dominates
    assert evaluate(inp, S(50)).violations == ()
    assert evaluate(inp, S(60)).violations  # velocity hit 60% > cap 50%
    for e in (8, 31):
        np.testing.assert_allclose(evaluate(inp, S(e)).delay, [0.0, e / 100], atol=1e-12)
        assert score(inp, e) == pytest.approx(exact(inp, e), rel=1e-12)  # feasible: no penalty
        np.testing.assert_array_equal(evaluate(inp, S(e)).readiness, 0.0)


@pytest.mark.parametrize(
    "error",
    [
        InfeasibleError(SimpleNamespace(headline=lambda: "no schedule at all")),
        SolverError("time_limit", "stopped"),
    ],
)
@pytest.mark.parametrize("accepted_first", [False, True])
def test_errors_propagate(inputs, error, accepted_first):
    """An infeasible program is an infeasible scenario (the trust rows are elastic): it, and any
    other solver error, propagates at once, with no retry at another radius."""
    inp = inputs()
    stub = Stub(inp, 8, error) if accepted_first else Stub(inp, error)
    with pytest.raises(type(error)) as caught:
        successive_lp(inp, stub)
    assert caught.value is error
    # S(8) accepted: move 0.08 >= 0.009 at ratio 1 doubles 0.01 to 0.02, then the error
    assert stub.trusts == ([0.01, 0.02] if accepted_first else [0.01])


@pytest.mark.parametrize(
    ("effort", "ratio", "radius"),
    [
        (8, 0.2, 0.005),  # ratio < 0.25: halve min(radius 0.01, step 0.08)
        (0.5, 0.2, 0.0025),  # ratio < 0.25: halve min(radius 0.01, step 0.005), below the step
        (8, 0.3, 0.01),  # 0.25 <= ratio <= 0.75: keep
        (8, 0.7, 0.01),  # keep
        (8, 0.8, 0.02),  # ratio > 0.75 and move 0.08 >= 0.9 x 0.01: double
        (0.95, 1.0, 0.02),  # move 0.0095 >= 0.009 reaches the radius: double
        (0.85, 1.0, 0.01),  # move 0.0085 < 0.009 is short of it: keep
    ],
)
def test_the_radius_follows_the_ratio_of_actual_to_predicted_gain(inputs, effort, ratio, radius):
    inp = inputs()
    # from S(0) (merit 0, gap 0) the program predicts value = gain / ratio; the step gains
    # exact(effort): the ratio is ``ratio``. The repeated answer moves nothing: converged.
    stub = Stub(inp, (effort, exact(inp, effort) / ratio))
    outcome = successive_lp(inp, stub)
    assert log(outcome) == [(0, 0.01, True), (1, pytest.approx(radius, rel=1e-9), True)]
    assert stub.trusts == [0.01, pytest.approx(radius, rel=1e-9)]
    assert outcome.status == "locally_optimal"


def test_the_predicted_gain_discounts_the_point_s_gap(inputs):
    """A program that overvalues every schedule by 0.02 (its tangent cuts' gap) predicts the
    gain right once the accepted point's gap is taken off."""
    inp = inputs()
    stub = Stub(inp, (8, exact(inp, 8) + 0.02), (8.5, exact(inp, 8.5) + 0.02))
    outcome = successive_lp(inp, stub)
    # first: ratio 0.151 / 0.171 = 0.88 > 0.75, move 0.08: 0.01 doubles to 0.02; then S(8.5):
    # predicted exact(8.5) + 0.02 - exact(8) - 0.02, ratio 1 (without the gap 0.04: halved to
    # 0.0025), move 0.005 < 0.018 keeps 0.02; S(8.5) again moves nothing: converged
    assert log(outcome) == [(0, 0.01, True), (1, 0.02, True), (2, 0.02, True)]
    assert outcome.status == "locally_optimal"
    assert outcome.objective_model == exact(inp, 8.5) + 0.02  # the program's value


def test_the_radius_doubles_up_to_the_widest(inputs):
    inp = inputs()
    assert MAX_TRUST_FACTOR == 16.0  # widest radius 0.16
    # exact predictions (ratio 1), each move reaching the radius: 0.01 -> 0.02 (S(0) -> S(1)),
    # -> 0.04 (S(1) -> S(3), move 0.02), -> 0.08 (move 0.04), -> 0.16 (S(7) -> S(15), move 0.08,
    # the widest), then S(15) -> S(31) moves 0.16 but 2 x 0.16 is capped at 0.16; S(31) repeated
    # moves nothing: converged
    stub = Stub(inp, 1, 3, 7, 15, 31)
    outcome = successive_lp(inp, stub)
    radii = [0.01, 0.02, 0.04, 0.08, 0.16, 0.16]
    assert log(outcome) == [(n, r, True) for n, r in enumerate(radii)]
    assert outcome.status == "locally_optimal"
    np.testing.assert_allclose(outcome.schedule.effort, S(31).effort)


@pytest.mark.parametrize(("worse", "radius"), [(4, 0.01), (7.4, 0.003)])
def test_a_rejected_step_halves_the_radius_below_its_length(inputs, worse, radius):
    inp = inputs()
    # S(8) accepted (0.01 -> 0.02); S(worse) scores less than S(8): rejected, the radius halves
    # min(0.02, step): S(4) steps 0.04 -> 0.01, S(7.4) steps 0.006 -> 0.003; S(8) again moves
    # nothing from the best point: converged
    stub = Stub(inp, 8, worse, 8)
    outcome = successive_lp(inp, stub)
    assert log(outcome) == [
        (0, 0.01, True),
        (1, 0.02, False),
        (2, pytest.approx(radius, rel=1e-9), True),
    ]
    np.testing.assert_allclose(stub.asked[2].delay_ref, [0.0, 0.08])  # around S(8), not S(worse)
    assert outcome.status == "locally_optimal"
    np.testing.assert_allclose(outcome.schedule.effort, S(8).effort)
    assert outcome.objective_model == exact(inp, 8)
    assert outcome.point is stub.asked[2]  # S(8) as solved last, around itself


def test_a_start_the_loop_never_leaves_has_no_point(inputs):
    """From the feasible start S(8), every step (S(4)) scores less: rejected until the radius
    vanishes; the outcome is the start, which no program returned (no ``point``)."""
    inp = inputs()
    stub = Stub(inp, 4)
    outcome = successive_lp(inp, stub, start=S(8))
    assert outcome.iterations
    assert not any(i.accepted for i in outcome.iterations)
    assert outcome.status == "locally_optimal"
    np.testing.assert_allclose(outcome.schedule.effort, S(8).effort)
    assert outcome.point is None


@pytest.mark.parametrize(
    ("script", "radii"),
    [
        # S(8) accepted (0.01 -> 0.02); S(8.05) moves the delay 0.0005 < 0.001 (and gains more
        # than the gain tolerance: not the flat branch)
        ((8, 8.05), [0.01, 0.02]),
        # a first step that moves nothing converges at once
        ((0,), [0.01]),
    ],
)
def test_converged_when_an_accepted_step_moves_the_delay_less_than_the_tolerance(
    inputs, script, radii
):
    inp = inputs()
    stub = Stub(inp, *script)
    outcome = successive_lp(inp, stub)
    assert log(outcome) == [(n, r, True) for n, r in enumerate(radii)]
    steps = [i.delay_step_years for i in outcome.iterations]
    assert steps == pytest.approx([e / 100 for e in np.diff((0, *script))], abs=1e-12)
    assert [i.regimes_changed for i in outcome.iterations] == [0] * len(radii)
    assert outcome.status == "locally_optimal"
    np.testing.assert_allclose(outcome.schedule.effort, S(script[-1]).effort)
    assert outcome.objective_model == exact(inp, script[-1])
    assert outcome.point is stub.asked[-1]  # the point its schedule was solved at


def test_a_regime_change_is_a_move(inputs):
    """Speed-up 3x (the threshold) at the second year: S(0) is post-acceleration there, and
    S(0.05)'s delay of 0.0005 years (below the tolerance) moves it back before the switch."""
    inp = inputs(speedup=[1.0, 3.0])
    stub = Stub(inp, 0.05)
    outcome = successive_lp(inp, stub)
    # first: regime changed, not converged; move 0.0005 < 0.009 keeps 0.01; then converged
    assert log(outcome) == [(0, 0.01, True), (1, 0.01, True)]
    assert [i.regimes_changed for i in outcome.iterations] == [1, 0]
    assert outcome.status == "locally_optimal"


def test_a_violating_point_never_converges_by_its_step(inputs):
    inp = inputs(max_iterations=2)
    # S(60) accepted (the first solution always is): it gains -1.84 where the program predicted
    # +0.16 (negative ratio): 0.01 halves to min(0.01, 0.6) / 2 = 0.005; S(60) again moves nothing
    # but violates the cap: no convergence by the step (the radius ends it: test below)
    outcome = successive_lp(inp, Stub(inp, 60))
    assert log(outcome) == [(0, 0.01, True), (1, 0.005, True)]
    assert outcome.iterations[1].delay_step_years == 0
    assert outcome.iterations[1].violations > 0
    assert outcome.status == "not_converged"


@pytest.mark.parametrize(
    ("script", "radii", "status", "best"),
    [
        # S(60) twice (as above): the repeated answer moves nothing and predicts the penalty
        # back (ratio 0): 0.005 halves to min(0.005, step 0) / 2 = 0: the loop ends there,
        # at a point over the cap, instead of running its 30 iterations at radius 0
        (lambda inp: (60,), [0.01, 0.005], "not_converged", 60),
        # S(8) accepted (0.01 -> 0.02); S(8.15) gains (accepted, moves 0.0015 >= 0.001, not
        # flat) but the program predicted 0.1 more (ratio < 0.25): min(0.02, 0.0015) / 2 =
        # 0.00075 < 0.001 ends the loop at S(8.15), feasible (S(4) is never asked)
        (lambda inp: (8, (8.15, exact(inp, 8.15) + 0.1), 4), [0.01, 0.02], "locally_optimal", 8.15),
    ],
    ids=["violating", "feasible"],
)
def test_a_vanishing_radius_ends_the_loop_after_an_accepted_step(
    inputs, script, radii, status, best
):
    inp = inputs()  # 30 iterations allowed
    stub = Stub(inp, *script(inp))
    outcome = successive_lp(inp, stub)
    assert log(outcome) == [(n, r, True) for n, r in enumerate(radii)]
    assert stub.trusts == radii  # no iteration at a vanishing radius
    assert outcome.status == status
    np.testing.assert_allclose(outcome.schedule.effort, S(best).effort)


def test_each_iteration_is_logged_and_told(inputs, caplog):
    inp = inputs()
    told = []
    with caplog.at_level(logging.DEBUG, logger="allocopt"):
        outcome = successive_lp(inp, Stub(inp, 1, 3), on_iteration=told.append)
    assert told == list(outcome.iterations)  # S(1), S(3), S(3) again: converged
    lines = [r.getMessage() for r in caplog.records if r.name == "allocopt.optimize.outer"]
    assert len(lines) == len(told) + 1  # one per iteration, and the end
    for it, line in zip(told, lines, strict=False):
        assert (
            f"outer iteration {it.iteration}: exact risk reduction {it.objective_exact:.6f}" in line
        )
        assert f"delay step {it.delay_step_years:.2e} years, trust radius {it.trust:.2e}" in line
    assert lines[-1] == "outer loop: locally_optimal after 3 iterations"


@pytest.mark.parametrize(
    ("start", "first", "second", "more", "radii"),
    [
        # S(25) -> S(25.4) moves 0.004 >= 0.001 but gains < 1e-4 of the merit, and the program's
        # value (that of S(25)) predicts no more: converged
        (None, 25, 25.4, 0.0, [0.01, 0.02]),
        # the program predicts 0.001 more: not flat; ratio ~0.005 halves min(0.02, 0.004) to
        # 0.002; S(25.4) repeated moves nothing: converged
        (None, 25, 25.4, 0.001, [0.01, 0.02, 0.002]),
        # S(8) -> S(8.5) gains more than the tolerance though the program predicts nothing
        # (ratio taken as 1, move 0.005 < 0.018 keeps 0.02): not flat
        (None, 8, 8.5, 0.0, [0.01, 0.02, 0.02]),
        # the first solution, from a start at S(25), never counts as flat (ratio taken as 1,
        # move 0.004 < 0.009 keeps 0.01)
        (25, None, 25.4, 0.0, [0.01, 0.01]),
    ],
)
def test_converged_when_a_feasible_step_gains_less_than_the_tolerance_and_no_more_is_predicted(
    inputs, start, first, second, more, radii
):
    inp = inputs()
    before = first if start is None else start  # the accepted point S(second) is compared with
    script = [] if first is None else [first]
    stub = Stub(inp, *script, (second, exact(inp, before) + more))
    outcome = successive_lp(inp, stub, start=None if start is None else S(start))
    assert log(outcome) == [(n, pytest.approx(r, rel=1e-9), True) for n, r in enumerate(radii)]
    assert outcome.iterations[-1].violations == 0
    assert outcome.status == "locally_optimal"
    np.testing.assert_allclose(outcome.schedule.effort, S(second).effort)


@pytest.mark.parametrize(
    ("best", "worse", "radii", "status"),
    [
        # S(8) accepted (0.01 -> 0.02); S(4) rejected ever after: 0.02 -> 0.01 (min(0.02, 0.04)
        # / 2) -> 0.005 -> 0.0025 -> 0.00125 -> 0.000625 < 0.001: stationary at a feasible point
        (8, 4, [0.01, 0.02, 0.01, 0.005, 0.0025, 0.00125], "locally_optimal"),
        # S(60) accepted at a negative ratio (0.01 -> 0.005); S(70) scores less: 0.0025,
        # 0.00125, then 0.000625 < 0.001 at a point over the cap
        (60, 70, [0.01, 0.005, 0.0025, 0.00125], "not_converged"),
    ],
)
def test_stationary_when_the_radius_shrinks_below_the_tolerance(inputs, best, worse, radii, status):
    inp = inputs()
    outcome = successive_lp(inp, Stub(inp, best, worse))
    assert log(outcome) == [(n, r, n == 0) for n, r in enumerate(radii)]
    assert outcome.status == status
    np.testing.assert_allclose(outcome.schedule.effort, S(best).effort)
    assert outcome.objective_model == exact(inp, best)
    assert len(outcome.evaluation.violations) == outcome.iterations[0].violations


def test_not_converged_after_max_iterations(inputs):
    inp = inputs(max_iterations=3)
    stub = Stub(inp, 1, 3, 7)  # each accepted at ratio 1, each move reaching the radius
    outcome = successive_lp(inp, stub)
    assert log(outcome) == [(0, 0.01, True), (1, 0.02, True), (2, 0.04, True)]
    assert outcome.status == "not_converged"
    np.testing.assert_allclose(outcome.schedule.effort, S(7).effort)
    assert outcome.objective_model == exact(inp, 7)
    assert len(stub.asked) == 3


def test_a_start_schedule_is_the_first_point(inputs):
    inp = inputs()
    # from the feasible S(8) (a restart) the program predicts +0.01 and answers S(4), which
    # scores less: rejected (a feasible start is kept unless a step beats it): 0.01 halves to
    # min(0.01, 0.04) / 2 = 0.005, then 0.0025, 0.00125, 0.000625 < 0.001: stationary at S(8)
    stub = Stub(inp, (4, exact(inp, 8) + 0.01))
    outcome = successive_lp(inp, stub, start=S(8))
    np.testing.assert_allclose(stub.asked[0].delay_ref, [0.0, 0.08])
    np.testing.assert_array_equal(stub.asked[0].effort_ref, S(8).effort)
    np.testing.assert_allclose(stub.asked[1].delay_ref, [0.0, 0.08])
    assert log(outcome) == [
        (0, 0.01, False),
        (1, 0.005, False),
        (2, 0.0025, False),
        (3, 0.00125, False),
    ]
    assert outcome.status == "locally_optimal"
    np.testing.assert_allclose(outcome.schedule.effort, S(8).effort)


@pytest.mark.parametrize(
    ("feasible", "gap", "radii", "status"),
    [
        (24.99, 0.0, [0.01, 0.02], "locally_optimal"),
        (8, 0.0, [0.01, 0.02, 0.01, 0.005, 0.0025, 0.00125], "not_converged"),
        (8, 0.2, [0.01, 0.01, 0.02], "locally_optimal"),
    ],
)
def test_a_step_that_ends_every_violation_is_taken_at_a_merit_loss_below_the_tolerance(
    inputs, feasible, gap, radii, status
):
    """S(25) exceeds the item's max_effort of 24.99 EU by 0.01 EU (a bound the merit does not
    price) and is accepted first, valued ``gap`` above its exact value (move 0.25: at ratio 1,
    0.01 -> 0.02; at 0.2 over, ratio about 0.5 keeps 0.01). S(24.99) violates nothing and
    scores a hair less (the merit is flat at its peak, far less than GAIN_TOLERANCE below): it
    is taken, and moves the delay by 0.0001 < 0.001 years: converged there. S(8) violates
    nothing either but loses far more than the tolerance: with no gap it is rejected ever after,
    the radius halves (min(0.02, 0.17) / 2 = 0.01, 0.005, 0.0025, 0.00125, then 0.000625 <
    0.001) and the loop ends at the violating S(25); with a gap of 0.2 (the program's error at
    S(25)) above its loss it is taken (the program predicted a loss: ratio taken as 1, move 0.17
    doubles 0.01), and repeated it moves nothing: converged."""
    inp = inputs(item={"max_effort": 24.99})
    assert evaluate(inp, S(25)).violations
    assert not evaluate(inp, S(feasible)).violations
    assert 0 < score(inp, 25) - score(inp, 24.99) < GAIN_TOLERANCE * score(inp, 25)
    assert GAIN_TOLERANCE * score(inp, 25) < score(inp, 25) - score(inp, 8) < 0.2
    outcome = successive_lp(inp, Stub(inp, (25, exact(inp, 25) + gap), feasible))
    accepted = status == "locally_optimal"
    assert log(outcome) == [(n, r, n == 0 or accepted) for n, r in enumerate(radii)]
    assert outcome.status == status
    np.testing.assert_allclose(outcome.schedule.effort, S(feasible if accepted else 25).effort)


def test_the_first_answer_from_an_infeasible_start_is_accepted(inputs):
    """S(60) is over the cap; the first answer, S(70), scores even less but is accepted (the
    merit does not price every constraint); S(70) again moves nothing, still over the cap."""
    inp = inputs(max_iterations=3)
    outcome = successive_lp(inp, Stub(inp, 70), start=S(60))
    assert outcome.iterations[0].accepted
    np.testing.assert_allclose(outcome.schedule.effort, S(70).effort)
