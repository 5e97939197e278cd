"""The mutable-Param coefficients, bounds and costs of a model handed to Pyomo's persistent HiGHS
interface, compiled so that only their changed values reach HiGHS between warm re-solves (the
outer loop's program moves thousands of them; Pyomo would re-evaluate every one). Reads the
interface's private Param helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.common.numeric_types import native_numeric_types

# Python template of each expression node the program's mutable coefficients are made of
TEMPLATES: dict[str, Callable[[list[str]], str]] = {
    "NPV_SumExpression": lambda a: "(" + " + ".join(a) + ")",
    "NPV_ProductExpression": lambda a: f"({a[0]} * {a[1]})",
    "NPV_DivisionExpression": lambda a: f"({a[0]} / {a[1]})",
    "NPV_NegationExpression": lambda a: f"(-{a[0]})",
    "NPV_PowExpression": lambda a: f"({a[0]} ** {a[1]})",
    "NPV_MaxExpression": lambda a: f"np.maximum.reduce([{', '.join(a)}])",  # a variable's bounds
    "NPV_MinExpression": lambda a: f"np.minimum.reduce([{', '.join(a)}])",
}


@dataclass
class _Form:
    """Entries (helper, attribute) whose expressions share one template, and their data."""

    function: Callable[[np.ndarray, np.ndarray], np.ndarray]
    entries: list[tuple[Any, str]]
    slots: np.ndarray  # [slots, entries] number of the Param each P[k] reads
    consts: np.ndarray  # [constants, entries]
    last: np.ndarray  # [entries] values HiGHS holds

    def evaluate(self, values: np.ndarray) -> np.ndarray:
        """The entries' values for the Param values ``values``."""
        out = self.function(values[self.slots], self.consts)
        return np.broadcast_to(out, (len(self.entries),))


class Coefficients:
    """Every mutable coefficient, bound and cost that Pyomo's persistent HiGHS interface
    ``solver`` tracks, compiled by form; the interface's helpers hold their current values as
    numbers from here on (so ``update_parameters`` must stay off)."""

    def __init__(self, solver: Any) -> None:
        fields = [
            (h, name)
            for row in solver._mutable_helpers.values()
            for h in row
            for name in (("expr",) if hasattr(h, "expr") else ("lower_expr", "upper_expr"))
        ]
        fields += [
            (h, name)
            for _, h in solver._mutable_bounds.values()
            for name in ("lower_expr", "upper_expr")
        ]
        objective = solver._mutable_objective
        fields += [(h, "expr") for h in (*objective.linear_coefs, objective.constant)]
        numbers: dict[int, int] = {}
        self.params: list[Any] = []
        by_form: dict[str, list[tuple[Any, str, list[int], list[float]]]] = {}
        for helper, name in fields:
            slots: list[int] = []
            consts: list[float] = []
            source = self._template(getattr(helper, name), numbers, slots, consts)
            if slots:  # else a constant, such as an absent bound
                by_form.setdefault(source, []).append((helper, name, slots, consts))
        values = self._values()
        self.forms = []
        for source, rows in by_form.items():
            form = _Form(
                eval(f"lambda P, K: {source}", {"np": np}),  # source built from TEMPLATES only
                [(h, name) for h, name, _, _ in rows],
                np.array([r[2] for r in rows], dtype=int).T,
                np.array([r[3] for r in rows], dtype=float).reshape(len(rows), -1).T,
                np.empty(0),
            )
            form.last = form.evaluate(values).copy()
            for (helper, name), value in zip(form.entries, form.last.tolist(), strict=True):
                setattr(helper, name, value)
            self.forms.append(form)

    def _template(
        self, expr: Any, numbers: dict[int, int], slots: list[int], consts: list[float]
    ) -> str:
        """``expr`` as Python source over ``P[k]`` (its k-th mutable Param: that Param's number
        in ``numbers`` is appended to ``slots``) and ``K[k]`` (its k-th constant, appended to
        ``consts``). Raises TypeError on a node outside :data:`TEMPLATES`."""
        if type(expr) in native_numeric_types or not expr.is_expression_type():
            if type(expr) not in native_numeric_types and expr.is_parameter_type():
                if id(expr) not in numbers:
                    numbers[id(expr)] = len(self.params)
                    self.params.append(expr)
                slots.append(numbers[id(expr)])
                return f"P[{len(slots) - 1}]"
            consts.append(float(pyo.value(expr)))
            return f"K[{len(consts) - 1}]"
        kind = type(expr).__name__
        if kind not in TEMPLATES:
            raise TypeError(f"no template for a mutable coefficient made of {kind}")
        return TEMPLATES[kind]([self._template(a, numbers, slots, consts) for a in expr.args])

    def _values(self) -> np.ndarray:
        return np.fromiter((p.value for p in self.params), dtype=float, count=len(self.params))

    def push(self) -> int:
        """Hand HiGHS every entry whose value changed since the last push; return how many
        helpers were updated."""
        values = self._values()
        touched: dict[int, Any] = {}
        for form in self.forms:
            new = form.evaluate(values)
            for j in np.flatnonzero(new != form.last).tolist():
                helper, name = form.entries[j]
                setattr(helper, name, float(new[j]))
                touched[id(helper)] = helper
            form.last = new.copy()
        for helper in touched.values():
            helper.update()
        return len(touched)
