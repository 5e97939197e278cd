"""Synthetic scale-up of a scenario: monthly periods and replicated interventions, same economics."""

from __future__ import annotations

import pandas as pd

from allocopt.scenario.schema import Scenario
from allocopt.scenario.tables import CHANNELS


def _months(quarter: str) -> list[str]:
    q = pd.Period(quarter, freq="Q")
    return [str(p) for p in pd.period_range(q.asfreq("M", "s"), q.asfreq("M", "e"), freq="M")]


def scaled(scenario: Scenario, monthly: bool = False, replicas: int = 1) -> Scenario:
    """``scenario`` on monthly periods (each month takes its quarter's values, all of which are
    rates or period averages) with every intervention copied ``replicas`` times (each copy with
    1/replicas of the effects and readiness weight, so total effect, readiness and hazard stay put)."""
    data = scenario.model_dump()
    if monthly:
        if scenario.horizon.frequency != "quarter":
            raise ValueError("monthly scaling starts from a quarterly scenario")
        h = scenario.horizon
        data["horizon"] = {
            "start": _months(h.start)[0],
            "end": _months(h.end)[-1],
            "frequency": "month",
        }
        for table in ("budgets", "acceleration", "hazards"):
            data["tables"][table] = [
                {**row, "period": month}
                for row in data["tables"][table]
                for month in _months(row["period"])
            ]
    if replicas > 1:
        rows = []
        for row in data["tables"]["interventions"]:
            for k in range(replicas):
                copy = {**row, "id": row["id"] if k == 0 else f"{row['id']}_r{k}"}
                for c in CHANNELS:
                    copy[f"effect_{c}"] = row[f"effect_{c}"] / replicas
                copy["readiness_weight"] = row["readiness_weight"] / replicas
                rows.append(copy)
        data["tables"]["interventions"] = rows
    return Scenario.model_validate(data)


TREE_STAGES = (  # reveal period, field, outcome values (4 equally likely outcomes per stage)
    ("2026Q1", "timeline.shift_years", (-0.5, 0.0, 0.5, 1.0)),
    ("2026Q3", "risk.hazard_multiplier_post_acceleration", (0.5, 1.0, 1.5, 2.0)),
    ("2027Q2", "risk.residual_floor.own_direct", (0.1, 0.2, 0.3, 0.4)),
)


def tree_scenario(base: Scenario, stages: int) -> Scenario:
    """``base`` with a tree of ``4 ** stages`` branches: the acceleration date, the hazard after
    acceleration and the difficulty of safety (the floor of Magma's direct risk), revealed in
    turn (``TREE_STAGES``)."""
    return base.with_updates(
        {
            "tree": {
                "stages": [
                    {
                        "reveal": reveal,
                        "branches": {
                            f"v{k}": {"probability": 0.25, "updates": {field: value}}
                            for k, value in enumerate(values)
                        },
                    }
                    for reveal, field, values in TREE_STAGES[:stages]
                ]
            }
        }
    )
