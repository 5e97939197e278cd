"""The report of one result: figures, every export, the saved result, and one self-contained
HTML page (figures embedded as base64 PNG) with the assumptions, the knobs, the schedule and
the risk.

Layout of the output folder::

    index.html  figures/<name>.png|.pdf  csv/  parquet/  result.xlsx  tables/*.md|.tex  result/
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from allocopt.plot.schedule import FIGURES as RESULT_FIGURES
from allocopt.plot.schedule import (
    period_length_years,
    regime_switch,
    risk_table,
    save_figure,
    status_marker,
)
from allocopt.plot.slowing import plot_value_of_slowing
from allocopt.results.export import SummaryTable, atomic_write_text, export_all, summary_tables
from allocopt.results.result import Result
from allocopt.results.store import save_result
from allocopt.scenario.schema import Scenario
from allocopt.scenario.tables import RESOURCE_UNITS, RESOURCES

FIGURE_FORMATS = (".png", ".pdf")
FIGURES = {**RESULT_FIGURES, "slowing": plot_value_of_slowing}
FIGURE_CAPTIONS = {
    "schedule": "Compute (left) and staff (right) per quarter: all activities (top) and safety "
    "work alone (bottom), by category; solid = preparation, hatched = current mitigation.",
    "velocity": "Velocity hit (capability progress given up) against its cap.",
    "preparation": "Preparation vs current mitigation as a share of safety resources "
    "(the essay's Figure 6).",
    "portfolio": "Safety portfolio: share of safety resources per category.",
    "risk": "Hazard per period and cumulative probability of catastrophe, with and without "
    "the plan.",
    "knobs": "The three knobs on one page (paper-column width).",
    "slowing": "What one more percentage point of velocity hit in a quarter buys (above zero) "
    "and costs (below zero), term by term, with the exact total (dots).",
}
STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
td,th{padding:.15rem .6rem;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left}
figure{margin:1rem 0}img{max-width:100%}figcaption{font-size:.85rem;color:#555}
.warning{background:#fdd;border:1px solid #c00;padding:.5rem 1rem;font-weight:bold}
"""


def _flatten(data: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, str]]:
    for key, value in data.items():
        if isinstance(value, dict) and value:
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", str(value)


def assumptions(scenario: Scenario) -> list[tuple[str, str]]:
    """The scenario's description and settings as (dotted field, value) rows; tables and file
    paths left out."""
    config = scenario.model_dump(exclude={"tables", "data", "name"}, mode="json")
    return list(_flatten(config))


def headline(result: Result) -> list[tuple[str, str]]:
    """The numbers a reader looks for first, from the result alone."""
    s = result.summary
    risk = risk_table(result)
    budget = result.allocation[result.allocation.resource.isin(RESOURCES)]
    totals = budget.groupby(["resource", "period"], sort=False).value.sum()
    rows = [
        ("Status", str(result.status)),
        ("Periods", str(s.get("periods", ""))),
        ("Regime switch (acceleration)", regime_switch(result) or "none"),
        ("P(catastrophe) without safety work", f"{risk.probability_without_plan.iloc[-1]:.1%}"),
        ("P(catastrophe) with the plan", f"{risk.probability_with_plan.iloc[-1]:.1%}"),
    ]
    if "probability_with_plan_and_postponed" in s:
        rows.append(
            (
                "… counting own risk postponed past the horizon",
                f"{float(s['probability_with_plan_and_postponed']):.1%}",
            )
        )
    for resource in RESOURCES:
        first, last = totals[resource].iloc[0], totals[resource].iloc[-1]
        unit = RESOURCE_UNITS[resource]
        rows.append(
            (
                f"{resource.capitalize()} allocated (first → last period)",
                f"{first:,.0f} → {last:,.0f} {unit}",
            )
        )
    speedup = result.knobs.ai_rnd_speedup
    rows.append(
        (
            "AI R&D speed-up (first → last period)",
            f"{speedup.iloc[0]:.1f}x → {speedup.iloc[-1]:.1f}x",
        )
    )
    shown = {"scenario", "periods", "regime_switch_period"}
    rows += [
        (k, f"{v:.6g}" if isinstance(v, float) else str(v)) for k, v in s.items() if k not in shown
    ]
    return rows


def risk_by_channel(result: Result) -> list[tuple[str, str, str, str]]:
    """Cumulative hazard over the horizon per risk channel, without and with the plan."""
    dt = period_length_years(str(result.knobs.period.iloc[0]))
    columns = ["hazard_without_plan", "hazard_with_plan"]
    sums = result.risk.groupby("channel", sort=False)[columns].sum() * dt
    return [
        (
            str(channel),
            f"{without:.4g}",
            f"{with_plan:.4g}",
            f"{1 - with_plan / without:.0%}" if without > 0 else "–",
        )
        for channel, without, with_plan in sums.itertuples()
    ]


def _html_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _summary_html(table: SummaryTable) -> str:
    return f"<h3>{html.escape(table.caption)}</h3>" + _html_table(
        table.frame.columns, table.cells()
    )


def _figure_html(name: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    caption = html.escape(FIGURE_CAPTIONS[name])
    return (
        f'<figure id="figure-{name}"><img alt="{name}" src="data:image/png;base64,{data}">'
        f'<figcaption>{caption} <a href="figures/{name}.png">PNG</a> '
        f'<a href="figures/{name}.pdf">PDF</a></figcaption></figure>'
    )


def render_html(result: Result, pngs: dict[str, bytes]) -> str:
    """The report page: one string, figures embedded, nothing fetched from elsewhere."""
    tables = {t.name: t for t in summary_tables(result)}
    marker = status_marker(result)
    title = f"allocopt report: {result.scenario_name}"
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if marker:
        parts.append(
            f'<p class="warning">{html.escape(marker)}: the solver did not prove an optimum; '
            "numbers below are the best solution found.</p>"
        )
    parts += ["<h2>Headline</h2>", _html_table(("quantity", "value"), headline(result))]
    parts.append("<h2>Key assumptions</h2>")
    parts.append(_html_table(("setting", "value"), assumptions(result.scenario)))
    parts.append("<h2>The three knobs</h2>")
    parts += [_figure_html(n, pngs[n]) for n in ("velocity", "preparation", "portfolio")]
    parts.append(_summary_html(tables["knobs_per_year"]))
    parts += ["<h2>Schedule</h2>", _figure_html("schedule", pngs["schedule"])]
    for resource in RESOURCES:
        table = tables[f"allocation_{resource}"]
        parts.append(
            f"<details><summary>{html.escape(table.caption)}</summary>"
            f"{_summary_html(table)}</details>"
        )
    parts += ["<h2>Risk</h2>", _figure_html("risk", pngs["risk"])]
    header = ("channel", "without safety work", "with the plan", "cut")
    parts += [
        "<h3>Cumulative hazard over the horizon, by channel</h3>",
        _html_table(header, risk_by_channel(result)),
    ]
    parts += ["<h2>The value of slowing</h2>", _figure_html("slowing", pngs["slowing"])]
    parts += ["<h2>For a paper</h2>", _figure_html("knobs", pngs["knobs"])]
    parts.append(
        '<p>Files: <a href="csv/">csv/</a> (tidy tables), <a href="result.xlsx">result.xlsx</a>, '
        '<a href="parquet/">parquet/</a>, <a href="tables/">tables/</a> (Markdown and LaTeX), '
        '<a href="figures/">figures/</a>, <a href="result/">result/</a> (saved result: '
        "<code>allocopt report --from-result</code>).</p></body></html>"
    )
    return "\n".join(parts) + "\n"


def write_report(result: Result, out: str | Path) -> Path:
    """Write figures, exports, the saved result and ``index.html`` into ``out``; return the page."""
    out = Path(out)
    save_result(result, out / "result")  # first: refuses a foreign folder before any work
    export_all(result, out)
    pngs = {}
    for name, draw in FIGURES.items():
        fig = draw(result)
        for suffix in FIGURE_FORMATS:
            path = save_figure(fig, out / "figures" / f"{name}{suffix}")
            if suffix == ".png":
                pngs[name] = path.read_bytes()
    return atomic_write_text(out / "index.html", render_html(result, pngs))
