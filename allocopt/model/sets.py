"""Sets and mutable parameters: everything the constraint families index over or read."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from allocopt.data import CHANNELS, RESOURCES
from allocopt.inputs import Inputs

CAPABILITIES = "capabilities"

Values = dict[object, float]


def _grid(rows: tuple, cols: tuple, values: np.ndarray) -> Values:
    return {(a, b): float(values[n, k]) for n, a in enumerate(rows) for k, b in enumerate(cols)}


def param_values(inp: Inputs) -> dict[str, Values]:
    """Value of every mutable Param by name and index: the one mapping from :class:`Inputs` to the
    model's data, used to build the model and to update it in place."""
    labels, ids = inp.periods.labels, inp.ids
    staff = inp.budget[:, RESOURCES.index("staff")]
    hires = np.concatenate([[0.0], np.maximum(0.0, np.diff(staff))])
    return {
        "budget": _grid(labels, RESOURCES, inp.budget),
        "hit_cap": dict(zip(labels, map(float, inp.hit_cap), strict=True)),
        "hazard": _grid(labels, CHANNELS, inp.hazard),
        "intensity": _grid(ids, RESOURCES, inp.intensity),
        "max_effort": dict(zip(ids, map(float, inp.max_effort), strict=True)),
        "safety_floor": dict(zip(RESOURCES, map(float, inp.safety_floor), strict=True)),
        "weight": dict(zip(RESOURCES, map(float, inp.weights), strict=True)),
        "staff_hires": dict(zip(labels, map(float, hires), strict=True)),
        "staff_growth_factor": {None: (1 + inp.staff_growth_max_per_year) ** inp.dt},
        "reassignment_per_period": {None: inp.reassignment_share_per_year * inp.dt},
    }


def add_sets(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """PERIODS, RESOURCES, INTERVENTIONS (= PREPARATION ∪ MITIGATION), ACTIVITIES, CHANNELS; and the
    mutable parameters users vary (budget, hit_cap, hazard, intensity, max_effort, safety_floor,
    weight, staff_hires, staff_growth_factor, reassignment_per_period)."""
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
    values = param_values(inp)
    index = {
        "budget": (m.PERIODS, m.RESOURCES),
        "hit_cap": (m.PERIODS,),
        "hazard": (m.PERIODS, m.CHANNELS),
        "intensity": (m.INTERVENTIONS, m.RESOURCES),
        "max_effort": (m.INTERVENTIONS,),
        "safety_floor": (m.RESOURCES,),
        "weight": (m.RESOURCES,),
        "staff_hires": (m.PERIODS,),
        "staff_growth_factor": (),
        "reassignment_per_period": (),
    }
    for name, sets in index.items():
        init = values[name][None] if not sets else values[name]
        m.add_component(name, pyo.Param(*sets, mutable=True, initialize=init))


def set_param_values(m: pyo.ConcreteModel, inp: Inputs) -> int:
    """Assign every mutable Param of ``m`` from ``inp`` where it changed; return how many changed."""
    changed = 0
    for name, values in param_values(inp).items():
        param = m.component(name)
        for key, value in values.items():
            data = param[key] if key is not None else param
            if data.value != value:
                data.set_value(value)
                changed += 1
    return changed
