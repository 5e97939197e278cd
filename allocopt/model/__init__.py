"""The allocation program, built from a scenario by one function per family of constraints.

The structure reads off :data:`FAMILIES`; each family's docstring states its equations as written
in ``docs/model.md``.
"""

from __future__ import annotations

from collections.abc import Callable

import pyomo.environ as pyo

from allocopt.model.allocation import add_allocation
from allocopt.model.budget import add_budget
from allocopt.model.linearization import Linearization, reference
from allocopt.model.objective import add_objective
from allocopt.model.risk import add_risk
from allocopt.model.sets import CAPABILITIES, add_sets
from allocopt.model.staff import add_staff
from allocopt.model.stocks import add_stocks
from allocopt.model.variables import add_variables
from allocopt.model.velocity import add_velocity
from allocopt.numeric.inputs import Inputs

Family = Callable[[pyo.ConcreteModel, Inputs], None]

FAMILIES: tuple[Family, ...] = (
    add_variables,
    add_allocation,
    add_velocity,
    add_budget,
    add_staff,
    add_stocks,
    add_risk,
    add_objective,
)


def build_model(
    inp: Inputs, lin: Linearization | None = None, mutable_point: bool = False
) -> pyo.ConcreteModel:
    """The Pyomo model of ``inp``, linearized around ``lin`` (default: the reference point):
    :func:`add_sets` first, then every family of :data:`FAMILIES` in order. With
    ``mutable_point`` the point is held in mutable Params, to be moved in place."""
    m = pyo.ConcreteModel(name=inp.scenario_name)
    add_sets(m, inp, lin or reference(inp), mutable_point)
    for family in FAMILIES:
        family(m, inp)
    return m


__all__ = ["CAPABILITIES", "FAMILIES", "build_model"]
