"""Human-readable names and the one colour per category shared by every figure and table, and the
one vocabulary of the headline numbers (:data:`HEADLINE`).

>>> RESOURCE_LABELS["compute"], RESOURCE_LABELS["staff"]
('Compute (kH100e)', 'Staff (FTE)')
>>> CATEGORY_LABELS["ai_defense"], PALETTE["ai_defense"]
('AI defense', '#EE6677')
"""

from __future__ import annotations

from allocopt.model.sets import CAPABILITIES
from allocopt.scenario.tables import RESOURCE_UNITS

CATEGORY_LABELS: dict[str, str] = {
    CAPABILITIES: "Capabilities",
    "nonproliferation": "Nonproliferation",
    "safety_distribution": "Safety distribution",
    "governance_communication": "Governance & communication",
    "ai_defense": "AI defense",
}
SHORT_LABELS: dict[str, str] = {
    CAPABILITIES: "Capabilities",
    "nonproliferation": "Nonprolif.",
    "safety_distribution": "Safety distr.",
    "governance_communication": "Gov. & comm.",
    "ai_defense": "AI defense",
    "preparation": "prep.",
    "mitigation": "mitig.",
}
RESOURCE_LABELS: dict[str, str] = {
    "compute": f"Compute ({RESOURCE_UNITS['compute']})",
    "staff": f"Staff ({RESOURCE_UNITS['staff']})",
}

# Paul Tol's colour-blind-safe "bright" scheme: one colour per category in every figure.
PALETTE: dict[str, str] = {
    CAPABILITIES: "#BBBBBB",
    "nonproliferation": "#4477AA",
    "safety_distribution": "#228833",
    "governance_communication": "#CCBB44",
    "ai_defense": "#EE6677",
    "preparation": "#AA3377",
    "mitigation": "#66CCEE",
}

# The headline numbers, one name each, with the label and the unit (in words) that the summary,
# `allocopt compare`, the report, the figures and the exports all use. "Within the horizon" counts
# catastrophes before the horizon ends; "including the risk past the horizon" also counts the risk
# past it: the own risk the plan's slowing pushes past the horizon (postponed risk) and, with
# `capability.tail_years`, the tail of hazard after it (postponed_risk, docs/model.md). The
# reductions are against the probability without safety work and include that risk on both sides.
HAZARD_UNIT = "cumulative hazard (minus the log of the survival probability)"
HEADLINE: dict[str, tuple[str, str]] = {
    "probability_without_plan": (
        "Probability of catastrophe within the horizon, without safety work",
        "probability",
    ),
    "probability_without_plan_and_postponed": (
        "Probability of catastrophe without safety work, including the risk past the horizon",
        "probability",
    ),
    "probability_with_plan": (
        "Probability of catastrophe within the horizon, with the plan",
        "probability",
    ),
    "probability_with_plan_and_postponed": (
        "Probability of catastrophe with the plan, including the risk past the horizon",
        "probability",
    ),
    "probability_reduction_points": (
        "Reduction of the probability of catastrophe, including the risk past the horizon",
        "percentage points",
    ),
    "probability_reduction_relative": (
        "Relative reduction of the probability of catastrophe, including the risk past the horizon",
        "share of the probability without safety work",
    ),
    "risk_reduction_exact": (
        "Cut in cumulative hazard, including the risk past the horizon (exact)",
        HAZARD_UNIT,
    ),
    "risk_reduction_model": (
        "Cut in cumulative hazard, including the risk past the horizon (program)",
        HAZARD_UNIT,
    ),
}


# the four probabilities of catastrophe in pairs on one basis: within the horizon, then including
# the risk past it (without safety work, with the plan); a table that shows one shows all four
PROBABILITIES = (
    "probability_without_plan",
    "probability_with_plan",
    "probability_without_plan_and_postponed",
    "probability_with_plan_and_postponed",
)


def label(name: str) -> str:
    """The label of the headline number ``name`` (:data:`HEADLINE`). Raises KeyError."""
    return HEADLINE[name][0]


def unit(name: str) -> str:
    """The unit in words of the headline number ``name`` (:data:`HEADLINE`). Raises KeyError."""
    return HEADLINE[name][1]
