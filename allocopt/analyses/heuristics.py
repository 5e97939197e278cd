"""The essay's three heuristics as measurable properties of solved schedules — never as rules.

Each check reads a :class:`~allocopt.results.result.Result` (H2, H3) or solves a scenario with its
velocity-hit caps moved (H1), and reports the numbers behind its verdict, so a failure says why.
Shares are velocity-weighted shares of Magma's resources (the ``shares`` table).

No check passes vacuously. Every check has a ``verdict``, one of

- ``"not applicable"`` when what it measures is (almost) absent: a regime without periods, or a
  mean share of resources to safety (H2) or to preparation (H3) below ``MIN_SAFETY_SHARE`` in a
  regime it reads — shares of (almost) nothing are ratios of rounding noise;
- ``"tie"`` when its ``margin`` is within its tolerance of zero: the measure sits on the boundary
  (e.g. the third and fourth group of H3 are equal), and no order is invented for it;
- ``"holds"`` or ``"fails"`` by the sign of ``margin`` otherwise.

``margin`` is signed: positive when the heuristic holds, and then how far the measure is from
flipping; negative when it fails, and then how far it is from holding (same unit as the measure).
``holds`` is ``verdict == "holds"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from allocopt.numeric.rules import ESSAY_PRIORITIES
from allocopt.optimize.outer import GAIN_TOLERANCE
from allocopt.optimize.pipeline import solve
from allocopt.results.result import Result
from allocopt.scenario.schema import Scenario

PRE, POST = "pre_acceleration", "post_acceleration"
HOLDS, FAILS, TIE, NOT_APPLICABLE = "holds", "fails", "tie", "not applicable"
H1_PRE_GAIN_MAX = 0.0025  # lifting the pre-switch cap buys under 0.25% more risk reduction
H1_POST_GAIN_MIN = 0.01  # holding hits to the pre-switch cap after the switch costs over 1%
H2_PREPARATION_SHARE_MIN = 0.5  # "most" safety resources prepare before the switch
# a regime whose mean velocity-weighted share of resources to safety (H2) or to preparation (H3)
# is below this has (almost) no safety spending: 0.1% of resources, a fiftieth of the 5% velocity
# hit the essay allows before the switch
MIN_SAFETY_SHARE = 0.001
# shares within this of each other are equal: a tenth of a percentage point, the precision at
# which the tables are read (degenerate optima move shares by more at the same objective)
SHARE_TOLERANCE = 0.001
# risk reductions of separately converged solves (as shares of the optimum's) within this of each
# other are equal: the outer loop stops when a step gains less than this share of its merit
VALUE_TOLERANCE = GAIN_TOLERANCE
WITHHELD_MAX_EFFORT = 1e-9  # EU: effort bound of a withheld intervention (max_effort must be > 0)


def verdict(applicable: bool, margin: float, tolerance: float) -> str:
    """One of HOLDS, FAILS, TIE, NOT_APPLICABLE for a signed ``margin`` (positive: holds)."""
    if not applicable or np.isnan(margin):
        return NOT_APPLICABLE
    if abs(margin) <= tolerance:
        return TIE
    return HOLDS if margin > 0 else FAILS


def _periods(result: Result, regime: str) -> set[str]:
    k = result.knobs
    return set(k.loc[k.regime == regime, "period"])


def _safety(result: Result, regime: str) -> pd.DataFrame:
    s = result.shares
    return s[s.period.isin(_periods(result, regime))]


def _mean_share(result: Result, regime: str, mode: str | None = None) -> float:
    """Mean over the regime's periods of the velocity-weighted share of resources to safety (to
    ``mode`` only, when given); NaN for a regime without periods."""
    n = len(_periods(result, regime))
    s = _safety(result, regime)
    if mode is not None:
        s = s[s["mode"] == mode]
    return float(s.value.sum() / n) if n else float("nan")


@dataclass(frozen=True)
class H1:
    """Velocity: slowing before the switch buys little, after it slowing pays."""

    risk_reduction_lifted: float  # both caps lifted
    risk_reduction_pre_capped: float  # pre-switch cap kept, post-switch cap lifted
    risk_reduction_post_capped: float  # post-switch hits held to the pre-switch cap
    max_pre_hit_lifted: float  # largest pre-switch hit the optimum takes with the caps lifted
    max_post_hit_lifted: float  # (NaN when the lifted optimum has no period in that regime)

    @property
    def pre_gain(self) -> float:
        """Share of the risk reduction gained by lifting the pre-switch cap."""
        return 1 - self.risk_reduction_pre_capped / self.risk_reduction_lifted

    @property
    def post_gain(self) -> float:
        """Share of the risk reduction lost by holding post-switch hits to the pre-switch cap."""
        return 1 - self.risk_reduction_post_capped / self.risk_reduction_lifted

    @property
    def pre_margin(self) -> float:
        """H1_PRE_GAIN_MAX minus the pre-switch gain (share of the risk reduction)."""
        return H1_PRE_GAIN_MAX - self.pre_gain

    @property
    def post_margin(self) -> float:
        """The post-switch cost minus H1_POST_GAIN_MIN (share of the risk reduction)."""
        return self.post_gain - H1_POST_GAIN_MIN

    @property
    def margin(self) -> float:
        """The smaller of the two margins: the condition nearest to flipping."""
        return float(np.min([self.pre_margin, self.post_margin]))  # NaN propagates

    @property
    def verdict(self) -> str:
        """Not applicable without periods in both regimes or without risk reduction to share;
        a tie within VALUE_TOLERANCE of a threshold."""
        applicable = (
            not np.isnan(self.max_pre_hit_lifted)
            and not np.isnan(self.max_post_hit_lifted)
            and self.risk_reduction_lifted > 0
        )
        return verdict(applicable, self.margin if applicable else np.nan, VALUE_TOLERANCE)

    @property
    def holds(self) -> bool:
        """True when the pre-switch cap costs almost nothing and slowing after the switch pays."""
        return self.verdict == HOLDS


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
    safety_share_pre: float  # mean share of resources to safety per pre-switch period
    safety_share_post: float

    @property
    def share_margin(self) -> float:
        """Pre-switch preparation share minus 50%."""
        return self.preparation_share_pre - H2_PREPARATION_SHARE_MIN

    @property
    def rise_margin(self) -> float:
        """Rise of mitigation's share from before the switch to after it."""
        return self.mitigation_share_post - self.mitigation_share_pre

    @property
    def margin(self) -> float:
        """The smaller of the two margins (share of safety resources)."""
        return float(np.min([self.share_margin, self.rise_margin]))  # NaN propagates

    @property
    def verdict(self) -> str:
        """Not applicable when either regime spends (almost) nothing on safety."""
        applicable = np.min([self.safety_share_pre, self.safety_share_post]) >= MIN_SAFETY_SHARE
        return verdict(applicable, self.margin, SHARE_TOLERANCE)

    @property
    def holds(self) -> bool:
        """True when preparation dominates before the switch and mitigation's share rises after."""
        return self.verdict == HOLDS


def h2(result: Result) -> H2:
    """Preparation and mitigation shares of safety resources before and after the switch (NaN
    for a regime without safety spending)."""
    pre, post = _mean_share(result, PRE), _mean_share(result, POST)
    mitigation_pre = _mean_share(result, PRE, "mitigation") / pre if pre > 0 else np.nan
    mitigation_post = _mean_share(result, POST, "mitigation") / post if post > 0 else np.nan
    return H2(
        preparation_share_pre=1 - mitigation_pre,
        mitigation_share_pre=mitigation_pre,
        mitigation_share_post=mitigation_post,
        safety_share_pre=pre,
        safety_share_post=post,
    )


def ranks(values: pd.Series, tolerance: float) -> pd.Series:
    """Competition ranks (1 = largest) in which values within ``tolerance`` of the next larger
    one share its rank (ties are ties, not broken by name); ``values`` must be sorted descending."""
    out, rank = [], 1
    for n, gap in enumerate(-np.diff(values.to_numpy(), prepend=np.inf)):
        rank = rank if gap <= tolerance else n + 1
        out.append(rank)
    return pd.Series(out, index=values.index, name="rank")


def top_three(values: pd.Series, tolerance: float) -> tuple[str, ...]:
    """Groups ranked third or better (more than three when a tie straddles third place)."""
    r = ranks(values, tolerance)
    return tuple(r.index[r <= 3])


def priority_margin(values: pd.Series) -> float:
    """Smallest P0/P1/P2 value minus the largest other value: positive when the three essay groups
    lead (the gap between third and fourth place), negative by how far they miss; NaN when a
    group is missing."""
    if not set(ESSAY_PRIORITIES) <= set(values.index):
        return float("nan")
    others = values.drop(list(ESSAY_PRIORITIES))
    return float(values[list(ESSAY_PRIORITIES)].min() - (others.max() if len(others) else 0.0))


@dataclass(frozen=True)
class H3:
    """Portfolio: preparation concentrates on awareness (P0), elicitation readiness (P1) and
    extreme security (P2) — measured by resources and, where computed, by value."""

    preparation_by_group: pd.Series  # share of pre-switch preparation resources, descending
    preparation_share_pre: float  # mean share of resources to preparation per pre-switch period
    # exact risk reduction lost when the group's preparation is withheld (max_effort
    # WITHHELD_MAX_EFFORT on each of its interventions in every period) and the rest re-optimized,
    # as a share of the optimum's risk reduction, descending; None when not computed
    value_by_group: pd.Series | None = None

    @property
    def ranks(self) -> pd.Series:
        """Rank of each group by resources (ties share a rank)."""
        return ranks(self.preparation_by_group, SHARE_TOLERANCE)

    @property
    def top_three(self) -> tuple[str, ...]:
        """Groups ranked third or better by resources (more than three on a tie for third)."""
        return top_three(self.preparation_by_group, SHARE_TOLERANCE)

    @property
    def margin(self) -> float:
        """By resources: smallest essay group's share minus the largest other group's."""
        return priority_margin(self.preparation_by_group)

    @property
    def verdict(self) -> str:
        """By resources; not applicable with (almost) no preparation before the switch."""
        applicable = self.preparation_share_pre >= MIN_SAFETY_SHARE
        return verdict(applicable, self.margin, SHARE_TOLERANCE)

    @property
    def holds(self) -> bool:
        """True when the three largest preparation groups by resources are P0, P1 and P2."""
        return self.verdict == HOLDS

    @property
    def top_three_by_value(self) -> tuple[str, ...]:
        """Groups ranked third or better by value (empty when value was not computed)."""
        return (
            () if self.value_by_group is None else top_three(self.value_by_group, VALUE_TOLERANCE)
        )

    @property
    def margin_by_value(self) -> float:
        """By value: smallest essay group's value minus the largest other group's (share of the
        optimum's risk reduction; NaN when not computed)."""
        return np.nan if self.value_by_group is None else priority_margin(self.value_by_group)

    @property
    def verdict_by_value(self) -> str:
        """The verdict by value, applicable where the verdict by resources is."""
        applicable = self.value_by_group is not None and self.verdict != NOT_APPLICABLE
        return verdict(applicable, self.margin_by_value, VALUE_TOLERANCE)


def groups(scenario: Scenario) -> dict[str, list[str]]:
    """Preparation interventions by essay priority group; one without a priority is its own."""
    out: dict[str, list[str]] = {}
    for i in scenario.interventions():
        if i.mode == "preparation":
            out.setdefault(i.essay_priority or i.id, []).append(i.id)
    return out


def withheld_value(result: Result) -> pd.Series:
    """Per preparation group: the exact risk reduction lost when its preparation is withheld
    in every period (max_effort WITHHELD_MAX_EFFORT EU) and the rest re-optimized, as a share of
    ``result``'s risk reduction; descending (one solve per group)."""
    scenario = result.scenario
    full = float(result.summary["risk_reduction_exact"])
    lost = {}
    for group, ids in groups(scenario).items():
        overrides = {k: dict(v) for k, v in scenario.intervention_overrides.items()}
        for i in ids:
            overrides.setdefault(i, {})["max_effort"] = WITHHELD_MAX_EFFORT
        without = solve(scenario.with_updates({"intervention_overrides": overrides}))
        lost[group] = (full - float(without.summary["risk_reduction_exact"])) / full
    return pd.Series(lost, name="value").sort_values(ascending=False, kind="stable")


def h3(result: Result, by_value: bool = True) -> H3:
    """Pre-switch preparation resources by essay priority group (P0, P1, P2; an intervention
    without a priority is its own group) and, with ``by_value``, each group's value
    (:func:`withheld_value`, one extra solve per group; not computed where H3 is not
    applicable)."""
    s = _safety(result, PRE)
    s = s[s["mode"] == "preparation"]
    group = s.essay_priority.where(s.essay_priority != "", s.activity)
    totals = s.value.groupby(group).sum().sort_values(ascending=False, kind="stable")
    share = _mean_share(result, PRE, "preparation")
    share = 0.0 if np.isnan(share) else share
    return H3(
        preparation_by_group=totals / totals.sum() if totals.sum() > 0 else totals,
        preparation_share_pre=share,
        value_by_group=withheld_value(result) if by_value and share >= MIN_SAFETY_SHARE else None,
    )
