"""Baseline calibration: turn the sourced anchors of ``data/anchors.csv`` into per-period tables.

Levels grow geometrically from their anchor year; the speed-up and the hazard are interpolated
log-linearly between anchor years; channel shares move linearly from their early to their late
anchor. Values are taken at each period's midpoint. ``python -m allocopt.scenario.calibrate`` rewrites
``data/budgets.csv``, ``data/acceleration.csv`` and ``data/hazards.csv`` for a horizon.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from allocopt.scenario.periods import Periods
from allocopt.scenario.tables import CHANNELS, RESOURCE_UNITS

SOURCE = "allocopt.scenario.calibrate from data/anchors.csv ({names})"


def _loglinear(anchors: pd.DataFrame, years: np.ndarray) -> np.ndarray:
    a = anchors.sort_values("year")
    return np.exp(np.interp(years, a["year"].to_numpy(float), np.log(a["value"].to_numpy(float))))


def calibrate(anchors: pd.DataFrame, periods: Periods) -> dict[str, pd.DataFrame]:
    """Per-period budgets, speed-up and channel hazards derived from ``anchors``."""
    by_name = {name: group for name, group in anchors.groupby("name")}
    years = periods.mid_year
    labels = list(periods.labels)

    budgets = []
    for resource, unit in RESOURCE_UNITS.items():
        base = by_name[resource].iloc[0]
        growth = float(by_name[f"{resource}_growth"]["value"].iloc[0])
        values = float(base["value"]) * growth ** (years - float(base["year"]))
        src = SOURCE.format(names=f"{resource}, {resource}_growth")
        budgets += [
            (p, resource, round(v, 4), unit, src) for p, v in zip(labels, values, strict=True)
        ]

    speedup = _loglinear(by_name["speedup"], years)
    acceleration = pd.DataFrame(
        {
            "period": labels,
            "ai_rnd_speedup": np.round(speedup, 4),
            "source": SOURCE.format(names="speedup"),
        }
    )

    total = _loglinear(by_name["hazard"], years)
    hazards = []
    for channel in CHANNELS:
        early, late = (
            by_name[f"share_early_{channel}"].iloc[0],
            by_name[f"share_late_{channel}"].iloc[0],
        )
        w = np.clip((years - early["year"]) / (late["year"] - early["year"]), 0, 1)
        share = (1 - w) * early["value"] + w * late["value"]
        src = SOURCE.format(names=f"hazard, share_early_{channel}, share_late_{channel}")
        hazards += [
            (p, channel, float(f"{v:.6g}"), src) for p, v in zip(labels, total * share, strict=True)
        ]
    return {
        "budgets": pd.DataFrame(budgets, columns=["period", "resource", "value", "unit", "source"]),
        "acceleration": acceleration,
        "hazards": pd.DataFrame(
            hazards, columns=["period", "channel", "hazard_per_year", "source"]
        ),
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: write the calibrated tables for a horizon into a folder."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--anchors", type=Path, default=Path("data/anchors.csv"))
    parser.add_argument("--out", type=Path, default=Path("data"))
    parser.add_argument("--start", default="2025Q1")
    parser.add_argument("--end", default="2029Q4")
    parser.add_argument("--frequency", default="quarter", choices=["quarter", "year", "month"])
    args = parser.parse_args(argv)
    tables = calibrate(
        pd.read_csv(args.anchors), Periods.from_horizon(args.start, args.end, args.frequency)
    )
    args.out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(args.out / f"{name}.csv", index=False, lineterminator="\n")


if __name__ == "__main__":
    main()
