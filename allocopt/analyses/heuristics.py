"""The essay's three heuristics as measurable properties of solved schedules — never as rules.

Each check reads a :class:`~allocopt.results.result.Result` (H2, H3) or solves a scenario with its
velocity-hit caps moved (H1), and reports the numbers behind its verdict, so a failure says why.
Shares are velocity-weighted shares of Magma's resources (the ``shares`` table).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from allocopt.optimize.pipeline import solve
from allocopt.results.result import Result
from allocopt.scenario.schema import Scenario

PRE, POST = "pre_acceleration", "post_acceleration"
H1_PRE_GAIN_MAX = 0.0025  # lifting the pre-switch cap buys under 0.25% more risk reduction
H1_POST_GAIN_MIN = 0.01  # holding hits to the pre-switch cap after the switch costs over 1%


def _periods(result: Result, regime: str) -> set[str]:
    k = result.knobs
    return set(k.loc[k.regime == regime, "period"])


def _safety(result: Result, regime: str) -> pd.DataFrame:
    s = result.shares
    return s[s.period.isin(_periods(result, regime))]


@dataclass(frozen=True)
class H1:
    """Velocity: slowing before the switch buys little, after it slowing pays."""

    risk_reduction_lifted: float  # both caps lifted
    risk_reduction_pre_capped: float  # pre-switch cap kept, post-switch cap lifted
    risk_reduction_post_capped: float  # post-switch hits held to the pre-switch cap
    max_pre_hit_lifted: float  # largest pre-switch hit the optimum takes with the caps lifted
    max_post_hit_lifted: float

    @property
    def pre_gain(self) -> float:
        """Share of the risk reduction gained by lifting the pre-switch cap."""
        return 1 - self.risk_reduction_pre_capped / self.risk_reduction_lifted

    @property
    def post_gain(self) -> float:
        """Share of the risk reduction lost by holding post-switch hits to the pre-switch cap."""
        return 1 - self.risk_reduction_post_capped / self.risk_reduction_lifted

    @property
    def holds(self) -> bool:
        """True when the pre-switch cap costs almost nothing and slowing after the switch pays."""
        return self.pre_gain < H1_PRE_GAIN_MAX and self.post_gain > H1_POST_GAIN_MIN


def h1(scenario: Scenario) -> H1:
    """Solve ``scenario`` with its caps lifted, with only the pre-switch cap, and with the
    pre-switch cap applied after the switch too."""
    cap = scenario.velocity.hit_cap_pre_acceleration
    lifted = solve(
        scenario.with_updates(
            {"velocity.hit_cap_pre_acceleration": 1.0, "velocity.hit_cap_post_acceleration": 1.0}
        )
    )
    pre = solve(scenario.with_updates({"velocity.hit_cap_post_acceleration": 1.0}))
    post = solve(scenario.with_updates({"velocity.hit_cap_post_acceleration": cap}))
    k = lifted.knobs
    return H1(
        risk_reduction_lifted=float(lifted.summary["risk_reduction_exact"]),
        risk_reduction_pre_capped=float(pre.summary["risk_reduction_exact"]),
        risk_reduction_post_capped=float(post.summary["risk_reduction_exact"]),
        max_pre_hit_lifted=float(k.loc[k.regime == PRE, "velocity_hit"].max()),
        max_post_hit_lifted=float(k.loc[k.regime == POST, "velocity_hit"].max()),
    )


@dataclass(frozen=True)
class H2:
    """Preparation: most safety resources prepare before the switch; mitigation rises after."""

    preparation_share_pre: float  # of safety resources summed over pre-switch periods
    mitigation_share_pre: float
    mitigation_share_post: float

    @property
    def holds(self) -> bool:
        """True when preparation dominates before the switch and mitigation's share rises after."""
        return (
            self.preparation_share_pre > 0.5
            and self.mitigation_share_post > self.mitigation_share_pre
        )


def h2(result: Result) -> H2:
    """Preparation and mitigation shares of safety resources before and after the switch."""

    def mitigation(regime: str) -> float:
        s = _safety(result, regime)
        total = s.value.sum()
        return float(s.loc[s["mode"] == "mitigation", "value"].sum() / total) if total > 0 else 0.0

    pre = mitigation(PRE)
    return H2(
        preparation_share_pre=1 - pre,
        mitigation_share_pre=pre,
        mitigation_share_post=mitigation(POST),
    )


@dataclass(frozen=True)
class H3:
    """Portfolio: preparation concentrates on awareness (P0), elicitation readiness (P1) and
    extreme security (P2)."""

    preparation_by_group: pd.Series  # pre-switch preparation resources by essay group, descending

    @property
    def top_three(self) -> tuple[str, ...]:
        """The three largest groups."""
        return tuple(self.preparation_by_group.index[:3])

    @property
    def holds(self) -> bool:
        """True when the three largest preparation groups are P0, P1 and P2."""
        return set(self.top_three) == {"P0", "P1", "P2"}


def h3(result: Result) -> H3:
    """Pre-switch preparation resources by essay priority group (P0, P1, P2); an intervention
    without a priority is its own group."""
    s = _safety(result, PRE)
    s = s[s["mode"] == "preparation"]
    group = s.essay_priority.where(s.essay_priority != "", s.activity)
    totals = s.value.groupby(group).sum().sort_values(ascending=False, kind="stable")
    return H3(preparation_by_group=totals / totals.sum() if totals.sum() > 0 else totals)
