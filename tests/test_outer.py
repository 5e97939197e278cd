"""The outer loop (trust-region successive LP) driven by a scripted stub program, no HiGHS.

The stub answers each call of ``solve_at(lin)`` from a script — a schedule to return or an error
to raise — and records the linearization it was asked at, so each test can assert the exact
trust radii the loop used, its iteration log and its status. The schedules run on a tiny real
scenario (two years, one mitigation item, 1 FTE per EU, velocity on staff only, hit cap 10%),
so the loop's own exact evaluation and merit decide what is accepted: ``S(e)`` puts ``e`` FTE on
the item each year, which delays Magma by ``e / 100`` years per year, and more effort means a
higher exact merit up to the cap (``test_the_script_s_merit_rises_with_effort``).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from allocopt.errors import InfeasibleError, SolverError
from allocopt.model import evaluate
from allocopt.numeric.inputs import Inputs, prepare
from allocopt.numeric.simulate import Schedule
from allocopt.optimize.outer import MAX_TRUST_FACTOR, Outcome, merit, successive_lp

TRUST = 0.25  # initial trust radius (years)
TOLERANCE = 0.01  # years


def S(effort: float) -> Schedule:
    """``effort`` FTE (= EU) on the item in both years, the rest of the staff on capabilities."""
    return Schedule(
        effort=np.full((2, 1), effort), capabilities=np.array([[5.0, 100.0 - effort]] * 2)
    )


@pytest.fixture
def inputs(tiny):
    """Inputs of the tiny endogenous scenario, with the outer loop's settings as given."""

    def make(max_iterations: int = 30) -> Inputs:
        scenario = tiny(
            [{}],
            budgets=[(5.0, 100.0)] * 2,
            hazard=[0.2, 0.2],
            config={
                "capability": {
                    "hazard_follows_delay": True,
                    "slp": {
                        "trust_region_years": TRUST,
                        "tolerance_years": TOLERANCE,
                        "max_iterations": max_iterations,
                    },
                }
            },
        )
        inp = prepare(scenario)
        assert inp.capability.endogenous
        return inp

    return make


class Stub:
    """A program that answers from ``script`` (the last entry repeats); objective of call n is n."""

    def __init__(self, *script: Schedule | SolverError) -> None:
        self.script = script
        self.asked: list = []  # the Linearization of each call

    def __call__(self, lin) -> tuple[float, Schedule]:
        self.asked.append(lin)
        step = self.script[min(len(self.asked), len(self.script)) - 1]
        if isinstance(step, SolverError):
            raise step
        return float(len(self.asked)), step

    @property
    def trusts(self) -> list[float]:
        return [lin.trust for lin in self.asked]


def trust_region_error() -> SolverError:
    return SolverError("infeasible", "infeasible within the outer loop's trust region")


def log(outcome: Outcome) -> list[tuple[int, float, bool]]:
    return [(i.iteration, i.trust, i.accepted) for i in outcome.iterations]


def test_the_script_s_merit_rises_with_effort(inputs):
    """The premise of the tests below: within the cap, more effort scores a higher exact merit;
    beyond it, the penalty on the velocity-hit excess dominates."""
    inp = inputs()
    scores = {e: merit(inp, S(e), evaluate(inp, S(e))) for e in (2, 4, 6, 8, 8.5, 20, 25)}
    assert scores[2] < scores[4] < scores[6] < scores[8] < scores[8.5]
    assert scores[25] < scores[20] < 0 < scores[2]
    assert evaluate(inp, S(8)).violations == ()
    assert evaluate(inp, S(20)).violations  # velocity hit 20% > cap 10%
    np.testing.assert_allclose(evaluate(inp, S(8)).delay, [0.0, 0.08])


def test_widen_grows_the_radius_fourfold_up_to_the_widest_then_gives_up(inputs):
    stub = Stub(trust_region_error())
    with pytest.raises(SolverError) as caught:
        successive_lp(inputs(), stub)
    assert caught.value.status == "infeasible"
    assert MAX_TRUST_FACTOR == 16.0
    assert stub.trusts == [0.25, 1.0, 4.0]  # x4, x4, then 16 x 0.25 is the widest: re-raised
    for lin in stub.asked:  # still around the reference point: no delay
        np.testing.assert_allclose(lin.delay_ref, [0.0, 0.0], atol=1e-12)


def test_widen_is_capped_at_the_widest_radius_around_the_best_point(inputs):
    stub = Stub(S(8), trust_region_error())
    with pytest.raises(SolverError):
        successive_lp(inputs(), stub)
    # accepted at 0.25 (radius doubles to 0.5), then x4 = 2.0, then min(8.0, 4.0), then re-raised
    assert stub.trusts == [0.25, 0.5, 2.0, 4.0]
    for lin in stub.asked[1:]:  # widened around the accepted schedule's exact trajectory
        np.testing.assert_allclose(lin.delay_ref, [0.0, 0.08])


def test_widen_then_solve_and_converge(inputs):
    stub = Stub(trust_region_error(), trust_region_error(), S(8), S(8))
    outcome = successive_lp(inputs(), stub)
    assert stub.trusts == [0.25, 1.0, 4.0, 4.0]  # doubling after acceptance stops at the widest
    assert log(outcome) == [(2, 4.0, True), (3, 4.0, True)]
    assert outcome.status == "optimal"
    assert outcome.objective_model == 4.0  # the last accepted call's objective


@pytest.mark.parametrize(
    "error",
    [
        InfeasibleError(SimpleNamespace(headline=lambda: "no schedule at all")),
        SolverError("time_limit", "stopped"),
    ],
)
def test_errors_other_than_the_trust_region_pass_through_without_widening(inputs, error):
    stub = Stub(error)
    with pytest.raises(type(error)):
        successive_lp(inputs(), stub)
    assert stub.trusts == [0.25]


def test_halve_rejects_a_step_whose_exact_merit_falls(inputs):
    stub = Stub(S(8), S(4), S(8))
    outcome = successive_lp(inputs(), stub)
    assert log(outcome) == [(0, 0.25, True), (1, 0.5, False), (2, 0.25, True)]
    assert stub.trusts == [0.25, 0.5, 0.25]
    np.testing.assert_allclose(stub.asked[2].delay_ref, [0.0, 0.08])  # around S(8), not S(4)
    assert outcome.status == "optimal"
    np.testing.assert_allclose(outcome.schedule.effort, S(8).effort)
    assert outcome.objective_model == 3.0


def test_stationary_when_the_radius_shrinks_below_the_tolerance_at_a_feasible_point(inputs):
    stub = Stub(S(8), S(4))  # every later step is worse than S(8)
    outcome = successive_lp(inputs(), stub)
    radii = [0.25, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625]  # next would be 0.0078 < 0.01
    assert log(outcome) == [(n, r, n == 0) for n, r in enumerate(radii)]
    assert outcome.status == "optimal"
    np.testing.assert_allclose(outcome.schedule.effort, S(8).effort)
    assert outcome.objective_model == 1.0
    assert outcome.evaluation.violations == ()


def test_stationary_at_a_violating_point_is_not_converged(inputs):
    stub = Stub(S(20), S(25))  # over the velocity-hit cap, and the later step more so
    outcome = successive_lp(inputs(), stub)
    assert [i.accepted for i in outcome.iterations] == [True] + [False] * 6
    assert outcome.iterations[-1].trust == 0.015625
    assert outcome.status == "not_converged"
    np.testing.assert_allclose(outcome.schedule.effort, S(20).effort)
    assert outcome.iterations[0].violations == len(outcome.evaluation.violations) > 0


def test_converged_when_an_accepted_step_moves_the_delay_less_than_the_tolerance(inputs):
    stub = Stub(S(8), S(8.5))
    outcome = successive_lp(inputs(), stub)
    assert log(outcome) == [(0, 0.25, True), (1, 0.5, True)]
    steps = [i.delay_step_years for i in outcome.iterations]
    assert steps == pytest.approx([0.08, 0.005])  # first: from no delay; then 0.005 < 0.01
    assert [i.regimes_changed for i in outcome.iterations] == [0, 0]
    assert outcome.status == "optimal"
    np.testing.assert_allclose(outcome.schedule.effort, S(8.5).effort)
    assert outcome.objective_model == 2.0


def test_a_first_solve_never_counts_as_converged(inputs):
    """Even a schedule with no delay at all needs a second, confirming solve."""
    stub = Stub(S(0), S(0))
    outcome = successive_lp(inputs(), stub)
    assert log(outcome) == [(0, 0.25, True), (1, 0.5, True)]
    assert outcome.status == "optimal"


def test_not_converged_after_max_iterations(inputs):
    stub = Stub(S(2), S(4), S(6))  # each accepted, each moving the delay 0.02 years
    outcome = successive_lp(inputs(max_iterations=3), stub)
    assert log(outcome) == [(0, 0.25, True), (1, 0.5, True), (2, 1.0, True)]
    assert [i.delay_step_years for i in outcome.iterations] == pytest.approx([0.02, 0.02, 0.02])
    assert outcome.status == "not_converged"
    np.testing.assert_allclose(outcome.schedule.effort, S(6).effort)
    assert outcome.objective_model == 3.0
    assert len(stub.asked) == 3
