"""The report of one result: figures, every export, the saved result, and one self-contained
HTML page rendered from the jinja2 template ``allocopt/templates/report.html.j2`` (figures
embedded as base64 PNG data URIs) with the headline, how to read the three knobs, the knobs, the
schedule, the risk, the assumptions grouped (non-default values marked), the date and versions.

Layout of the output folder::

    index.html  figures/<name>.png|.pdf  csv/  parquet/  result.xlsx  tables/*.md|.tex  result/
    manifest.json  (every file above, by path: a run's folder, allocopt.results.files.write_run)
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup
from pydantic import BaseModel

from allocopt.analyses.heuristics import H3, TIE, h2, h3
from allocopt.plot.save import save_figure
from allocopt.plot.schedule import FIGURES as RESULT_FIGURES
from allocopt.plot.schedule import period_length_years, regime_switch
from allocopt.plot.slowing import plot_value_of_slowing
from allocopt.results.export import SummaryTable, atomic_write_text, export_all, summary_tables
from allocopt.results.files import write_run
from allocopt.results.names import PROBABILITIES, label, unit
from allocopt.results.result import (
    SURVIVAL,
    Result,
    past_horizon_hazard,
    past_horizon_note,
    survival,
)
from allocopt.results.store import save_result
from allocopt.results.wide import status_marker
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
    "risk": "Hazard rate in each period (per year) and probability of catastrophe within the "
    "horizon, with and without the plan; the dots at the horizon include the risk past it "
    "(grey: without safety work; with the plan: its postponed risk too), their values in the "
    "corner.",
    "knobs": "The three knobs: velocity hit against its cap (top), preparation vs current "
    "mitigation (middle), safety portfolio by category (bottom).",
    "slowing": "What one more percentage point of velocity hit in a quarter buys (above zero) "
    "and costs (below zero), term by term, with the exact total (dots). The point is taken in "
    "the quarter's own safety mix; a hollow dot marks a step that breaks another limit (the "
    "staff re-assignment limit, say), one the program could not take as it stands.",
}
# the figures the page shows: the knobs figure holds velocity, preparation and portfolio, which
# are written to figures/ on their own but not shown twice
PAGE_FIGURES = ("knobs", "schedule", "risk", "slowing")
LEFT_OUT = {"tables", "data", "name", "description"}  # not settings, or shown elsewhere
TEMPLATE = "report.html.j2"
PLAN_NOTE = ("velocity_hit", "preparation_share")  # the knobs a figure's Description carries
PAGE = "index.html"


@dataclass(frozen=True)
class Setting:
    """One row of the assumptions: a dotted field, its value, and the default of a scenario that
    leaves the field out (None when that scenario has no such field)."""

    field: str
    value: str
    default: str | None

    @property
    def changed(self) -> bool:
        """True when the value differs from the default."""
        return self.value != self.default


def _flatten(data: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    """Dotted fields and their values: into dicts by key, into lists of dicts by position
    (``tree.stages.0.reveal``); a list of plain values is one value, its items joined by ", "."""
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from _flatten(value, f"{prefix}.{key}")
    elif isinstance(data, list) and any(isinstance(v, dict | list) for v in data):
        for k, value in enumerate(data):
            yield from _flatten(value, f"{prefix}.{k}")
    elif isinstance(data, list) and data:
        yield prefix, ", ".join(str(v) for v in data)
    else:
        yield prefix, data


def _empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, dict | list) and not value)


def assumptions(scenario: Scenario) -> dict[str, list[Setting]]:
    """The scenario's settings grouped by top-level field, as dotted fields with their values;
    tables, file paths, the name and the description left out, and so are empty settings
    (``None``, ``{}``). Each setting carries the default it differs from, if it does."""
    config = scenario.model_dump(mode="json")
    groups: dict[str, list[Setting]] = {}
    for name, info in type(scenario).model_fields.items():
        if name in LEFT_OUT:
            continue
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):
            default = default.model_dump(mode="json")
        defaults = {k: str(v) for k, v in _flatten(default, name) if not _empty(v)}
        rows = [
            Setting(key, str(value), defaults.get(key))
            for key, value in _flatten(config[name], name)
            if not _empty(value)
        ]
        if rows:
            groups[name] = rows
    return groups


def headline(result: Result) -> list[tuple[str, str]]:
    """The numbers a reader looks for first, from the result alone, each shown once."""
    s = result.summary
    budget = result.allocation[result.allocation.resource.isin(RESOURCES)]
    totals = budget.groupby(["resource", "period"], sort=False).value.sum()
    rows = [
        ("Status", result.status_note() or str(result.status)),
        ("Periods", str(s.get("periods", ""))),
        ("Regime switch (acceleration)", regime_switch(result) or "none"),
    ]
    rows.append(
        (
            label("risk_reduction_exact"),
            f"{float(s['risk_reduction_exact']):.4f} in {unit('risk_reduction_exact')}: the "
            f"objective (program {float(s['risk_reduction_model']):.4f}, approximation gap "
            f"{float(s['approximation_gap']):.2%})",
        )
    )
    rows.append((SURVIVAL, survival(s)))
    for name in PROBABILITIES:
        rows.append((label(name), f"{float(s[name]):.1%}"))
    rows.append(
        (
            label("probability_reduction_points"),
            f"{float(s['probability_reduction_points']):.1f} "
            f"{unit('probability_reduction_points')} "
            f"({float(s['probability_reduction_relative']):.1%} relative)"
            + (f"; {past_horizon_note(s)}" if past_horizon_hazard(s) > 0 else ""),
        )
    )
    if s.get("outer_iterations"):
        rows.append(
            (
                "Progress given up by the horizon",
                f"{float(s['delay_at_horizon_years']):.2f} years "
                f"({s['outer_iterations']} outer iterations)",
            )
        )
    for resource in RESOURCES:
        first, last = totals[resource].iloc[0], totals[resource].iloc[-1]
        resource_unit = RESOURCE_UNITS[resource]
        rows.append(
            (
                f"{resource.capitalize()} allocated (first → last period)",
                f"{first:,.0f} → {last:,.0f} {resource_unit}",
            )
        )
    speedup = result.knobs.ai_rnd_speedup
    rows.append(
        (
            "AI R&D speed-up (first → last period)",
            f"{speedup.iloc[0]:.1f}x → {speedup.iloc[-1]:.1f}x",
        )
    )
    return rows


GROUP_WORDS = {  # the essay's priority groups of preparation (heuristic 3)
    "P0": "awareness (P0)",
    "P1": "elicitation readiness (P1)",
    "P2": "extreme security (P2)",
}


def essay_heuristics(result: Result) -> list[tuple[str, str, str]]:
    """The essay's heuristics 2 and 3 read on this plan (:mod:`allocopt.analyses.heuristics`:
    measured, never imposed), as (heuristic, what the plan does, verdict with its margin).
    Heuristic 1 needs three more solves (:func:`~allocopt.analyses.heuristics.h1`) and is
    not read here."""
    two, three = h2(result), h3(result, by_value=False)
    by_group = ", ".join(
        f"{GROUP_WORDS.get(g, g)} {v:.0%}" for g, v in three.preparation_by_group.items()
    )
    return [
        (
            "2 · prepare before the switch, mitigate more after it",
            f"before the switch {two.preparation_share_pre:.0%} of safety resources prepare; "
            f"mitigation's share {two.mitigation_share_pre:.0%} before, "
            f"{two.mitigation_share_post:.0%} after",
            f"{two.verdict} (margin {two.margin:+.1%} of safety resources)",
        ),
        (
            "3 · prepare awareness (P0), elicitation readiness (P1), extreme security (P2)",
            f"preparation before the switch by group: {by_group or 'none'}",
            f"{three.verdict} (margin {three.margin:+.1%} of preparation resources)"
            + tied_groups(three),
        ),
    ]


def tied_groups(three: H3) -> str:
    """For a tie by resources, the groups that straddle third place and the share each takes,
    and where heuristic 3 is judged by value (empty otherwise)."""
    if three.verdict != TIE:
        return ""
    r = three.ranks
    straddle = r[r == r[r <= 3].max()].index
    share = three.preparation_by_group[straddle].max()
    names = ", ".join(GROUP_WORDS.get(g, g) for g in straddle)
    return (
        f": {names} take {share:.0%} each, so resources cannot tell which of them are the top "
        "three; by value (risk reduction lost without a group) in notebook 03"
    )


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


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("allocopt", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template(TEMPLATE)


def _table_html(table: SummaryTable) -> dict[str, str | Markup]:
    """A summary table as an HTML table (escaped by pandas' Styler) with its caption."""
    cells = pd.DataFrame(table.cells(), columns=table.frame.columns)
    styler = cells.style.hide(axis="index").format(escape="html")
    rendered = styler.format_index(escape="html", axis=1).to_html(table_uuid=table.name)
    return {"caption": table.caption, "html": Markup('<div class="scroll">' + rendered + "</div>")}


def _figure_html(name: str, png: bytes) -> Markup:
    data = base64.b64encode(png).decode("ascii")
    caption = FIGURE_CAPTIONS[name]
    return Markup(
        '<figure id="figure-{}"><img alt="{}" src="data:image/png;base64,{}">'
        "<figcaption>{}</figcaption></figure>"
    ).format(name, name, data, caption)


def render_html(result: Result, pngs: dict[str, bytes], written: str | None = None) -> str:
    """The report page from the package's jinja2 template: one string, the figures of
    :data:`PAGE_FIGURES` embedded as base64 data URIs (nothing fetched from elsewhere, so the page
    travels alone), dated ``written`` (default: now, UTC) and naming the result's versions."""
    tables = {t.name: t for t in summary_tables(result)}
    written = written or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return _template().render(
        title=f"allocopt report: {result.scenario_name}",
        written=written,
        versions=", ".join(f"{k} {v}" for k, v in result.versions.items()),
        marker=status_marker(result),
        description=result.scenario.description,
        headline=headline(result),
        figures={name: _figure_html(name, pngs[name]) for name in PAGE_FIGURES},
        knobs_table=_table_html(tables["knobs_per_year"]),
        allocation_tables=[_table_html(tables[f"allocation_{r}"]) for r in RESOURCES],
        risk_rows=risk_by_channel(result),
        heuristics=essay_heuristics(result),
        assumptions=assumptions(result.scenario),
    )


def plan_note(result: Result) -> str:
    """What the report's PNG figures carry in their ``Description``: the scenario and the two
    knobs per period (velocity hit, preparation share; 4 decimals) as JSON, so that a copied
    figure (the README's ``docs/knobs.png``) can be checked against a fresh solve."""
    knobs = result.knobs
    return json.dumps(
        {
            "scenario": result.scenario_name,
            "period": list(knobs.period),
            **{k: [round(float(v), 4) for v in knobs[k]] for k in PLAN_NOTE},
        }
    )


def write_report(result: Result, out: str | Path) -> Path:
    """Write figures, exports, the saved result and ``index.html`` into ``out``, as a run's
    folder (:func:`~allocopt.results.files.write_run`: an earlier run's files removed,
    ``manifest.json`` naming every file); return the page."""

    def fill(staging: Path) -> None:
        save_result(result, staging / "result")
        export_all(result, staging)
        pngs = {}
        note = plan_note(result)
        for name, draw in FIGURES.items():
            fig = draw(result)
            for suffix in FIGURE_FORMATS:
                path = save_figure(fig, staging / "figures" / f"{name}{suffix}", description=note)
                if suffix == ".png":
                    pngs[name] = path.read_bytes()
        atomic_write_text(staging / PAGE, render_html(result, pngs))

    write_run(out, result.scenario_name, fill)
    return Path(out) / PAGE
