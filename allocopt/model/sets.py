"""Sets and mutable parameters: everything the constraint families index over or read."""

from __future__ import annotations

import pyomo.environ as pyo

from allocopt.data import CHANNELS, RESOURCES
from allocopt.inputs import Inputs

CAPABILITIES = "capabilities"


def add_sets(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """PERIODS, RESOURCES, INTERVENTIONS (= PREPARATION ∪ MITIGATION), ACTIVITIES, CHANNELS; and the
    mutable parameters users vary (budget, hit_cap, hazard, intensity, safety_floor, max_effort)."""
    labels = inp.periods.labels
    ids = inp.ids
    m.PERIODS = pyo.Set(initialize=labels, ordered=True)
    m.RESOURCES = pyo.Set(initialize=RESOURCES, ordered=True)
    m.INTERVENTIONS = pyo.Set(initialize=ids, ordered=True)
    m.PREPARATION = pyo.Set(
        initialize=[i for i, p in zip(ids, inp.is_preparation, strict=True) if p], ordered=True
    )
    m.ACTIVITIES = pyo.Set(initialize=(CAPABILITIES, *ids), ordered=True)
    m.CHANNELS = pyo.Set(initialize=CHANNELS, ordered=True)

    m.dt = pyo.Param(initialize=inp.dt)
    m.budget = pyo.Param(
        m.PERIODS,
        m.RESOURCES,
        mutable=True,
        initialize={
            (p, r): float(inp.budget[t, k])
            for t, p in enumerate(labels)
            for k, r in enumerate(RESOURCES)
        },
    )
    m.hit_cap = pyo.Param(
        m.PERIODS, mutable=True, initialize=dict(zip(labels, map(float, inp.hit_cap), strict=True))
    )
    m.hazard = pyo.Param(
        m.PERIODS,
        m.CHANNELS,
        mutable=True,
        initialize={
            (p, c): float(inp.hazard[t, k])
            for t, p in enumerate(labels)
            for k, c in enumerate(CHANNELS)
        },
    )
    m.intensity = pyo.Param(
        m.INTERVENTIONS,
        m.RESOURCES,
        mutable=True,
        initialize={
            (i, r): float(inp.intensity[n, k])
            for n, i in enumerate(ids)
            for k, r in enumerate(RESOURCES)
        },
    )
    m.safety_floor = pyo.Param(
        m.RESOURCES,
        mutable=True,
        initialize=dict(zip(RESOURCES, map(float, inp.safety_floor), strict=True)),
    )
    m.weight = pyo.Param(
        m.RESOURCES, initialize=dict(zip(RESOURCES, map(float, inp.weights), strict=True))
    )
