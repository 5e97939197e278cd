"""Planning periods: labels, start dates and lengths derived from a scenario's horizon."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

FREQUENCIES = {"quarter": "Q", "year": "Y", "month": "M"}


@dataclass(frozen=True)
class Periods:
    """The ordered planning periods of one scenario.

    >>> p = Periods.from_horizon("2025Q1", "2025Q4", "quarter")
    >>> p.labels, p.length_years
    (('2025Q1', '2025Q2', '2025Q3', '2025Q4'), 0.25)
    >>> p.start_year.tolist(), p.mid_year.tolist()
    ([2025.0, 2025.25, 2025.5, 2025.75], [2025.125, 2025.375, 2025.625, 2025.875])
    >>> Periods.from_horizon("2025-11", "2026-02", "month").labels
    ('2025-11', '2025-12', '2026-01', '2026-02')
    """

    labels: tuple[str, ...]
    start_year: np.ndarray  # decimal year at which each period starts
    length_years: float

    @classmethod
    def from_horizon(cls, start: str, end: str, frequency: str) -> Periods:
        """Build the periods from ``start`` to ``end`` inclusive (labels like 2025Q1, 2025, 2025-01)."""
        freq = FREQUENCIES[frequency]
        index = pd.period_range(pd.Period(start, freq=freq), pd.Period(end, freq=freq), freq=freq)
        if len(index) == 0:
            raise ValueError(f"horizon end {end} is before its start {start}")
        per_year = {"Q": 4, "Y": 1, "M": 12}[freq]
        starts = np.array([p.year + (p.start_time.month - 1) / 12 for p in index], dtype=float)
        return cls(tuple(str(p) for p in index), starts, 1.0 / per_year)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def mid_year(self) -> np.ndarray:
        """Decimal year at the middle of each period."""
        return self.start_year + self.length_years / 2


def is_period_label(label: str, frequency: str) -> bool:
    """Whether ``label`` is written exactly as a period of ``frequency`` is (``2025Q1``, ``2025``,
    ``2025-01``).

    >>> is_period_label("2025Q1", "quarter"), is_period_label("2025Q9", "quarter")
    (True, False)
    """
    try:
        return str(pd.Period(label, freq=FREQUENCIES[frequency])) == label
    except (ValueError, TypeError, OverflowError):
        return False
