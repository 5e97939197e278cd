"""Every variable of the program, declared in one place (the table in docs/model.md), in the
order HiGHS numbers their columns; and the bounds on the allocation (``max_effort``)."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from allocopt.model.family import BOUNDS, Family, Finding, Mutable, Row, Told
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import TOLERANCE, Evaluation, Schedule


def add_variables(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """capabilities[t,r] >= 0; 0 <= effort[t,i] <= max_effort[i] (a mutable Param, infinite when
    unbounded); stock[t,p] >= 0; level[t,i]; 0 <= benefit[t,i] <= 1; capacity[t,c];
    floor[c] <= residual[t,c] <= 1 (floor[c] a mutable Param, ``risk.residual_floor``);
    staff_inflow[t,a] >= 0 (later periods);
    over the tail's periods with salvage: level_tail[u,i]; 0 <= benefit_tail[u,i] <= 1;
    capacity_tail[u,c]; floor[c] <= residual_tail[u,c] <= 1;
    delay[t] >= 0 (only when capability is endogenous)."""
    m.LATER_PERIODS = pyo.Set(initialize=list(m.PERIODS)[1:], ordered=True)

    m.capabilities = pyo.Var(m.PERIODS, m.RESOURCES, domain=pyo.NonNegativeReals)
    m.effort = pyo.Var(m.PERIODS, m.INTERVENTIONS, bounds=lambda m, t, i: (0.0, m.max_effort[i]))
    m.stock = pyo.Var(m.PERIODS, m.PREPARATION, domain=pyo.NonNegativeReals)
    m.level = pyo.Var(m.PERIODS, m.INTERVENTIONS, domain=pyo.Reals)
    m.benefit = pyo.Var(m.PERIODS, m.INTERVENTIONS, bounds=(0.0, 1.0))
    m.capacity = pyo.Var(m.PERIODS, m.CHANNELS, domain=pyo.Reals)
    m.residual = pyo.Var(m.PERIODS, m.CHANNELS, bounds=lambda m, t, c: (m.floor[c], 1.0))
    m.staff_inflow = pyo.Var(m.LATER_PERIODS, m.ACTIVITIES, domain=pyo.NonNegativeReals)
    m.level_tail = pyo.Var(m.TAIL, m.INTERVENTIONS, domain=pyo.Reals)
    m.benefit_tail = pyo.Var(m.TAIL, m.INTERVENTIONS, bounds=(0.0, 1.0))
    m.capacity_tail = pyo.Var(m.TAIL, m.CHANNELS, domain=pyo.Reals)
    m.residual_tail = pyo.Var(m.TAIL, m.CHANNELS, bounds=lambda m, u, c: (m.floor[c], 1.0))
    if inp.capability.endogenous:
        m.delay = pyo.Var(m.PERIODS, domain=pyo.NonNegativeReals)


def _max_effort(m: pyo.ConcreteModel, inp: Inputs, idx: tuple, bound: float) -> Told:
    return Told(f"max_effort {bound:g} EU on {idx[1]}", activity=idx[1])


def check_bounds(inp: Inputs, schedule: Schedule, ev: Evaluation) -> list[Finding]:
    """A negative allocation, and effort above its max_effort, each beyond :data:`TOLERANCE`
    relative and absolute, as every check: HiGHS may return a basic effort past its bound by up to
    its feasibility tolerance (5.3e-9 EU on a bound of 1e-9 EU, a withheld group's in
    :func:`allocopt.analyses.heuristics.withheld_value`), which no schedule's value can feel."""
    out: list[Finding] = []
    if (schedule.effort < -TOLERANCE).any() or (schedule.capabilities < -TOLERANCE).any():
        out.append(((BOUNDS, 0), "negative allocation"))
    over = schedule.effort > inp.max_effort[None, :] * (1 + TOLERANCE) + TOLERANCE
    for t, i in zip(*np.nonzero(over), strict=True):
        out.append(
            (
                (BOUNDS, 1, int(t), int(i)),
                f"{inp.periods.labels[t]}: effort on {inp.ids[i]} exceeds its max_effort "
                f"{inp.max_effort[i]:g}",
            )
        )
    return out


FAMILY = Family(
    name="variables",
    add=add_variables,
    rows=(Row("max_effort", rank=5, told=_max_effort),),  # the upper bound of effort[t,i]
    params=(
        Mutable("max_effort", "i", lambda inp, lin: inp.max_effort),
        Mutable("floor", "c", lambda inp, lin: inp.residual_floor),
    ),
    check=check_bounds,
    columns={
        "capabilities": "decision",
        "effort": "decision",
        "stock": "determined",
        "level": "determined",
        "benefit": "determined",
        "capacity": "determined",
        "residual": "determined",
        "staff_inflow": "determined",
        "delay": "own",
        "level_tail": "own",
        "benefit_tail": "own",
        "capacity_tail": "own",
        "residual_tail": "own",
    },
)
