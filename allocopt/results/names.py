"""Human-readable names and the one colour per category shared by every figure and table.

>>> RESOURCE_LABELS["compute"], RESOURCE_LABELS["staff"]
('Compute (kH100e)', 'Staff (FTE)')
>>> CATEGORY_LABELS["ai_defense"], PALETTE["ai_defense"]
('AI defense', '#EE6677')
"""

from __future__ import annotations

from allocopt.results.result import CAPABILITIES
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
