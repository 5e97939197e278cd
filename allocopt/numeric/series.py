"""Reference series read between period midpoints: the one interpolation rule of allocopt.

Series are interpolated log-linearly between period midpoints (linearly where a series touches
zero) and extrapolated with the end segments' slopes; used to read a trajectory at a delayed
(``allocopt.numeric.trajectory``) or shifted (``timeline.shift_years``) time.

>>> xs = np.array([0.0, 1.0])
>>> value, slope = read(xs, np.array([1.0, 4.0]), np.array([0.5, 2.0]))
>>> value.round(12).tolist()  # log-linear: the geometric mean halfway, extrapolated beyond
[2.0, 16.0]
>>> value, slope = read(xs, np.array([0.0, 4.0]), np.array([0.5, 2.0]))
>>> value.tolist(), slope.tolist()  # a series touching zero is read linearly
([2.0, 8.0], [4.0, 4.0])
"""

from __future__ import annotations

import numpy as np


def read(xs: np.ndarray, ys: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value and slope at ``x`` of the piecewise (log-)linear interpolant of ``ys`` over ``xs``."""
    x = np.asarray(x, dtype=float)
    if len(xs) == 1:
        return np.full_like(x, ys[0]), np.zeros_like(x)
    log = bool((ys > 0).all())
    fy = np.log(ys) if log else ys
    seg = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(xs) - 2)
    slope = (fy[seg + 1] - fy[seg]) / (xs[seg + 1] - xs[seg])
    value = fy[seg] + slope * (x - xs[seg])
    if log:
        value = np.exp(value)
        return value, value * slope
    return value, slope
