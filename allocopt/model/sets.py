"""Sets and mutable parameters: everything the constraint families index over or read."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from allocopt.data import CHANNELS, RESOURCES
from allocopt.inputs import Inputs
from allocopt.model.linearization import Linearization

CAPABILITIES = "capabilities"


def table(*keys: tuple[str, ...], values: np.ndarray) -> dict:
    """``{(k1, k2, ...): float}`` from an array whose axes follow the label tuples ``keys``."""
    values = np.asarray(values, dtype=float)
    if len(keys) == 1:
        return dict(zip(keys[0], values.tolist(), strict=True))
    return {
        (a, b): float(values[n, k]) for n, a in enumerate(keys[0]) for k, b in enumerate(keys[1])
    }


def add_sets(m: pyo.ConcreteModel, inp: Inputs, lin: Linearization) -> None:
    """PERIODS, RESOURCES, INTERVENTIONS (= PREPARATION ∪ MITIGATION), ACTIVITIES, CHANNELS; the
    mutable parameters users vary (budget, hit_cap, hazard, intensity, safety_floor), and the
    linearization point ``lin`` of the endogenous terms as constants (``*_ref``, ``*_slope``)."""
    t_, i_, r_, c_ = inp.periods.labels, inp.ids, RESOURCES, CHANNELS
    m.PERIODS = pyo.Set(initialize=t_, ordered=True)
    m.RESOURCES = pyo.Set(initialize=r_, ordered=True)
    m.INTERVENTIONS = pyo.Set(initialize=i_, ordered=True)
    m.PREPARATION = pyo.Set(
        initialize=[i for i, p in zip(i_, inp.is_preparation, strict=True) if p], ordered=True
    )
    m.ACTIVITIES = pyo.Set(initialize=(CAPABILITIES, *i_), ordered=True)
    m.CHANNELS = pyo.Set(initialize=c_, ordered=True)
    sets = {"t": m.PERIODS, "r": m.RESOURCES, "i": m.INTERVENTIONS, "c": m.CHANNELS}
    labels = {"t": t_, "r": r_, "i": i_, "c": c_}

    def param(name: str, axes: str, values: np.ndarray, mutable: bool = False) -> None:
        keys = tuple(labels[a] for a in axes)
        setattr(
            m,
            name,
            pyo.Param(
                *(sets[a] for a in axes), mutable=mutable, initialize=table(*keys, values=values)
            ),
        )

    m.dt = pyo.Param(initialize=inp.dt)
    param("weight", "r", inp.weights)
    for name, axes, values in (
        ("budget", "tr", lin.budget),
        ("hit_cap", "t", lin.hit_cap),
        ("hazard_full", "tc", inp.hazard),
        ("hazard", "tc", lin.hazard),
        ("intensity", "ir", inp.intensity),
        ("safety_floor", "r", inp.safety_floor),
        ("staff_hires", "t", lin.staff_hires),
    ):
        param(name, axes, values, mutable=True)
    for name, axes in (
        ("delay_ref", "t"),
        ("budget_slope", "tr"),
        ("capabilities_ref", "tr"),
        ("hazard_slope", "tc"),
        ("residual_ref", "tc"),
        ("ai_gain_ref", "t"),
        ("ai_gain_slope", "t"),
        ("readiness_ref", "t"),
        ("effort_ref", "ti"),
        ("benefit_ref", "ti"),
        ("influence_ref", "t"),
        ("influence_slope", "t"),
        ("postponed_ref", "c"),
        ("postponed_rate", "c"),
    ):
        param(name, axes, getattr(lin, name))
    param("hiring", "t", (lin.staff_hires > 0).astype(float))
    m.delay_end_ref = pyo.Param(initialize=lin.delay_end_ref)
    m.trust = pyo.Param(initialize=lin.trust)
