"""Baseline calibration: turn the sourced anchors of ``data/anchors.csv`` into per-period tables.

Levels grow geometrically from their anchor year; the speed-up and the hazard are interpolated
log-linearly between anchor years; the hazard's anchors at the essay's two risk milestones are
solved from the probability of catastrophe with no safety work accumulated by then (``risk_by``,
:func:`hazard_anchors`); channel shares move linearly from their early to their late anchor.
Values are taken at each period's midpoint. ``python -m allocopt.scenario.calibrate`` rewrites
``data/budgets.csv``, ``data/acceleration.csv`` and ``data/hazards.csv`` for a horizon.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd

from allocopt.scenario.periods import Periods
from allocopt.scenario.tables import CHANNELS, RESOURCE_UNITS

SOURCE = "allocopt.scenario.calibrate from data/anchors.csv ({names})"


def _loglinear(anchors: pd.DataFrame, years: np.ndarray) -> np.ndarray:
    a = anchors.sort_values("year")
    return np.exp(np.interp(years, a["year"].to_numpy(float), np.log(a["value"].to_numpy(float))))


def cumulative_hazard(years: np.ndarray, rates: np.ndarray, until: float) -> float:
    """Integral of the hazard (per year) interpolated log-linearly between the anchor ``years``
    (ascending) with ``rates``, from the first anchor year to ``until`` (within the anchors):
    each segment adds (b − a)(h_b − h_a) / ln(h_b / h_a), or (b − a) h_a when flat."""
    total = 0.0
    for a, b, ha, hb in zip(years[:-1], years[1:], rates[:-1], rates[1:], strict=True):
        if until <= a:
            break
        end = min(b, until)
        h_end = ha * (hb / ha) ** ((end - a) / (b - a))
        ratio = math.log(h_end / ha)
        total += (end - a) * (h_end - ha) / ratio if abs(ratio) > 1e-12 else (end - a) * ha
    return total


def _rate_reaching(known: list[tuple[float, float]], year: float, target: float) -> float:
    """The hazard rate at ``year`` after the anchors ``known`` (year, rate; earlier, ascending)
    at which the probability accumulated from the first of them reaches ``target`` by ``year``
    (bisection in log space). Raises ValueError when no rate in (1e-6 x the last, 1e3) does."""
    wanted = -math.log1p(-target)
    years = np.array([y for y, _ in known] + [year])

    def reached(rate: float) -> float:
        return cumulative_hazard(years, np.array([h for _, h in known] + [rate]), year)

    low, high = known[-1][1] * 1e-6, 1e3
    if not reached(low) < wanted < reached(high):
        raise ValueError(f"risk_by {target:g} at {year:g} cannot be reached")
    for _ in range(200):
        middle = math.sqrt(low * high)
        low, high = (middle, high) if reached(middle) < wanted else (low, middle)
    return math.sqrt(low * high)


def hazard_anchors(by_name: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The hazard-rate anchors (``year``, ``value`` per year): the ``hazard`` rows as given, and at
    each ``risk_by`` year the rate at which the probability of catastrophe with no safety work
    (scaling alone), accumulated from the first ``hazard`` year, reaches the row's value
    (docs/calibration.md: both risk milestones are read as that cumulative probability); beyond
    the last anchor the rate grows by ``hazard_growth_after`` per year for one more year. Raises
    ValueError when a target cannot be reached (it must exceed what the earlier anchors give)."""
    fixed = by_name["hazard"][["year", "value"]].astype(float)
    rows = list(fixed.itertuples(index=False, name=None))
    milestones = by_name["risk_by"][["year", "value"]].astype(float).sort_values("year")
    for year, target in milestones.itertuples(index=False, name=None):
        rows.append((year, _rate_reaching(sorted(r for r in rows if r[0] < year), year, target)))
    rows.sort()
    growth = float(by_name["hazard_growth_after"]["value"].iloc[0])
    last_year, last_rate = rows[-1]
    rows.append((last_year + 1.0, last_rate * growth))
    return pd.DataFrame(rows, columns=["year", "value"])


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

    total = _loglinear(hazard_anchors(by_name), years)
    hazards = []
    for channel in CHANNELS:
        early, late = (
            by_name[f"share_early_{channel}"].iloc[0],
            by_name[f"share_late_{channel}"].iloc[0],
        )
        w = np.clip((years - early["year"]) / (late["year"] - early["year"]), 0, 1)
        share = (1 - w) * early["value"] + w * late["value"]
        src = SOURCE.format(
            names=f"hazard, risk_by, hazard_growth_after, share_early_{channel}, "
            f"share_late_{channel}"
        )
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
