"""Exports read back equal to the CSV; the same result gives the same bytes; saved results
round-trip without re-solving; writes leave no temporary files behind."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest

from allocopt import load_result, save_result
from allocopt.results.export import (
    allocation_by_category_mode,
    atomic_write,
    export_all,
    knobs_per_year,
    summary_tables,
    tex,
    to_excel,
    to_latex,
    to_markdown,
    to_parquet,
    write_summary_tables,
)
from allocopt.results.store import SavedResultError


def _awkward(result):
    """The result with what CSV cannot tell apart: an empty string, a missing number, no rows."""
    stocks = result.stocks.copy()
    stocks.loc[0, "activity"] = ""
    stocks.loc[1, "value"] = math.nan
    return dataclasses.replace(result, stocks=stocks, portfolio=result.portfolio.iloc[:0])


@pytest.fixture(scope="module", params=["baseline", "awkward"])
def exported(request, baseline_result, tmp_path_factory):
    """Every export of the baseline (and of an awkward variant), written once for this module."""
    result = baseline_result if request.param == "baseline" else _awkward(baseline_result)
    folder = tmp_path_factory.mktemp("exports")
    export_all(result, folder)
    return folder


def _same_table(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Equal up to the 10 significant digits CSV keeps; text compared as text, an empty
    string as missing (CSV writes both as nothing)."""
    assert list(left.columns) == list(right.columns)
    assert len(left) == len(right)
    for column in left.columns:
        a, b = left[column], right[column]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9)
        else:
            assert [_text(v) for v in a] == [_text(v) for v in b], column


def _text(value: object) -> str | None:
    return None if pd.isna(value) or value == "" else str(value)


def test_every_table_is_exported_in_every_format(baseline_result, exported):
    names = set(baseline_result.tables())
    assert {p.stem for p in (exported / "csv").iterdir()} == names
    assert {p.stem for p in (exported / "parquet").iterdir()} == names
    assert set(openpyxl.load_workbook(exported / "result.xlsx").sheetnames) == names


def test_parquet_reads_back_equal_to_the_csv(baseline_result, exported):
    for name in baseline_result.tables():
        csv = pd.read_csv(exported / "csv" / f"{name}.csv")
        _same_table(pd.read_parquet(exported / "parquet" / f"{name}.parquet"), csv)


def test_excel_reads_back_equal_to_the_csv(baseline_result, exported):
    sheets = pd.read_excel(exported / "result.xlsx", sheet_name=None)
    for name in baseline_result.tables():
        _same_table(sheets[name], pd.read_csv(exported / "csv" / f"{name}.csv"))


def test_parquet_keeps_the_summary_numbers_as_numbers(exported):
    summary = pd.read_parquet(exported / "parquet" / "summary.parquet")
    assert summary.value.dtype == np.float64
    assert summary.set_index("key").loc["outer_iterations", "value"] >= 1


def test_excel_has_the_summary_first_frozen_headers_and_fitted_columns(exported):
    book = openpyxl.load_workbook(exported / "result.xlsx")
    assert book.sheetnames[0] == "summary"
    assert all(book[name].freeze_panes == "A2" for name in book.sheetnames)
    sheet = book["allocation"]
    widths = {c: sheet.column_dimensions[c].width for c in "ABCDEFG"}
    assert widths["B"] > widths["A"]  # activity ids are longer than period labels
    assert all(8 <= w <= 60 for w in widths.values())


def test_excel_shows_shares_and_probabilities_as_percentages(baseline_result, exported):
    book = openpyxl.load_workbook(exported / "result.xlsx")
    knobs = book["knobs"]
    header = [c.value for c in knobs[1]]
    share = knobs.cell(row=2, column=header.index("safety_share_compute") + 1)
    budget = knobs.cell(row=2, column=header.index("budget_compute") + 1)
    assert share.number_format == "0.0%"
    assert budget.number_format == "#,##0.0"
    summary = book["summary"]
    formats = {row[0].value: row[1].number_format for row in summary.iter_rows(min_row=2)}
    assert formats["probability_with_plan"] == "0.0%"
    assert formats["probability_reduction_relative"] == "0.0%"
    assert formats["probability_reduction_points"] == "General"  # in percentage points
    assert formats["delay_at_horizon_years"] == "General"
    portfolio = book["portfolio"]  # share of safety (no rows in the awkward variant)
    assert all(row[2].number_format == "0.0%" for row in portfolio.iter_rows(min_row=2))


def test_same_result_gives_byte_identical_csv_markdown_and_latex(baseline_result, tmp_path):
    for folder in ("a", "b"):
        baseline_result.to_csv(tmp_path / folder / "csv")
        write_summary_tables(baseline_result, tmp_path / folder / "tables")
    for sub in ("csv", "tables"):
        first = sorted((tmp_path / "a" / sub).iterdir())
        assert first
        for path in first:
            assert path.read_bytes() == (tmp_path / "b" / sub / path.name).read_bytes(), path


def test_allocation_summary_adds_up_to_the_budget(baseline_result):
    table = allocation_by_category_mode(baseline_result, "compute")
    frame = table.frame.set_index("Period")
    alloc = baseline_result.allocation
    budget = alloc[alloc.resource == "compute"].groupby("period").value.sum()
    np.testing.assert_allclose(frame.Capabilities + frame.Safety, budget[frame.index], rtol=1e-9)
    parts = frame.drop(columns=["Capabilities", "Safety"]).sum(axis=1)
    np.testing.assert_allclose(parts, frame.Safety, rtol=1e-9)
    assert len(frame.columns) == 2 + 4 * 2


def test_knobs_per_year_are_means_of_the_periods(baseline_result):
    table = knobs_per_year(baseline_result).frame.set_index("Year")
    knobs = baseline_result.knobs
    first_year = knobs[knobs.period.str.startswith("2025")]
    assert table.loc[2025, "Velocity hit"] == pytest.approx(first_year.velocity_hit.mean())
    assert table.loc[2025, "Post-acceleration periods"] == 0
    assert list(table.index) == [2025, 2026, 2027, 2028, 2029]


def test_markdown_and_latex_show_the_numbers_and_mark_a_non_optimal_result(baseline_result):
    table = knobs_per_year(baseline_result)
    markdown = to_markdown(table, baseline_result)
    latex = to_latex(table, baseline_result)
    hit_2025 = f"{table.frame['Velocity hit'].iloc[0]:.1%}"
    assert re.search(rf"\|\s+{re.escape(hit_2025)} \|", markdown)
    assert hit_2025.replace("%", r"\%") in latex
    assert markdown.count("\n| 20") == 5
    assert not markdown.startswith("Table:")  # no Pandoc-only caption line
    assert markdown.startswith("The three knobs per year")
    assert r"\begin{tabular}{lrrrrrrr}" in latex
    assert "NOT OPTIMAL" not in markdown
    stopped = dataclasses.replace(baseline_result, status="time_limit")
    assert "NOT OPTIMAL (time_limit)" in to_markdown(table, stopped)
    assert "NOT OPTIMAL (time\\_limit)" in to_latex(table, stopped)


def test_latex_escapes_every_special_character():
    assert tex("a{b}~c^d$e&f%g_h#i\\j") == (
        r"a\{b\}\textasciitilde{}c\textasciicircum{}d\$e\&f\%g\_h\#i\textbackslash{}j"
    )


def _header_lines(latex: str) -> list[str]:
    """The printed lines of every header cell of a LaTeX table (stacked headers split)."""
    rows = latex.split("\\toprule\n")[1].split("\\midrule")[0].splitlines()
    lines = []
    for row in rows:
        for cell in row.removesuffix(" \\\\").split(" & "):
            text = re.sub(r"\\(multicolumn\{\d+\}\{c\}|shortstack\[r\])", "", cell)
            lines += [part.strip("{} ") for part in text.split(" \\\\ ")]
    return lines


def test_latex_tables_fit_an_article_page(baseline_result):
    """Stacked two-level headers (no header line longer than the widest number) and a box no
    wider than the text (an article's linewidth)."""
    for table in summary_tables(baseline_result):
        latex = to_latex(table, baseline_result)
        assert r"\begin{adjustbox}{max width=\linewidth}" in latex
        assert latex.index(r"\begin{adjustbox}") < latex.index(r"\begin{tabular}")
        assert latex.index(r"\end{tabular}") < latex.index(r"\end{adjustbox}")
        longest = max(len(line) for line in _header_lines(latex))
        assert longest <= 14, table.name
    compute = to_latex(allocation_by_category_mode(baseline_result, "compute"), baseline_result)
    assert r"\multicolumn{2}{c}{Nonprolif.}" in compute
    assert "\nPeriod & Capabilities & Safety & prep. & mitig." in compute


def test_a_non_optimal_workbook_says_so(baseline_result, tmp_path):
    stopped = dataclasses.replace(baseline_result, status="time_limit")
    book = openpyxl.load_workbook(to_excel(stopped, tmp_path / "r.xlsx"))
    assert "NOT OPTIMAL" in book.properties.title
    assert book["summary"].sheet_properties.tabColor.rgb.endswith("CC0000")


def test_an_interrupted_write_leaves_no_file(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("old\n")

    def crash(tmp):
        tmp.write_text("half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        atomic_write(target, crash)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_parquet_export_leaves_no_temporary_files(baseline_result, tmp_path):
    to_parquet(baseline_result, tmp_path)
    assert all(not p.name.startswith(".") for p in tmp_path.iterdir())


@pytest.mark.parametrize("variant", ["baseline", "awkward"])
def test_saved_result_round_trips_every_field(baseline_result, tmp_path, variant):
    original = baseline_result if variant == "baseline" else _awkward(baseline_result)
    loaded = load_result(save_result(original, tmp_path / "saved"))
    for f in dataclasses.fields(original):
        ours, theirs = getattr(original, f.name), getattr(loaded, f.name)
        if isinstance(ours, pd.DataFrame):
            pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
        elif f.name == "summary":
            assert list(ours) == list(theirs)
            for key in ours:
                same = ours[key] == theirs[key] or (
                    isinstance(ours[key], float)
                    and math.isnan(ours[key])
                    and math.isnan(theirs[key])
                )
                assert same, key
        elif f.name == "schedule":  # rebuilt from the allocation table, which rounds to 1e-9
            for part in ("effort", "capabilities"):
                np.testing.assert_allclose(
                    getattr(theirs, part), getattr(ours, part), rtol=0, atol=5e-10
                )
        else:
            assert ours == theirs, f.name
    assert loaded.text_summary() == original.text_summary()
    assert loaded.scenario == original.scenario
    assert loaded.versions == original.versions
    assert set(loaded.versions) == {"allocopt", "pyomo", "highspy"}


def test_saved_result_json_is_strict_json(baseline_result, tmp_path):
    """A missing number is written as null (strict JSON has no NaN) and read back as NaN; a field
    that may be None stays None."""
    summary = {**baseline_result.summary, "objective_bound": math.nan, "x": math.inf}
    original = dataclasses.replace(baseline_result, summary=summary, relative_gap=None)
    folder = save_result(original, tmp_path / "saved")

    def refuse(name: str) -> None:
        raise ValueError(name)

    meta = json.loads((folder / "result.json").read_text(encoding="utf-8"), parse_constant=refuse)
    assert meta["fields"]["summary"]["objective_bound"] is None
    loaded = load_result(folder)
    assert math.isnan(loaded.summary["objective_bound"])
    assert math.isnan(loaded.summary["x"])
    assert loaded.relative_gap is None


def test_saving_again_replaces_the_saved_result_whole(baseline_result, tmp_path):
    folder = tmp_path / "saved"
    save_result(dataclasses.replace(baseline_result, violations=("a",)), folder)
    save_result(baseline_result, folder)
    assert load_result(folder).violations == ()
    assert [p.name for p in tmp_path.iterdir()] == ["saved"]


def test_save_refuses_to_replace_a_folder_that_is_not_a_saved_result(baseline_result, tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(SavedResultError, match="not a saved result"):
        save_result(baseline_result, tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_loading_a_folder_that_is_not_a_saved_result_names_it(tmp_path):
    with pytest.raises(SavedResultError, match=r"not a saved result \(no result.json\)"):
        load_result(tmp_path)
    (tmp_path / "result.json").write_text('{"format": "other", "version": 1}')
    with pytest.raises(SavedResultError, match="expected 'allocopt-result'"):
        load_result(tmp_path)
