"""Distributions of uncertain scenario fields (``uncertainty:`` block) and the block itself.

Each distribution has a ``center`` (the value a deterministic solve uses) and a ``quantile``
(inverse CDF) that maps uniform draws ``u`` in [0, 1), shape [n], to values, shape [n].
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from allocopt.scenario.fields import Positive, Real, Strict, Whole

STANDARD_NORMAL = NormalDist()
MIN_MASS = 1e-9  # least probability a truncated normal may keep between low and high


def _normal_quantile(p: np.ndarray) -> np.ndarray:
    """Standard normal quantiles of probabilities ``p`` (clipped into the open interval (0, 1))."""
    return np.array([STANDARD_NORMAL.inv_cdf(x) for x in np.clip(p, 1e-300, 1 - 1e-16)])


class Normal(Strict):
    """Normal distribution of mean ``mean`` and standard deviation ``sd``, optionally truncated
    to [``low``, ``high``]."""

    distribution: Literal["normal"]
    mean: Real
    sd: Annotated[Real, Field(ge=0)]
    low: Real | None = None
    high: Real | None = None

    @property
    def bounds(self) -> tuple[float, float]:
        """Truncation interval (infinite ends where none is given)."""
        return (
            -math.inf if self.low is None else self.low,
            math.inf if self.high is None else self.high,
        )

    @model_validator(mode="after")
    def _keeps_mass(self) -> Normal:
        lo, hi = self.bounds
        if lo >= hi:
            raise ValueError(f"low ({lo:g}) must be below high ({hi:g})")
        if self.sd == 0:
            if not lo <= self.mean <= hi:
                raise ValueError(f"with sd 0 the mean {self.mean:g} must lie in [low, high]")
        elif self._cdf(hi) - self._cdf(lo) < MIN_MASS:
            raise ValueError(
                f"[low, high] = [{lo:g}, {hi:g}] keeps almost none of the distribution"
            )
        return self

    def _cdf(self, x: float) -> float:
        return STANDARD_NORMAL.cdf((x - self.mean) / self.sd) if math.isfinite(x) else float(x > 0)

    @property
    def center(self) -> float:
        """The mean, moved into [low, high]."""
        lo, hi = self.bounds
        return min(max(self.mean, lo), hi)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF of the (truncated) distribution at ``u`` in [0, 1)."""
        if self.sd == 0:
            return np.full(len(u), self.mean)
        lo, hi = self.bounds
        p = self._cdf(lo) + u * (self._cdf(hi) - self._cdf(lo))
        return np.clip(self.mean + self.sd * _normal_quantile(p), lo, hi)


class LogNormal(Strict):
    """Log-normal distribution: ``log(x)`` is normal with mean ``log(median)`` and sd ``sigma``."""

    distribution: Literal["lognormal"]
    median: Positive
    sigma: Annotated[Real, Field(ge=0, le=10)]

    @property
    def center(self) -> float:
        """The median."""
        return self.median

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF at ``u`` in [0, 1)."""
        if self.sigma == 0:
            return np.full(len(u), self.median)
        return self.median * np.exp(self.sigma * _normal_quantile(u))


class Uniform(Strict):
    """Uniform distribution on [``low``, ``high``]."""

    distribution: Literal["uniform"]
    low: Real
    high: Real

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must not exceed high ({self.high:g})")
        return self

    @property
    def center(self) -> float:
        """The midpoint."""
        return (self.low + self.high) / 2

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF at ``u`` in [0, 1)."""
        return self.low + u * (self.high - self.low)


class Triangular(Strict):
    """Triangular distribution on [``low``, ``high``] with its peak at ``mode``."""

    distribution: Literal["triangular"]
    low: Real
    mode: Real
    high: Real

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError(
                f"need low <= mode <= high, got {self.low:g}, {self.mode:g}, {self.high:g}"
            )
        return self

    @property
    def center(self) -> float:
        """The mode."""
        return self.mode

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF at ``u`` in [0, 1)."""
        a, c, b = self.low, self.mode, self.high
        if a == b:
            return np.full(len(u), a)
        left = u < (c - a) / (b - a)
        rising = a + np.sqrt(u * (b - a) * (c - a))
        falling = b - np.sqrt((1 - u) * (b - a) * (b - c))
        return np.where(left, rising, falling)


Distribution = Annotated[
    Normal | LogNormal | Uniform | Triangular, Field(discriminator="distribution")
]


class Uncertainty(Strict):
    """Uncertain scenario fields (dotted paths, as ``Scenario.with_updates`` takes them) with
    their distributions, and the number and seed of the Monte Carlo samples."""

    samples: Annotated[Whole, Field(ge=1, le=100_000)]
    seed: Annotated[Whole, Field(ge=0)]
    parameters: Annotated[dict[str, Distribution], Field(min_length=1)]
