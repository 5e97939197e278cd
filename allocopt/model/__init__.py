"""The allocation program, built from a scenario by one :class:`~allocopt.model.family.Family`
per family of constraints.

The registry is :data:`FAMILIES`: each family's module holds its rows (``add``, whose docstring
states its equations as written in ``docs/model.md``), their phrases in a diagnosis, the labels
of their shadow prices, its mutable Params, its check in the exact simulator and how its columns
are shared in an extensive form. Everything else reads them from here; adding a family touches
its module and this tuple only.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyomo.environ as pyo

from allocopt.model import allocation, budget, objective, risk, staff, stocks, variables, velocity
from allocopt.model.family import Built, Family, Recording, Sharing, built_from, read
from allocopt.model.linearization import Linearization, reference
from allocopt.model.sets import CAPABILITIES, add_params, add_sets
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import Evaluation, Schedule, simulate

FAMILIES: tuple[Family, ...] = (
    variables.FAMILY,
    allocation.FAMILY,
    velocity.FAMILY,
    budget.FAMILY,
    staff.FAMILY,
    stocks.FAMILY,
    risk.FAMILY,
    objective.FAMILY,
)


def build_model(
    inp: Inputs,
    lin: Linearization | None = None,
    families: Sequence[Family] = FAMILIES,
    mutable_point: bool = False,
) -> pyo.ConcreteModel:
    """The Pyomo model of ``inp``, linearized around ``lin`` (default: the reference point):
    :func:`add_sets` first, then the mutable Params of every family of ``families``, then each
    family's rows in order. With ``mutable_point`` the point is held in mutable Params, to be
    moved in place (the outer loop's program). The model records its families and which
    attributes of ``inp`` the sets and rows read directly (:func:`structure`)."""
    m = pyo.ConcreteModel(name=inp.scenario_name)
    lin = lin or reference(inp)
    reads: set[str] = set()
    seen = Recording(inp, reads)
    add_sets(m, seen, lin, mutable_point)
    add_params(m, inp, lin, families)
    for family in families:
        family.add(m, seen)
    m._allocopt_built = Built(tuple(families), frozenset(reads))
    return m


def structure(m: pyo.ConcreteModel, inp: Inputs) -> dict[str, object]:
    """What building ``m`` read directly from its inputs (not through mutable Params), with the
    values ``inp`` has: by dotted name, sorted. ``inp`` can update ``m`` in place exactly when
    this equals ``structure(m, inputs m was built from)``; a family that reads a new field is
    covered without listing it anywhere."""
    return {path: read(inp, path) for path in sorted(built_from(m).reads)}


def violations(
    inp: Inputs, schedule: Schedule, ev: Evaluation, families: Sequence[Family] = FAMILIES
) -> list[str]:
    """One line per constraint ``schedule`` violates, as the ``check`` of each family of
    ``families`` finds it in the simulator's numbers ``ev``, in the families' key order."""
    found = [finding for family in families for finding in family.check(inp, schedule, ev)]
    return [message for _, message in sorted(found, key=lambda finding: finding[0])]


def broken(
    inp: Inputs, schedule: Schedule, ev: Evaluation, families: Sequence[Family] = FAMILIES
) -> tuple[str, ...]:
    """The names of the families of ``families`` whose ``check`` finds a constraint that
    ``schedule`` violates in the simulator's numbers ``ev`` (in the families' order; empty
    exactly when :func:`violations` is)."""
    return tuple(family.name for family in families if family.check(inp, schedule, ev))


def evaluate(inp: Inputs, schedule: Schedule, families: Sequence[Family] = FAMILIES) -> Evaluation:
    """The exact evaluation of ``schedule`` (:func:`allocopt.numeric.simulate.simulate`) with the
    constraints it violates (:func:`violations`)."""
    return simulate(inp, schedule, lambda i, s, ev: violations(i, s, ev, families))


def shared_as(kind: Sharing, families: Sequence[Family] = FAMILIES) -> tuple[str, ...]:
    """Names of the variables of ``families`` whose columns an extensive form shares as ``kind``."""
    return tuple(name for f in families for name, how in f.columns.items() if how == kind)


__all__ = [
    "CAPABILITIES",
    "FAMILIES",
    "broken",
    "build_model",
    "evaluate",
    "shared_as",
    "structure",
    "violations",
]
