"""The outcome map figure: the chosen outcome over pause plausibility × lag, as coloured regions."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from allocopt.analyses.outcomes import OUTCOMES
from allocopt.results.files import write_run
from allocopt.results.result import FLOAT_FORMAT

COLOURS = {"scale": "tab:blue", "pause": "tab:green", "self_destruct": "tab:red"}
LABELS = {
    "scale": "automated scaling",
    "pause": "coordinated pause",
    "self_destruct": "self-destruction",
}


def plot_outcome_map(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """The chosen outcome of each (pause plausibility, lag) point of an outcome map table, one
    colour per outcome, with a legend naming every outcome."""
    ax = ax if ax is not None else plt.subplots(figsize=(7, 5))[1]
    grid = table.pivot_table(
        index="lag_years", columns="pause_plausibility", values="chosen", aggfunc="first"
    ).sort_index()
    codes = grid.apply(lambda col: col.map(OUTCOMES.index)).to_numpy(dtype=float)
    ax.imshow(
        codes,
        origin="lower",
        aspect="auto",
        cmap=ListedColormap([COLOURS[o] for o in OUTCOMES]),
        vmin=-0.5,
        vmax=len(OUTCOMES) - 0.5,
    )
    ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index])
    ax.set_xlabel("plausibility of a coordinated pause (probability it succeeds)")
    ax.set_ylabel("Magma's lag behind the frontier at the switch (years)")
    ax.set_title("outcome after meaningful acceleration")
    present = [o for o in OUTCOMES if np.isin(OUTCOMES.index(o), codes)]
    ax.legend(
        handles=[Patch(color=COLOURS[o], label=LABELS[o]) for o in present],
        loc="upper left",
        bbox_to_anchor=(1.02, 1),
        fontsize="small",
    )
    return ax


def save_outcome_map(table: pd.DataFrame, folder: str | Path, scenario: str) -> list[Path]:
    """Write ``outcome_map.csv`` and ``outcome_map.png`` of ``scenario`` (its name) into
    ``folder``, as a run's folder (:func:`~allocopt.results.files.write_run`: whole or not at
    all, an earlier run's files removed, ``manifest.json`` naming them); returns the paths."""

    def fill(staging: Path) -> None:
        table.to_csv(
            staging / "outcome_map.csv", index=False, float_format=FLOAT_FORMAT, lineterminator="\n"
        )
        fig, ax = plt.subplots(figsize=(8, 5))
        plot_outcome_map(table, ax=ax)
        fig.tight_layout()
        fig.savefig(staging / "outcome_map.png", dpi=120)
        plt.close(fig)

    return write_run(folder, scenario, fill)
