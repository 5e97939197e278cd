"""What a constraint family is: one :class:`Family` value per module of ``allocopt/model/``.

A family owns everything about itself: its rows (``add``), how each row component is told in an
infeasibility diagnosis (:class:`Row`), the label and unit of its shadow prices (:class:`Price`),
its mutable Params (:class:`Mutable`), what the exact simulator checks for it (``check``) and how
the columns of its variables are shared in an extensive form (``columns``). The registry is
:data:`allocopt.model.FAMILIES`; nothing else lists families.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, is_dataclass
from functools import reduce
from typing import Any, Literal, NamedTuple

import numpy as np
import pyomo.environ as pyo

from allocopt.model.linearization import Linearization
from allocopt.numeric.inputs import Inputs
from allocopt.numeric.simulate import Evaluation, Schedule
from allocopt.scenario.tables import RESOURCE_UNITS


class Told(NamedTuple):
    """A row in the scenario's words: the phrase, and the resource / intervention it is about."""

    phrase: str  # e.g. "velocity-hit cap 5% (pre-acceleration)"
    resource: str | None = None  # compute / staff, where the row is about one resource
    activity: str | None = None  # intervention id, where the row is about one intervention


# (model, inputs, index of the row as a tuple, the right-hand side that binds) -> Told
Phrase = Callable[[pyo.ConcreteModel, Inputs, tuple, float], Told]


@dataclass(frozen=True)
class Price:
    """How the shadow prices of a row component are reported (``allocopt.optimize.duals``)."""

    order: int  # position of these rows in the duals table (lower first)
    label: Callable[[tuple], tuple[str, str, str]]  # row index -> (resource, activity, unit)


@dataclass(frozen=True)
class Row:
    """One constraint component a family adds (or a variable bound it sets, e.g. ``max_effort``).

    ``rank`` and ``told`` are both set for a rule the scenario sets: ``rank`` orders the rules a
    diagnosis headline names (lower first; unique across families), ``told`` phrases one row of
    it. Both are None for model bookkeeping (stock balances, tangent cuts, ...), phrased
    "<name> (model bookkeeping)" with the intervention at index position ``activity_at``.
    ``price``: set when the rows' duals are reported. ``scale``: what ``add`` multiplied the row
    at an index by (a number or mutable Param; None: 1), so that HiGHS's dual of the row times it
    is the dual in user units and its right-hand side divided by it the bound in user units
    (:func:`row_scale`; docs/model.md, Units and scaling).
    """

    name: str
    rank: int | None = None
    told: Phrase | None = None
    activity_at: int | None = None
    price: Price | None = None
    scale: Callable[[pyo.ConcreteModel, tuple], Any] | None = None

    def __post_init__(self) -> None:
        if (self.rank is None) != (self.told is None):
            raise ValueError(
                f"row {self.name}: a rule has both a rank and a phrase, bookkeeping neither"
            )


@dataclass(frozen=True)
class Mutable:
    """A mutable Param: changed in place by ``Model.update`` instead of rebuilding the model."""

    name: str
    axes: str  # its index sets by the letters of add_sets (t, r, i, c); "" for a scalar
    value: Callable[[Inputs, Linearization], np.ndarray | float]  # array with those axes


# How a variable's columns are shared between branches at one node of a scenario tree
# (allocopt.analyses.tree): "decision" — one column per node (non-anticipativity); "determined" —
# the same function of the decisions so far in every branch whose rows agree (what equalities pin,
# what the objective pushes onto an envelope, what only loosens a row of its own period): shared
# where the rows agree; "own" — every branch keeps its own column.
Sharing = Literal["decision", "determined", "own"]
# (order key, message): violations are listed in key order, the keys of every family together
Finding = tuple[tuple[int, ...], str]
# Keys' first element: rows of one period (budget, floor, velocity), then bounds of the
# allocation, then the staff frictions linking periods; a new family appends after these.
PER_PERIOD, BOUNDS, FRICTIONS = 0, 1, 2
Check = Callable[[Inputs, Schedule, Evaluation], list[Finding]]


@dataclass(frozen=True, eq=False)
class Family:
    """A constraint family: everything the program, the diagnosis, the duals, in-place updates,
    the exact check and the extensive form need to know about it."""

    name: str
    add: Callable[[pyo.ConcreteModel, Inputs], None]  # its rows; docstring = its equations
    rows: tuple[Row, ...]  # every constraint component add declares (and bound rules)
    params: tuple[Mutable, ...]  # the mutable Params it owns (declared before any add runs)
    check: Check  # what the exact simulator finds violated, from its numbers
    columns: Mapping[str, Sharing]  # every variable add declares


def rows_by_name(families: Iterable[Family]) -> dict[str, Row]:
    """Every row component of ``families`` by its name."""
    return {row.name: row for family in families for row in family.rows}


@dataclass(frozen=True)
class Built:
    """What :func:`allocopt.model.build_model` records on a model it builds."""

    families: tuple[Family, ...]  # in the order their rows were added
    reads: frozenset[str]  # dotted Inputs attributes add_sets and the families read directly


def built_from(m: pyo.ConcreteModel) -> Built:
    """The families ``m`` was built from and what the build read."""
    return m._allocopt_built


def row_scale(m: pyo.ConcreteModel, con: pyo.ConstraintData) -> float:
    """The factor the family owning ``con`` (a row of ``m``) multiplied it by (``Row.scale``;
    1 for a row no family scales)."""
    row = rows_by_name(families_of(m)).get(con.parent_component().local_name)
    if row is None or row.scale is None:
        return 1.0
    index = con.index()
    idx = index if isinstance(index, tuple) else () if index is None else (index,)
    return float(pyo.value(row.scale(m, idx)))


def families_of(m: pyo.ConcreteModel) -> tuple[Family, ...]:
    """The families ``m`` was built from."""
    return built_from(m).families


class Recording:
    """``Inputs`` (or a dataclass inside them, e.g. ``capability``) that notes the dotted name of
    every value read through it in ``reads`` ("lead_periods", "capability.endogenous"): what a
    build reads this way is the program's structure; what it reads through mutable Params is not.
    """

    def __init__(self, target: Any, reads: set[str], prefix: str = "") -> None:
        self._target, self._reads, self._prefix = target, reads, prefix

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        path = self._prefix + name
        if is_dataclass(value) and not isinstance(value, type):
            return Recording(value, self._reads, path + ".")
        self._reads.add(path)
        return value


def read(inp: Inputs, path: str) -> Any:
    """The value of dotted attribute ``path`` of ``inp``, arrays as (comparable) lists."""
    value = reduce(getattr, path.split("."), inp)
    return value.tolist() if isinstance(value, np.ndarray) else value


def exact(inp: Inputs, schedule: Schedule, ev: Evaluation) -> list[Finding]:
    """The check of a family whose rows the simulator computes exactly (identities such as stock
    balances and response curves): a schedule cannot violate them."""
    return []


def pct(x: float) -> str:
    """A share as a percentage with three significant digits."""
    return f"{100 * x:.3g}%"


def amount(x: float, resource: str) -> str:
    """An amount of ``resource`` with its unit."""
    return f"{x:.4g} {RESOURCE_UNITS[resource]}"
