"""Planning periods: labels, start dates and lengths derived from a scenario's horizon."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

FREQUENCIES = {"quarter": "Q", "year": "Y", "month": "M"}
PER_YEAR = {"quarter": 4, "year": 1, "month": 12}
WHOLE_TOLERANCE = 1e-3  # of a period: 0.0833 years is one month
LABEL_EXAMPLES = {"quarter": "2029Q4", "year": "2029", "month": "2029-12"}


def _period(label: str, field: str, frequency: str) -> pd.Period:
    """``label`` as a period of ``frequency``; raises ValueError naming ``field`` and the form
    of a label (:data:`LABEL_EXAMPLES`)."""
    try:
        return pd.Period(label, freq=FREQUENCIES[frequency])
    except ValueError:
        raise ValueError(
            f"{field}: {label!r} is not a {frequency} label (like {LABEL_EXAMPLES[frequency]})"
        ) from None


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
        first, last = (
            _period(label, name, frequency) for label, name in ((start, "start"), (end, "end"))
        )
        index = pd.period_range(first, last, freq=freq)
        if len(index) == 0:
            raise ValueError(f"end {end} is before start {start}")
        per_year = PER_YEAR[frequency]
        starts = np.array([p.year + (p.start_time.month - 1) / 12 for p in index], dtype=float)
        return cls(tuple(str(p) for p in index), starts, 1.0 / per_year)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def mid_year(self) -> np.ndarray:
        """Decimal year at the middle of each period."""
        return self.start_year + self.length_years / 2

    def whole(self, years: float) -> int:
        """``years`` as a whole number of periods (within :data:`WHOLE_TOLERANCE` of one).

        The one rule for durations the model counts in periods (lead times, pause lengths):
        they are exact or refused, never rounded. Raises ValueError naming the allowed values
        and the nearest ones.

        >>> Periods.from_horizon("2025", "2027", "year").whole(0.5)
        Traceback (most recent call last):
        ...
        ValueError: 0.5 years is not a whole number of periods: 0, 1, 2 ... on yearly periods \
(nearest: 0 or 1)
        """
        count = years / self.length_years
        nearest = round(count)
        if abs(count - nearest) <= WHOLE_TOLERANCE:
            return nearest
        per_year = round(1 / self.length_years)
        name = {1: "yearly", 4: "quarterly", 12: "monthly"}.get(per_year, f"{per_year}-a-year")

        def show(k: int) -> str:
            return f"{k * self.length_years:g}" if per_year < 12 or not k else f"{k}/{per_year}"

        below = int(np.floor(count))
        allowed = ", ".join(show(k) for k in range(4 if per_year > 1 else 3))
        raise ValueError(
            f"{years:g} years is not a whole number of periods: {allowed} ... on {name} "
            f"periods (nearest: {show(max(below, 0))} or {show(below + 1)})"
        )


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
