"""Figures, one module per family: the schedule and its knobs (:mod:`.schedule`), exploration
(:mod:`.explore`), outcomes (:mod:`.outcomes`), trees (:mod:`.tree`) and uncertainty
(:mod:`.uncertainty`); :mod:`.save` writes any of them to a file. Every figure function takes a
result and draws into ``ax=`` or ``fig=``.
"""

from __future__ import annotations

from allocopt.plot.explore import plot_duals, plot_heatmap, plot_tornado
from allocopt.plot.outcomes import plot_outcome_map
from allocopt.plot.save import save_figure
from allocopt.plot.schedule import (
    PALETTE,
    period_edges,
    plot_knobs,
    plot_portfolio,
    plot_preparation,
    plot_risk,
    plot_schedule,
    plot_schedules,
    plot_velocity,
)
from allocopt.plot.tree import plot_tree, plot_tree_values
from allocopt.plot.uncertainty import plot_fan

__all__ = [
    "PALETTE",
    "period_edges",
    "plot_duals",
    "plot_fan",
    "plot_heatmap",
    "plot_knobs",
    "plot_outcome_map",
    "plot_portfolio",
    "plot_preparation",
    "plot_risk",
    "plot_schedule",
    "plot_schedules",
    "plot_tornado",
    "plot_tree",
    "plot_tree_values",
    "plot_velocity",
    "save_figure",
]
