"""The outcome map figure: the chosen outcome over pause plausibility × lag, as coloured regions,
each cell labelled with the part that decides for or against self-destruction; and its companion,
the decomposition of that choice per lag."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from allocopt.analyses.outcome_inputs import OUTCOMES, REST, TERMS
from allocopt.analyses.outcomes import MAP_COLUMNS, TABLE_UNITS, decomposition
from allocopt.results.files import write_run
from allocopt.results.result import FLOAT_FORMAT
from allocopt.results.views import write_units

COLOURS = {"scale": "tab:blue", "pause": "tab:green", "self_destruct": "tab:red"}
LABELS = {
    "scale": "automated scaling",
    "pause": "coordinated pause",
    "self_destruct": "self-destruction",
}
PARTS = {
    "influence_window": "influence window",
    "costly_signal": "costly signal",
    "relief": "competition relief",
    "compute": "compute",
    "replacement": "replacement",
    "rest": "own hazard held, rest",
}
# what each part of self-destruction does (docs/model.md, "Outcomes after acceleration"): the note
# under the map's legend, for the parts its cells name
MEANINGS = {
    "influence_window": "Magma's influence fades as it falls behind",
    "costly_signal": "dropping out makes its advocacy more credible",
    "relief": "dropping out relieves the pressure on the leader",
    "compute": "Magma's budgets decline after it drops out",
    "replacement": "others take over part of the hazard Magma forgoes, out of its safety work's reach",
    "rest": "Magma's own hazard held at the switch, the hit cap of 1, the parts' interactions",
}
NOTE_WIDTH = 34  # characters per line of the note


def plot_outcome_map(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """The chosen outcome of each (pause plausibility, lag) point of an outcome map table, one
    colour per outcome, with a legend naming every outcome; with a ``deciding`` column, each cell
    names the part deciding for or against self-destruction (:func:`plot_decomposition`), and a
    note under the legend says what each part named there means (:data:`MEANINGS`)."""
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
    if "deciding" in table:
        deciding = table.pivot_table(
            index="lag_years", columns="pause_plausibility", values="deciding", aggfunc="first"
        ).sort_index()
        for (row, col), part in np.ndenumerate(deciding.to_numpy()):
            ax.text(col, row, PARTS[part], ha="center", va="center", fontsize="x-small")
    present = [o for o in OUTCOMES if np.isin(OUTCOMES.index(o), codes)]
    outcomes = ax.legend(
        handles=[Patch(color=COLOURS[o], label=LABELS[o]) for o in present],
        loc="upper left",
        bbox_to_anchor=(1.02, 1),
        fontsize="small",
    )
    if "deciding" in table:
        named = [p for p in PARTS if p in set(deciding.to_numpy().ravel())]
        ax.add_artist(outcomes)  # a second legend would replace the first
        ax.legend(
            handles=[
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    label=textwrap.fill(f"{PARTS[p]}: {MEANINGS[p]}", NOTE_WIDTH),
                )
                for p in named
            ],
            title=textwrap.fill(
                "cell text: the part deciding for or against self-destruction", NOTE_WIDTH
            ),
            title_fontsize="x-small",
            fontsize="x-small",
            handlelength=0,
            handletextpad=0,
            alignment="left",
            loc="lower left",
            bbox_to_anchor=(1.02, 0),
        ).set_gid("cell_note")
    return ax


def plot_decomposition(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """The decomposition of the choice for or against self-destruction per lag, at the lowest
    pause plausibility of an outcome map table: one bar per part (each term's contribution and
    the rest, program risk reduction) and the difference self-destruction less its rival as a
    marker; the bars of a lag sum to its marker."""
    ax = ax if ax is not None else plt.subplots(figsize=(8, 5))[1]
    cells = decomposition(table)
    p = cells.pause_plausibility.min()
    cells = cells[cells.pause_plausibility == p].sort_values("lag_years")
    parts = [*TERMS, REST]
    x = np.arange(len(cells))
    width = 0.8 / len(parts)
    for k, part in enumerate(parts):
        ax.bar(x + (k - (len(parts) - 1) / 2) * width, cells[part], width, label=PARTS[part])
    ax.plot(x, cells.difference, "kD", label="difference (self-destruction − rival)")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(x, [f"{v:g}" for v in cells.lag_years])
    ax.set_xlabel("Magma's lag behind the frontier at the switch (years)")
    ax.set_ylabel("contribution to the risk reduction difference (cumulative hazard)")
    ax.set_title(f"why self-destruction wins or loses (pause plausibility {p:g})")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize="small")
    return ax


def save_outcome_map(table: pd.DataFrame, folder: str | Path, scenario: str) -> list[Path]:
    """Write ``outcome_map.csv`` and ``outcome_map.png`` of ``scenario`` (its name) into
    ``folder``, and with the decomposition columns also ``outcome_decomposition.csv`` and
    ``outcome_decomposition.png``, with ``units.csv`` (the unit of each numeric column of the
    tables, as a result's: ``table, column, unit``;
    :data:`~allocopt.analyses.outcomes.TABLE_UNITS`), as a run's folder
    (:func:`~allocopt.results.files.write_run`: whole or not at all, an earlier run's files
    removed, ``manifest.json`` naming them); returns the paths."""

    def fill(staging: Path) -> None:
        figures = [("outcome_map", plot_outcome_map)]
        parts = {"outcome_map": table[[c for c in MAP_COLUMNS if c in table]]}
        if "deciding" in table:
            parts["outcome_decomposition"] = decomposition(table)
            figures.append(("outcome_decomposition", plot_decomposition))
        for name, frame in parts.items():
            frame.to_csv(
                staging / f"{name}.csv", index=False, float_format=FLOAT_FORMAT, lineterminator="\n"
            )
        write_units(staging / "units.csv", {name: TABLE_UNITS[name] for name in parts})
        for name, plot in figures:
            fig, ax = plt.subplots(figsize=(9, 5))
            plot(table, ax=ax)
            fig.tight_layout()
            fig.savefig(staging / f"{name}.png", dpi=120)
            plt.close(fig)

    return write_run(folder, scenario, fill)
