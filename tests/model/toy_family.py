"""A toy constraint family, defined here and nowhere else: a cap on the compute all interventions
together use in a period, ``SHARE`` of the period's compute budget. Tests add it to the registry
(``FAMILIES + (TOY,)``) and check that the diagnosis, the duals, in-place updates and the exact
simulator all pick it up without any other change to allocopt."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from allocopt.model.family import Family, Finding, Mutable, Price, Row, Told, amount
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import TOLERANCE, Evaluation, Schedule

SHARE = 0.01  # of the compute budget, per period
TOY_RANK = 7  # after every rule of the bundled families
TOY_UNIT = "risk reduction per kH100e of safety compute cap"


def add_safety_compute_cap(m: pyo.ConcreteModel, inp: Inputs) -> None:
    """safety_compute_cap:  safety_use[t,compute] <= safety_compute_max[t]."""
    m.safety_compute_cap = pyo.Constraint(
        m.PERIODS, rule=lambda m, t: m.safety_use[t, "compute"] <= m.safety_compute_max[t]
    )


def _told(m: pyo.ConcreteModel, inp: Inputs, idx: tuple, bound: float) -> Told:
    cap = pyo.value(m.safety_compute_max[idx[0]])
    return Told(f"toy safety compute cap {amount(cap, 'compute')}", "compute")


def check_cap(inp: Inputs, schedule: Schedule, ev: Evaluation) -> list[Finding]:
    """Safety compute above the toy cap."""
    used = ev.use.sum(axis=1)[:, 0]
    cap = SHARE * ev.point.budget[:, 0]
    over = used > cap * (1 + TOLERANCE) + TOLERANCE
    return [
        ((3, int(t)), f"{inp.periods.labels[t]}: safety compute {used[t]:.6g} exceeds the toy cap")
        for t in np.flatnonzero(over)
    ]


TOY = Family(
    name="toy_safety_compute",
    add=add_safety_compute_cap,
    rows=(
        Row(
            "safety_compute_cap",
            rank=TOY_RANK,
            told=_told,
            price=Price(5, lambda idx: ("compute", "", TOY_UNIT)),
        ),
    ),
    params=(Mutable("safety_compute_max", "t", lambda inp, lin: SHARE * lin.budget[:, 0]),),
    check=check_cap,
    columns={},
)
