"""Sets, constants and the mutable parameters the families declare: everything the constraint
families index over or read."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.param import ParamData

from allocopt.model.family import Family, Mutable, families_of
from allocopt.model.linearization import Linearization
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.trajectory import tail_periods
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
    c channels, u the tail's periods past the horizon with salvage ("T+1", ...; none without),
    k the residual's tangent points (0 to ``cuts`` - 1)."""
    tail = tuple(f"T+{u + 1}" for u in range(tail_periods(inp)))
    return {
        "t": inp.periods.labels,
        "r": RESOURCES,
        "i": inp.ids,
        "c": CHANNELS,
        "u": tail,
        "k": tuple(range(inp.cuts)),
    }


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
    sets = _sets(m)
    params = _mutables(families)
    values = param_values(inp, lin, params)
    for p in params:
        init = values[p.name] if p.axes else values[p.name][None]
        setattr(m, p.name, pyo.Param(*(sets[a] for a in p.axes), mutable=True, initialize=init))


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
    "ease_ref": "t",
    "ease_slope": "t",
    "held_ref": "ti",
    "postponed_ref": "c",
    "postponed_rate": "c",
    "hiring": "t",  # 1 where staff_hires > 0 at the point
    "delay_end_ref": "",
    "trust": "",
    "credibility_ref": "t",
    "lock_ref": "t",
    "lock_slope": "t",
    "benefit_tail_ref": "ui",
    "residual_tail_ref": "uc",
}


def point_values(inp: Inputs, lin: Linearization) -> dict[str, dict]:
    """Value of every Param of :data:`POINT_AXES` at the point ``lin``, by name and index (``None``
    for a scalar)."""
    labels = labels_of(inp)
    values = {}
    for name, axes in POINT_AXES.items():
        value = (lin.staff_hires > 0).astype(float) if name == "hiring" else getattr(lin, name)
        keys = tuple(labels[a] for a in axes)
        values[name] = table(*keys, values=value) if axes else {None: float(value)}
    return values


def _sets(m: pyo.ConcreteModel) -> dict[str, pyo.Set]:
    """The index sets of ``m`` by the letters of :func:`labels_of`."""
    return {
        "t": m.PERIODS,
        "r": m.RESOURCES,
        "i": m.INTERVENTIONS,
        "c": m.CHANNELS,
        "u": m.TAIL,
        "k": m.RESIDUAL_CUTS,
    }


def add_sets(
    m: pyo.ConcreteModel, inp: Inputs, lin: Linearization, mutable_point: bool = False
) -> None:
    """PERIODS, RESOURCES, INTERVENTIONS (= PREPARATION ∪ MITIGATION), ACTIVITIES, CHANNELS, TAIL
    (the tail's periods with salvage; empty without), RESIDUAL_CUTS (the residual's tangent
    points, ``cuts`` of them: a channel's rows past its own tangents are skipped, see
    :func:`allocopt.model.risk.residual_tangents`), the period length ``dt``, and the
    linearization point ``lin`` of the endogenous terms (:data:`POINT_AXES`: ``*_ref``,
    ``*_slope``, hiring, the trust radius) as constants, or as mutable Params with
    ``mutable_point`` (the outer loop's program, moved in place). The other mutable Params
    belong to the families (:func:`add_params`)."""
    t_, i_, r_, c_ = inp.periods.labels, inp.ids, RESOURCES, CHANNELS
    labels = labels_of(inp)
    m.PERIODS = pyo.Set(initialize=t_, ordered=True)
    m.RESOURCES = pyo.Set(initialize=r_, ordered=True)
    m.INTERVENTIONS = pyo.Set(initialize=i_, ordered=True)
    m.PREPARATION = pyo.Set(
        initialize=[i for i, p in zip(i_, inp.is_preparation, strict=True) if p], ordered=True
    )
    m.ACTIVITIES = pyo.Set(initialize=(CAPABILITIES, *i_), ordered=True)
    m.CHANNELS = pyo.Set(initialize=c_, ordered=True)
    m.TAIL = pyo.Set(initialize=labels["u"], ordered=True)
    m.RESIDUAL_CUTS = pyo.Set(initialize=labels["k"], ordered=True)
    sets = _sets(m)

    m.dt = pyo.Param(initialize=inp.dt)
    for name, values in point_values(inp, lin).items():
        axes = POINT_AXES[name]
        init = values if axes else values[None]
        setattr(
            m, name, pyo.Param(*(sets[a] for a in axes), mutable=mutable_point, initialize=init)
        )


def values_at(m: pyo.ConcreteModel, inp: Inputs, lin: Linearization) -> dict[str, dict]:
    """Every mutable Param value of ``m`` at ``inp`` and ``lin``: its families' Params and, when
    the point is mutable, the point's (:func:`point_values`)."""
    values = param_values(inp, lin, _mutables(families_of(m)))
    if m.trust.mutable:
        values.update(point_values(inp, lin))
    return values


def set_param_values(m: pyo.ConcreteModel, inp: Inputs, lin: Linearization) -> int:
    """Assign every mutable Param of ``m`` (:func:`values_at`) where it changed; return how many
    values changed."""
    return len(assign(m, values_at(m, inp, lin)))


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
