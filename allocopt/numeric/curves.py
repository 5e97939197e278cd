"""The two concave/convex response curves of the model and their tangent cuts.

``benefit(u) = 1 - exp(-u)`` maps an intervention's level (in units of its saturation effort) to a
bounded, concave benefit in [0, 1). ``residual(q) = floor + (1 - floor) exp(-q)`` maps the safety
capacity acting on a channel (in e-folds) to the share of the channel's hazard that remains.
The LP uses tangent cuts of both (outer approximations); the simulator uses the exact curves.

>>> benefit([0.0, 1.0, np.inf]).round(6).tolist()  # one saturation effort gives 1 - 1/e
[0.0, 0.632121, 1.0]
>>> residual([0.0, np.inf], floor=0.3).tolist()  # no capacity leaves all, unlimited the floor
[1.0, 0.3]
>>> breakpoints(8.0, 3).tolist()
[0.0, 0.08, 8.0]
>>> np.round(benefit_cuts(2), 4).tolist()  # (intercept, slope) at u = 0 and u = 0.08
[[0.0, 1.0], [0.003, 0.9231]]
"""

from __future__ import annotations

import numpy as np

SMALL = 1e-9  # HiGHS drops matrix entries below this; cuts with smaller slopes are not built


def benefit(u: np.ndarray | float) -> np.ndarray:
    """Exact bounded concave benefit ``1 - exp(-u)`` of a level ``u`` in saturation units."""
    return -np.expm1(-np.asarray(u, dtype=float))


def residual(q: np.ndarray | float, floor: np.ndarray | float) -> np.ndarray:
    """Exact share of hazard left by safety capacity ``q`` (e-folds) above the channel's floor."""
    return floor + (1 - np.asarray(floor)) * np.exp(-np.asarray(q, dtype=float))


def breakpoints(upper: float, count: int, lowest: float = 0.01) -> np.ndarray:
    """Tangent points: zero plus ``count - 1`` points geometrically spaced from ``lowest*upper``
    to ``upper`` — dense where the curve bends most."""
    if count < 2 or upper <= 0:
        return np.zeros(1)
    return np.concatenate([[0.0], upper * np.geomspace(lowest, 1.0, count - 1)])


def benefit_cuts(count: int, upper: float = 8.0) -> list[tuple[float, float]]:
    """(intercept, slope) of the tangents of ``benefit`` in saturation units: y <= a + b u."""
    cuts = []
    for u in breakpoints(upper, count):
        slope = float(np.exp(-u))
        if slope >= SMALL:
            cuts.append((float(benefit(u)) - slope * u, slope))
    return cuts


def residual_cuts(floor: float, upper: float, count: int) -> list[tuple[float, float]]:
    """(intercept, slope) of the tangents of ``residual``: rho >= a + b q (slopes negative)."""
    cuts = []
    for q in breakpoints(upper, count):
        slope = -(1 - floor) * float(np.exp(-q))
        if -slope >= SMALL:
            cuts.append((float(residual(q, floor)) - slope * q, slope))
    return cuts
