"""The ``allocopt sweep`` command: a table and figures, or exit 2 on a bad --param."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from allocopt.cli import app
from allocopt.results.names import label, unit

CORE = str(Path(__file__).resolve().parents[1] / "models" / "magma_core.yaml")


def test_sweep_writes_table_and_tornado(tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", CORE, "--param", "velocity.hit_cap_post_acceleration=0.2:0.3:2"]
    result = CliRunner().invoke(app, [*args, "--workers", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sweep.csv")
    assert table.varied.tolist() == ["base", *["velocity.hit_cap_post_acceleration"] * 2]
    assert (out / "tornado_risk_reduction_exact.png").exists()
    # units.csv gives every numeric column of sweep.csv (but the point's number) its unit, in
    # the form of a result's units.csv
    units = pd.read_csv(out / "units.csv")
    assert list(units.columns) == ["table", "column", "unit"]
    assert set(units.table) == {"sweep"}
    numeric = table.drop(columns="point").select_dtypes("number").columns
    assert set(units.column) == set(numeric)
    by_column = units.set_index("column").unit
    assert by_column["risk_reduction_exact"] == unit("risk_reduction_exact")
    assert by_column["velocity_hit_post_acceleration"] == "share of full speed"
    # under the count, the cut (exact) per point with the swept value and the status
    lines = result.output.splitlines()
    at = next(i for i, line in enumerate(lines) if "3 points (3 optimal)" in line)
    assert lines[at + 1].startswith(
        "risk_reduction is the " + label("risk_reduction_exact").lower()
    )
    assert lines[at + 2].split() == [
        "point",
        "velocity.hit_cap_post_acceleration",
        "risk_reduction",
        "status",
    ]
    rows = [line.split() for line in lines[at + 3 : at + 3 + len(table)]]
    expected = table[
        ["point", "velocity.hit_cap_post_acceleration", "risk_reduction_exact", "status"]
    ]
    assert [[int(p), float(v), float(r), s] for p, v, r, s in rows] == [
        [p, v, round(r, 4), s] for p, v, r, s in expected.itertuples(index=False)
    ]


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("velocity.hit_cap_post_acceleration", "expected FIELD=LO:HI:N"),
        ("velocity.nope=1:2:2", "velocity.nope"),
        ("velocity.hit_cap_post_acceleration=0.5:2:2", "hit_cap_post_acceleration"),
    ],
)
def test_bad_param_exits_2_with_a_message(tmp_path, param, message):
    result = CliRunner().invoke(
        app, ["sweep", CORE, "--param", param, "--workers", "1", "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "x").exists()


def test_every_bad_value_of_a_param_is_named_as_the_option(tmp_path):
    # 0.1:1.5:4 gives 0.1, 0.5667, 1.0333, 1.5: the last two are out of the cap's range
    result = CliRunner().invoke(
        app,
        [
            "sweep",
            CORE,
            "--param",
            "velocity.hit_cap_post_acceleration=0.1:1.5:4",
            "--workers",
            "1",
            "--out",
            str(tmp_path / "x"),
        ],
    )
    assert result.exit_code == 2
    field = "--param velocity.hit_cap_post_acceleration: must be between 0 and 1"
    assert f"{field} (got 1.033333333333" in result.output
    assert f"{field} (got 1.5)" in result.output
    assert "(got 0.1" not in result.output
    assert not (tmp_path / "x").exists()
