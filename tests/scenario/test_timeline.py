"""The acceleration date (timeline.shift_years) and the budgets' growth (budget_growth_multiplier):
hand-checked readings of the tables, validation, and in-place updates of the core program."""

from __future__ import annotations

import numpy as np
import pytest

from allocopt import Model, ScenarioError
from allocopt.numeric.inputs import prepare


def test_shift_by_one_period_reads_the_previous_period(core):
    base = prepare(core)
    later = prepare(core.with_updates({"timeline.shift_years": base.dt}))
    np.testing.assert_allclose(later.speedup[1:], base.speedup[:-1], rtol=1e-12)
    np.testing.assert_allclose(later.hazard[1:], base.hazard[:-1], rtol=1e-12)
    # acceleration arrives one period later, and the velocity-hit cap of that period follows
    switch = int(base.post_acceleration.argmax())
    assert int(later.post_acceleration.argmax()) == switch + 1
    assert later.hit_cap[switch] == core.velocity.hit_cap_pre_acceleration


def test_earlier_timeline_raises_every_hazard(core):
    base = prepare(core)
    earlier = prepare(core.with_updates({"timeline.shift_years": -0.4}))
    assert (earlier.speedup > base.speedup).all()
    assert earlier.hazard.sum() > base.hazard.sum()


def test_budget_growth_multiplier_scales_log_growth(core):
    base = prepare(core)
    flat = prepare(core.with_updates({"budget_growth_multiplier.compute": 0.0}))
    half = prepare(core.with_updates({"budget_growth_multiplier.compute": 0.5}))
    np.testing.assert_allclose(flat.budget[:, 0], base.budget[0, 0])
    np.testing.assert_allclose(half.budget[:, 0], np.sqrt(base.budget[0, 0] * base.budget[:, 0]))
    np.testing.assert_array_equal(half.budget[:, 1], base.budget[:, 1])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timeline.shift_years", 9.0, "timeline.shift_years"),
        ("budget_growth_multiplier.compute", -1.0, "budget_growth_multiplier.compute"),
        ("budget_growth_multiplier.gpus", 1.0, "budget_growth_multiplier"),
    ],
)
def test_bad_values_are_named(core, field, value, message):
    with pytest.raises(ScenarioError, match=message.replace(".", r"\.")):
        core.with_updates({field: value})


def test_model_updates_timeline_and_growth_in_place(core):
    model = Model(core)
    first = model.solve().summary["risk_reduction_exact"]
    assert model.update({"timeline.shift_years": 0.5}) == "in_place"
    later = model.solve().summary["risk_reduction_exact"]
    assert model.update({"budget_growth_multiplier.compute": 0.5}) == "in_place"
    assert model.builds == 1
    # a later timeline moves hazard out of the horizon: less risk to reduce
    assert later < first
