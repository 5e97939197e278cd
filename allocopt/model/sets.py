"""Sets and mutable parameters: everything the constraint families index over or read."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from allocopt.data import CHANNELS, RESOURCES
from allocopt.inputs import Inputs

CAPABILITIES = "capabilities"


def table(*keys: tuple[str, ...], values: np.ndarray) -> dict:
    """``{(k1, k2, ...): float}`` from an array whose axes follow the label tuples ``keys``."""
    values = np.asarray(values, dtype=float)
    if len(keys) == 1:
        return dict(zip(keys[0], values.tolist(), strict=True))
    return {
        (a, b): float(values[n, k]) for n, a in enumerate(keys[0]) for k, b in enumerate(keys[1])
    }


def add_sets(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """PERIODS, RESOURCES, INTERVENTIONS (= PREPARATION ∪ MITIGATION), ACTIVITIES, CHANNELS; the
    mutable parameters users vary (budget, hit_cap, hazard, intensity, safety_floor) and those the
    outer loop re-linearizes (``*_ref``, ``*_slope``; see :mod:`allocopt.model.linearization`)."""
    t_, i_, r_, c_ = inp.periods.labels, inp.ids, RESOURCES, CHANNELS
    n_t, n_i = len(t_), len(i_)
    m.PERIODS = pyo.Set(initialize=t_, ordered=True)
    m.RESOURCES = pyo.Set(initialize=r_, ordered=True)
    m.INTERVENTIONS = pyo.Set(initialize=i_, ordered=True)
    m.PREPARATION = pyo.Set(
        initialize=[i for i, p in zip(i_, inp.is_preparation, strict=True) if p], ordered=True
    )
    m.ACTIVITIES = pyo.Set(initialize=(CAPABILITIES, *i_), ordered=True)
    m.CHANNELS = pyo.Set(initialize=c_, ordered=True)

    def param(name: str, index: tuple, values: np.ndarray, sets: tuple) -> None:
        setattr(m, name, pyo.Param(*sets, mutable=True, initialize=table(*index, values=values)))

    tr, tc, ti = (m.PERIODS, m.RESOURCES), (m.PERIODS, m.CHANNELS), (m.PERIODS, m.INTERVENTIONS)
    m.dt = pyo.Param(initialize=inp.dt)
    m.weight = pyo.Param(m.RESOURCES, initialize=table(r_, values=inp.weights))
    param("budget", (t_, r_), inp.budget, tr)
    param("hit_cap", (t_,), inp.hit_cap, (m.PERIODS,))
    param("hazard_full", (t_, c_), inp.hazard, tc)
    param("hazard", (t_, c_), inp.hazard, tc)
    param("intensity", (i_, r_), inp.intensity, (m.INTERVENTIONS, m.RESOURCES))
    param("safety_floor", (r_,), inp.safety_floor, (m.RESOURCES,))
    hires = np.clip(np.diff(inp.budget[:, 1], prepend=inp.budget[0, 1]), 0, None)
    param("staff_hires", (t_,), hires, (m.PERIODS,))
    # linearization point of the endogenous terms (reference trajectory: no delay, no safety)
    zeros_t = np.zeros(n_t)
    param("delay_ref", (t_,), zeros_t, (m.PERIODS,))
    param("budget_slope", (t_, r_), np.zeros_like(inp.budget), tr)
    param("capabilities_ref", (t_, r_), inp.budget, tr)
    param("hazard_slope", (t_, c_), np.zeros_like(inp.hazard), tc)
    param("residual_ref", (t_, c_), np.ones_like(inp.hazard), tc)
    param("ai_gain_ref", (t_,), zeros_t, (m.PERIODS,))
    param("ai_gain_slope", (t_,), zeros_t, (m.PERIODS,))
    param("readiness_ref", (t_,), zeros_t, (m.PERIODS,))
    param("effort_ref", (t_, i_), np.zeros((n_t, n_i)), ti)
    param("benefit_ref", (t_, i_), np.zeros((n_t, n_i)), ti)
    param("influence_ref", (t_,), np.ones(n_t), (m.PERIODS,))
    param("influence_slope", (t_,), zeros_t, (m.PERIODS,))
    m.trust = pyo.Param(mutable=True, initialize=inp.capability.trust_region_years)
