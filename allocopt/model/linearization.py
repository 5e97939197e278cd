"""Move the linearization point of the endogenous terms to the exact trajectory of a schedule."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from allocopt.data import CHANNELS, RESOURCES
from allocopt.inputs import Inputs
from allocopt.model.sets import table
from allocopt.simulate import Evaluation, Schedule


def set_point(
    m: pyo.ConcreteModel, inp: Inputs, schedule: Schedule, ev: Evaluation, trust: float
) -> None:
    """Set every ``*_ref``/``*_slope`` parameter (and budget, hazard, hit_cap, staff_hires) to the
    values on ``schedule``'s exact trajectory ``ev``, and the trust radius to ``trust``."""
    t_, i_ = inp.periods.labels, inp.ids
    p = ev.point
    values = {
        "delay_ref": ((t_,), p.delay),
        "budget": ((t_, RESOURCES), p.budget),
        "budget_slope": ((t_, RESOURCES), p.budget_slope),
        "capabilities_ref": ((t_, RESOURCES), schedule.capabilities),
        "hit_cap": ((t_,), ev.hit_cap),
        "hazard": ((t_, CHANNELS), p.hazard),
        "hazard_slope": ((t_, CHANNELS), p.hazard_slope),
        "residual_ref": ((t_, CHANNELS), ev.residual),
        "ai_gain_ref": ((t_,), p.ai_gain),
        "ai_gain_slope": ((t_,), p.ai_gain_slope),
        "readiness_ref": ((t_,), ev.readiness),
        "effort_ref": ((t_, i_), schedule.effort),
        "benefit_ref": ((t_, i_), ev.benefit),
        "influence_ref": ((t_,), p.influence),
        "influence_slope": ((t_,), p.influence_slope),
        "staff_hires": ((t_,), np.clip(np.diff(p.budget[:, 1], prepend=p.budget[0, 1]), 0, None)),
    }
    for name, (keys, array) in values.items():
        getattr(m, name).store_values(table(*keys, values=array))
    m.trust.set_value(trust)
