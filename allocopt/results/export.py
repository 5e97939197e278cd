"""Exports of a result: tidy CSV, one Excel workbook, Parquet, and Markdown/LaTeX summary tables
(written through pandas: ``DataFrame.to_markdown`` and the Styler's ``to_latex``).

Every file is written to a temporary name and renamed into place, so an interrupted run leaves
no half-written file; the same result gives byte-identical CSV, Markdown and LaTeX.
Tables are found through :meth:`Result.tables`, so tables added to a result are exported too.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl.utils import get_column_letter

from allocopt.results.files import atomic_write
from allocopt.results.names import CAPABILITIES, SHORT_LABELS
from allocopt.results.result import Result
from allocopt.results.views import COLUMN_UNITS
from allocopt.results.wide import schedule_table, status_marker
from allocopt.scenario.tables import CATEGORIES, MODES, RESOURCE_UNITS, RESOURCES

MAX_COLUMN_WIDTH = 60
PERCENT, GROUPED = "0.0%", "#,##0.0"
GROUPED_UNITS = (*RESOURCE_UNITS.values(), "EU", "EU*year")  # resource amounts
HEADER_WIDTH = 12  # characters per line of a stacked LaTeX header
MODE_SUFFIXES = tuple(f" {SHORT_LABELS[m]}" for m in MODES)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` as UTF-8 with ``\\n`` line ends, atomically."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(text.encode("utf-8")))


def to_csv(result: Result, folder: str | Path) -> list[Path]:
    """Every table as tidy CSV (see :meth:`Result.to_csv`)."""
    return result.to_csv(folder)


def to_parquet(result: Result, folder: str | Path) -> list[Path]:
    """Every table as a Parquet file in ``folder``, columns typed as in the tables (the summary's
    numbers as float64, its text entries in the ``text`` column)."""
    folder = Path(folder)
    return [
        atomic_write(folder / f"{name}.parquet", lambda tmp, f=frame: f.to_parquet(tmp))
        for name, frame in result.tables().items()
    ]


def number_format(unit: str) -> str:
    """The Excel number format for a value in ``unit``: shares and probabilities as percentages,
    resources with thousands separators, anything else as Excel shows it ("General")."""
    if "share" in unit or unit == "probability":
        return PERCENT
    return GROUPED if unit in GROUPED_UNITS else "General"


def _format_sheet(sheet, frame: pd.DataFrame, units: dict[str, str]) -> None:
    """Number formats (per row from a ``unit`` column, else per column from ``units``), column
    widths that fit the contents (up to a limit) and a frozen header row."""
    numeric = [i for i, c in enumerate(frame.columns) if pd.api.types.is_float_dtype(frame[c])]
    row_units = frame["unit"].astype(str).tolist() if "unit" in frame.columns else None
    for i in numeric:
        column_format = number_format(units.get(frame.columns[i], ""))
        for r, cell in enumerate(sheet.iter_rows(min_row=2, min_col=i + 1, max_col=i + 1)):
            cell[0].number_format = number_format(row_units[r]) if row_units else column_format
    for index, column in enumerate(sheet.iter_cols(values_only=True), start=1):
        width = max(len(str(v)) for v in column if v is not None)
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, MAX_COLUMN_WIDTH)
    sheet.freeze_panes = "A2"


def to_excel(result: Result, path: str | Path) -> Path:
    """One workbook with a sheet per table, the summary first: number formats from the units
    (shares and probabilities as percentages), fitted columns and frozen headers; the summary
    sheet's tab is red and the workbook title says so when the result is not optimal."""
    tables = result.tables()
    ordered = {"summary": tables.pop("summary"), **tables}

    def write(tmp: Path) -> None:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, frame in ordered.items():
                frame.to_excel(writer, sheet_name=name[:31], index=False)
                _format_sheet(writer.sheets[name[:31]], frame, COLUMN_UNITS.get(name, {}))
            marker = status_marker(result)
            writer.book.properties.title = f"allocopt result: {result.scenario_name} {marker}"
            if marker:
                writer.sheets["summary"].sheet_properties.tabColor = "CC0000"

    return atomic_write(path, write)


@dataclass(frozen=True)
class SummaryTable:
    """A small table for a paper: numeric columns and how to print each."""

    name: str
    caption: str
    frame: pd.DataFrame  # the first column labels the rows
    formats: dict[str, str]  # column -> format spec, e.g. ".1f" or ".0%"

    def cells(self) -> list[list[str]]:
        """The rows as printed strings."""
        columns = list(self.frame.columns)
        return [
            [format(v, self.formats.get(c, "")) for c, v in zip(columns, row, strict=True)]
            for row in self.frame.itertuples(index=False)
        ]


def allocation_by_category_mode(result: Result, resource: str) -> SummaryTable:
    """Per period: capabilities, safety total, and safety by category × mode, in resource units."""
    wide = schedule_table(result, resource)
    frame = pd.DataFrame({"Period": wide.index})
    frame[SHORT_LABELS[CAPABILITIES]] = wide[(CAPABILITIES, CAPABILITIES)].to_numpy()
    frame["Safety"] = wide.drop(columns=(CAPABILITIES, CAPABILITIES)).sum(axis=1).to_numpy()
    for category in CATEGORIES:
        for mode in MODES:
            frame[f"{SHORT_LABELS[category]} {SHORT_LABELS[mode]}"] = wide[(category, mode)].values
    unit = RESOURCE_UNITS[resource]
    digits = ".1f" if resource == "compute" else ".0f"
    return SummaryTable(
        name=f"allocation_{resource}",
        caption=f"{resource.capitalize()} per period by category and mode ({unit})",
        frame=frame,
        formats=dict.fromkeys(frame.columns[1:], digits),
    )


def knobs_per_year(result: Result) -> SummaryTable:
    """The three knobs, averaged over each year's periods."""
    knobs = result.knobs.assign(
        Year=[pd.Period(p).year for p in result.knobs.period],
        post=result.knobs.regime == "post_acceleration",
    )
    grouped = knobs.groupby("Year", sort=True)
    frame = pd.DataFrame(
        {
            "AI R&D speed-up (x)": grouped.ai_rnd_speedup.mean(),
            "Post-acceleration periods": grouped.post.sum().astype(int),
            "Velocity hit": grouped.velocity_hit.mean(),
            "Hit cap": grouped.velocity_hit_cap.mean(),
            "Safety share of compute": grouped.safety_share_compute.mean(),
            "Safety share of staff": grouped.safety_share_staff.mean(),
            "Preparation share of safety": grouped.preparation_share.mean(),
        }
    ).reset_index()
    formats = {c: ".1%" for c in frame.columns[3:]}
    formats |= {"Year": "d", "AI R&D speed-up (x)": ".1f", "Post-acceleration periods": "d"}
    return SummaryTable(
        "knobs_per_year", "The three knobs per year (means over periods)", frame, formats
    )


def summary_tables(result: Result) -> list[SummaryTable]:
    """The tables a paper shows: allocation per resource by category and mode, knobs per year."""
    return [*(allocation_by_category_mode(result, r) for r in RESOURCES), knobs_per_year(result)]


def _caption(table: SummaryTable, result: Result) -> str:
    marker = status_marker(result)
    return f"{table.caption}, scenario {result.scenario_name}" + (f" — {marker}" if marker else "")


def to_markdown(table: SummaryTable, result: Result) -> str:
    """The caption as a paragraph, then a pipe table written by pandas (numbers right-aligned)."""
    cells = pd.DataFrame(table.cells(), columns=table.frame.columns)
    align = ("left",) + ("right",) * (len(cells.columns) - 1)
    body = cells.to_markdown(index=False, tablefmt="pipe", colalign=align, disable_numparse=True)
    return f"{_caption(table, result)}\n\n{body}\n"


LATEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "_": r"\_",
    "#": r"\#",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "$": r"\$",
}


def tex(text: str) -> str:
    """``text`` with every character LaTeX treats specially escaped."""
    return "".join(LATEX_ESCAPES.get(ch, ch) for ch in text)


def _header(columns: pd.Index) -> pd.Index:
    """Columns named "<category> <mode>" as a two-level header (category over mode), which
    halves the width of the allocation tables; other tables' columns as they are."""
    pairs = [tuple(c.rsplit(" ", 1)) if c.endswith(MODE_SUFFIXES) else ("", c) for c in columns]
    if all(top == "" for top, _ in pairs):
        return columns
    return pd.MultiIndex.from_tuples(pairs)


def _latex_header(text: str) -> str:
    """A column header escaped and, when long, stacked on lines of at most
    :data:`HEADER_WIDTH` characters (narrow columns for wide tables)."""
    lines = [tex(line) for line in textwrap.wrap(text, HEADER_WIDTH)] or [""]
    return lines[0] if len(lines) == 1 else r"\shortstack[r]{" + r" \\ ".join(lines) + "}"


def to_latex(table: SummaryTable, result: Result) -> str:
    """A booktabs ``table`` environment written by pandas' Styler, with its caption, label
    ``tab:<name>``, ``\\small`` type, and the tabular inside ``adjustbox`` (max width
    ``\\linewidth``) so it never overflows the text block; needs ``\\usepackage{booktabs,
    adjustbox}``."""
    cells = pd.DataFrame(table.cells(), columns=_header(table.frame.columns))
    styler = cells.style.hide(axis="index").format(escape="latex")
    styler = styler.format_index(_latex_header, axis=1)
    latex = styler.to_latex(
        column_format="l" + "r" * (len(cells.columns) - 1),
        position="htbp",
        position_float="centering",
        hrules=True,
        label=f"tab:{table.name}",
        caption=tex(_caption(table, result)),
        multicol_align="c",
    )
    fit = "\\small\n\\setlength{\\tabcolsep}{4pt}\n\\begin{adjustbox}{max width=\\linewidth}\n"
    latex = latex.replace("\\begin{tabular}", fit + "\\begin{tabular}")
    return latex.replace("\\end{tabular}\n", "\\end{tabular}\n\\end{adjustbox}\n")


def write_summary_tables(result: Result, folder: str | Path) -> list[Path]:
    """Each summary table as ``<name>.md`` and ``<name>.tex`` in ``folder``."""
    folder = Path(folder)
    written = []
    for table in summary_tables(result):
        written.append(atomic_write_text(folder / f"{table.name}.md", to_markdown(table, result)))
        written.append(atomic_write_text(folder / f"{table.name}.tex", to_latex(table, result)))
    return written


def export_all(result: Result, folder: str | Path) -> dict[str, list[Path]]:
    """Every export into ``folder``: ``csv/``, ``parquet/``, ``tables/`` and ``result.xlsx``."""
    folder = Path(folder)
    return {
        "csv": to_csv(result, folder / "csv"),
        "parquet": to_parquet(result, folder / "parquet"),
        "excel": [to_excel(result, folder / "result.xlsx")],
        "tables": write_summary_tables(result, folder / "tables"),
    }
