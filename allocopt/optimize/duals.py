"""Shadow prices: the duals of the rows the constraint families price (budget, velocity-hit,
staff and stock rows; ``Row.price``) as one tidy table.

Sign convention (for this maximization): ``value`` is the change of the optimal ``risk_reduction``
per unit *relaxation* of the row's right-hand side, holding everything else fixed — one more kH100e
in ``budget_limit``, one more unit (share) of velocity-hit cap, one more FTE of staff growth or
re-assignment allowance, one more EU*year added to a preparation stock. Binding ``<=`` rows of a
maximization have values >= 0; slack rows have 0. A MILP has no duals of its own: its integer
decisions are fixed at the optimum and the remaining LP re-solved (``source`` says which). A result
of the outer loop (endogenous capability) reports the duals of its converged linearization, local
sensitivities, only for the rows a finite-difference re-solve confirms (``source`` = ``slp_local``,
:mod:`allocopt.optimize.local_duals`; docs/explore.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from allocopt.model.family import families_of, row_scale, rows_by_name
from allocopt.results.result import DUAL_COLUMNS
from allocopt.scenario.tables import RESOURCE_UNITS

if TYPE_CHECKING:
    from allocopt.optimize.highs.runner import HighsRunner

LP = "lp"  # duals of the LP's optimal basis
FIXED_MILP = "milp_fixed_lp"  # duals of the LP left when a MILP's integer decisions are fixed
SLP_LOCAL = "slp_local"  # duals of the outer loop's converged linearization, confirmed by re-solves
VELOCITY_PRICE = "velocity_hit_price"


@dataclass(frozen=True)
class DualRows:
    """The rows whose duals are reported, in table order, with their labels (built once per model)."""

    rows: list[pyo.ConstraintData]
    labels: pd.DataFrame  # DUAL_COLUMNS without value, one line per row

    @classmethod
    def of(cls, m: pyo.ConcreteModel) -> DualRows:
        """The priced rows of the families ``m`` was built from (``Row.price``: budget,
        velocity-hit, staff-growth, staff re-assignment and stock-balance rows), in price order."""
        rows: list[pyo.ConstraintData] = []
        labels: list[tuple[str, str, str, str, str]] = []
        priced = [r for r in rows_by_name(families_of(m)).values() if r.price is not None]
        for row in sorted(priced, key=lambda r: r.price.order):
            block = m.component(row.name)
            if block is None:
                continue
            for index, con in block.items():
                idx = index if isinstance(index, tuple) else (index,)
                resource, activity, unit = row.price.label(idx)
                rows.append(con)
                labels.append((idx[0], row.name, resource, activity, unit))
        frame = pd.DataFrame(
            labels, columns=["period", "constraint", "resource", "activity", "unit"]
        )
        return cls(rows, frame)

    def table(self, run: HighsRunner, source: str = LP) -> pd.DataFrame:
        """The duals after ``run``'s last optimal LP solve, plus the velocity-hit price in budget
        terms: dual(velocity_hit_limit[t]) / dual(budget_limit[t,r]), in resource per unit cap;
        ``source`` labels how the LP came about."""
        frame = self.labels.assign(value=self.values(run))
        frame = pd.concat([frame, velocity_price(frame)], ignore_index=True)
        return frame.assign(source=source)[DUAL_COLUMNS]

    def values(self, run: HighsRunner) -> np.ndarray:
        """[len(rows)] the rows' duals after ``run``'s last optimal LP solve, in user units:
        HiGHS's dual of each row times the factor its family scaled it by (``row_scale``)."""
        m = self.rows[0].model() if self.rows else None
        factors = np.array([row_scale(m, con) for con in self.rows], dtype=float)
        return run.row_duals(self.rows) * factors + 0.0


def velocity_price(duals: pd.DataFrame) -> pd.DataFrame:
    """dual(velocity row) / dual(budget row) per period and resource: how much budget the
    velocity-hit rule is worth, per unit of cap; NaN where the budget row has no value."""
    budget = duals[duals.constraint == "budget_limit"]
    velocity = duals[duals.constraint == "velocity_hit_limit"].set_index("period")["value"]
    per_budget = budget.value.to_numpy()
    priced = np.abs(per_budget) > 1e-12
    ratio = np.divide(
        velocity.reindex(budget.period).to_numpy(),
        per_budget,
        out=np.full(len(budget), np.nan),
        where=priced,
    )
    return pd.DataFrame(
        {
            "period": budget.period.to_numpy(),
            "constraint": VELOCITY_PRICE,
            "resource": budget.resource.to_numpy(),
            "activity": "",
            "value": ratio,
            "unit": [f"{RESOURCE_UNITS[r]} per unit of velocity-hit cap" for r in budget.resource],
        }
    )
