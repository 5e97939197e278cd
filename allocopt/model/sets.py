"""Sets and mutable parameters: everything the constraint families index over or read."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.param import ParamData

from allocopt.model.linearization import Linearization
from allocopt.numeric.inputs import Inputs
from allocopt.scenario.tables import CHANNELS, RESOURCES

CAPABILITIES = "capabilities"


def table(*keys: tuple[str, ...], values: np.ndarray) -> dict:
    """``{(k1, k2, ...): float}`` from an array whose axes follow the label tuples ``keys``."""
    values = np.asarray(values, dtype=float)
    if len(keys) == 1:
        return dict(zip(keys[0], values.tolist(), strict=True))
    return {
        (a, b): float(values[n, k]) for n, a in enumerate(keys[0]) for k, b in enumerate(keys[1])
    }


def param_values(inp: Inputs, lin: Linearization) -> dict[str, dict]:
    """Value of every mutable Param by name and index (``None`` for a scalar): the one mapping from
    :class:`Inputs` and the linearization point to the model's data, used to build the model and
    to update it in place (:func:`set_param_values`)."""
    t_, i_, r_, c_ = inp.periods.labels, inp.ids, RESOURCES, CHANNELS
    return {
        "budget": table(t_, r_, values=lin.budget),
        "hit_cap": table(t_, values=lin.hit_cap),
        "hazard_full": table(t_, c_, values=inp.hazard_full),
        "hazard": table(t_, c_, values=lin.hazard),
        "intensity": table(i_, r_, values=inp.intensity),
        "max_effort": table(i_, values=inp.max_effort),
        "safety_floor": table(r_, values=inp.safety_floor),
        "weight": table(r_, values=inp.weights),
        "staff_hires": table(t_, values=lin.staff_hires),
        "staff_growth_factor": {None: (1 + inp.staff_growth_max_per_year) ** inp.dt},
        "reassignment_per_period": {None: inp.reassignment_share_per_year * inp.dt},
    }


MUTABLE_AXES = {  # index sets of each mutable Param, by the letters of add_sets
    "budget": "tr",
    "hit_cap": "t",
    "hazard_full": "tc",
    "hazard": "tc",
    "intensity": "ir",
    "max_effort": "i",
    "safety_floor": "r",
    "weight": "r",
    "staff_hires": "t",
    "staff_growth_factor": "",
    "reassignment_per_period": "",
}

POINT_AXES = {  # the linearization point's Params (fields of Linearization), by index sets
    "delay_ref": "t",
    "budget_slope": "tr",
    "capabilities_ref": "tr",
    "hazard_slope": "tc",
    "residual_ref": "tc",
    "ai_gain_ref": "t",
    "ai_gain_slope": "t",
    "readiness_ref": "t",
    "effort_ref": "ti",
    "benefit_ref": "ti",
    "influence_ref": "t",
    "influence_slope": "t",
    "postponed_ref": "c",
    "postponed_rate": "c",
    "hiring": "t",  # 1 where staff_hires > 0 at the point
    "delay_end_ref": "",
    "trust": "",
}


def point_values(inp: Inputs, lin: Linearization) -> dict[str, dict]:
    """Value of every Param of :data:`POINT_AXES` at the point ``lin``, by name and index (``None``
    for a scalar)."""
    labels = {"t": inp.periods.labels, "r": RESOURCES, "i": inp.ids, "c": CHANNELS}
    values = {}
    for name, axes in POINT_AXES.items():
        value = (lin.staff_hires > 0).astype(float) if name == "hiring" else getattr(lin, name)
        keys = tuple(labels[a] for a in axes)
        values[name] = table(*keys, values=value) if axes else {None: float(value)}
    return values


def add_sets(
    m: pyo.ConcreteModel, inp: Inputs, lin: Linearization, mutable_point: bool = False
) -> None:
    """PERIODS, RESOURCES, INTERVENTIONS (= PREPARATION ∪ MITIGATION), ACTIVITIES, CHANNELS; the
    mutable parameters users vary (:data:`MUTABLE_AXES`: budget, hit_cap, hazard_full, hazard,
    intensity, max_effort, safety_floor, weight, staff_hires, staff_growth_factor,
    reassignment_per_period), and the linearization point ``lin`` of the endogenous terms
    (:data:`POINT_AXES`: ``*_ref``, ``*_slope``, hiring, the trust radius) as constants, or as
    mutable Params with ``mutable_point`` (the outer loop's program, moved in place)."""
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

    m.dt = pyo.Param(initialize=inp.dt)
    point = point_values(inp, lin)
    for name, values in {**param_values(inp, lin), **point}.items():
        axes = {**MUTABLE_AXES, **POINT_AXES}[name]
        init = values if axes else values[None]
        mutable = mutable_point or name not in point
        setattr(m, name, pyo.Param(*(sets[a] for a in axes), mutable=mutable, initialize=init))


def set_param_values(m: pyo.ConcreteModel, inp: Inputs, lin: Linearization) -> int:
    """Assign every mutable Param of ``m`` from ``inp`` and ``lin`` where it changed; return how
    many values changed."""
    return len(assign(m, param_values(inp, lin)))


def assign(m: pyo.ConcreteModel, values: dict[str, dict]) -> list[ParamData]:
    """Set the mutable Params of ``m`` to ``values`` (by name and index, as :func:`param_values`)
    where they differ; return the Param data that changed."""
    changed = []
    for name, table_ in values.items():
        param = m.component(name)
        for key, value in table_.items():
            data = param[key] if key is not None else param
            if data.value != value:
                data.set_value(value)
                changed.append(data)
    return changed
