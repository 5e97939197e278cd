"""Sets, constants and the mutable parameters the families declare: everything the constraint
families index over or read."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyomo.environ as pyo

from allocopt.model.family import Family, Mutable, families_of
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


def labels_of(inp: Inputs) -> dict[str, tuple[str, ...]]:
    """The labels of each index set by its letter: t periods, r resources, i interventions,
    c channels."""
    return {"t": inp.periods.labels, "r": RESOURCES, "i": inp.ids, "c": CHANNELS}


def param_values(inp: Inputs, lin: Linearization, params: Iterable[Mutable]) -> dict[str, dict]:
    """Value of every mutable Param of ``params`` by name and index (``None`` for a scalar): the
    one mapping from :class:`Inputs` and the linearization point to the model's data, used to
    build the model (:func:`add_params`) and to update it in place (:func:`set_param_values`)."""
    labels = labels_of(inp)
    out: dict[str, dict] = {}
    for p in params:
        value = p.value(inp, lin)
        keys = tuple(labels[a] for a in p.axes)
        out[p.name] = table(*keys, values=value) if keys else {None: float(value)}
    return out


def _mutables(families: Iterable[Family]) -> list[Mutable]:
    return [p for family in families for p in family.params]


def add_params(
    m: pyo.ConcreteModel, inp: Inputs, lin: Linearization, families: Iterable[Family]
) -> None:
    """Declare the mutable Params of every family of ``families`` (all of them before any family
    adds rows: families read each other's Params, e.g. ``budget``)."""
    sets = {"t": m.PERIODS, "r": m.RESOURCES, "i": m.INTERVENTIONS, "c": m.CHANNELS}
    params = _mutables(families)
    values = param_values(inp, lin, params)
    for p in params:
        init = values[p.name] if p.axes else values[p.name][None]
        setattr(m, p.name, pyo.Param(*(sets[a] for a in p.axes), mutable=True, initialize=init))


def add_sets(m: pyo.ConcreteModel, inp: Inputs, lin: Linearization) -> None:
    """PERIODS, RESOURCES, INTERVENTIONS (= PREPARATION ∪ MITIGATION), ACTIVITIES, CHANNELS, the
    period length ``dt``, and the linearization point ``lin`` of the endogenous terms as
    constants (``*_ref``, ``*_slope``). The mutable Params belong to the families
    (:func:`add_params`)."""
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

    def param(name: str, axes: str, values: np.ndarray) -> None:
        keys = tuple(labels[a] for a in axes)
        setattr(
            m, name, pyo.Param(*(sets[a] for a in axes), initialize=table(*keys, values=values))
        )

    m.dt = pyo.Param(initialize=inp.dt)
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


def set_param_values(m: pyo.ConcreteModel, inp: Inputs, lin: Linearization) -> int:
    """Assign every mutable Param of the families ``m`` was built from, from ``inp`` and ``lin``,
    where it changed; return how many values changed."""
    changed = 0
    for name, values in param_values(inp, lin, _mutables(families_of(m))).items():
        param = m.component(name)
        for key, value in values.items():
            data = param[key] if key is not None else param
            if data.value != value:
                data.set_value(value)
                changed += 1
    return changed
