"""Views of a result that figures and exports share: the schedule of one resource as a wide
table, and the marker every title of a result that is not an optimum carries."""

from __future__ import annotations

import pandas as pd

from allocopt.results.result import CAPABILITIES, Result
from allocopt.results.status import Status
from allocopt.scenario.tables import CATEGORIES, MODES


def status_marker(result: Result) -> str:
    """``""`` for an optimum, proven or local (``locally_optimal``), else a marker such as
    ``"NOT OPTIMAL (time_limit)"`` for titles."""
    return "" if Status(result.status).is_local_optimum else f"NOT OPTIMAL ({result.status})"


def schedule_table(result: Result, resource: str) -> pd.DataFrame:
    """Resource per period (rows) and category×mode (columns), capabilities last."""
    alloc = result.allocation[result.allocation.resource == resource]
    wide = alloc.pivot_table(
        index="period", columns=["category", "mode"], values="value", aggfunc="sum", sort=False
    )
    columns = [(c, m) for c in CATEGORIES for m in MODES] + [(CAPABILITIES, CAPABILITIES)]
    wide = wide.reindex(columns=pd.MultiIndex.from_tuples(columns), fill_value=0.0).fillna(0.0)
    return wide.reindex(list(result.knobs.period))
