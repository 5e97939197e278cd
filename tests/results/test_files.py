"""A run's folder holds only what that run wrote, and its manifest names the scenario and files."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from allocopt import load_scenario, save_result
from allocopt.analyses.montecarlo import montecarlo
from allocopt.results.files import MANIFEST, write_run
from allocopt.run import Run
from tests.conftest import ROOT, files_below

MONTE_CARLO = ROOT / "models" / "magma_montecarlo.yaml"


def files(names: dict[str, str]):
    """A ``fill`` writing each name (a relative path) with its text."""

    def fill(folder: Path) -> None:
        for name, text in names.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")

    return fill


def manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


def test_a_second_run_removes_what_the_first_listed(tmp_path, caplog):
    out = tmp_path / "out"
    write_run(out, "a", files({"t.csv": "a", "montecarlo_x.csv": "a", "fan.png": "a"}))
    with caplog.at_level(logging.WARNING):
        written = write_run(out, "b", files({"t.csv": "b"}))
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "t.csv"]
    assert [p.name for p in written] == ["t.csv", MANIFEST]
    assert (out / "t.csv").read_text(encoding="utf-8") == "b"
    assert manifest(out) == {"format": "allocopt-run", "scenario": "b", "files": ["t.csv"]}
    assert caplog.records == []


def test_files_no_run_listed_stay_with_a_warning_naming_them(tmp_path, caplog):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "montecarlo_samples.csv").write_text("before manifests", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        write_run(out, "b", files({"allocation.csv": "b", "risk.csv": "b"}))
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert manifest(out)["files"] == ["allocation.csv", "risk.csv"]
    (record,) = caplog.records
    assert "montecarlo_samples.csv, notes.txt" in record.getMessage()
    assert "'b'" in record.getMessage()


def test_subfolders_are_listed_by_path_and_removed_when_emptied(tmp_path, caplog):
    out = tmp_path / "out"
    write_run(out, "a", files({"t.csv": "a", "figures/fan.png": "a", "csv/x.csv": "a"}))
    assert manifest(out)["files"] == ["csv/x.csv", "figures/fan.png", "t.csv"]
    (out / "csv" / "mine.txt").write_text("mine", encoding="utf-8")
    caplog.set_level(logging.WARNING)
    write_run(out, "b", files({"t.csv": "b"}))
    assert files_below(out) == ["csv/mine.txt", MANIFEST, "t.csv"]  # figures/ emptied: gone
    assert "csv/" in caplog.records[0].getMessage()  # a folder of the user's, not searched
    write_run(out, "c", files({"csv/y.csv": "c"}))  # where the run writes, files are named
    assert "csv/mine.txt" in caplog.records[-1].getMessage()


def test_folders_written_follow_the_umask(tmp_path, core_result):
    """A run's subfolders and a saved result's folder get an ordinary folder's mode, not a
    temporary folder's 0700."""
    mask = os.umask(0o022)
    try:
        write_run(tmp_path / "run", "a", files({"figures/fan.png": "a"}))
        save_result(core_result, tmp_path / "saved")
    finally:
        os.umask(mask)
    for folder in (tmp_path / "run", tmp_path / "run" / "figures", tmp_path / "saved"):
        assert folder.stat().st_mode & 0o777 == 0o755, folder


def test_a_manifest_cannot_remove_files_outside_the_folder(tmp_path):
    out, outside = tmp_path / "out", tmp_path / "keep.csv"
    out.mkdir()
    outside.write_text("keep", encoding="utf-8")
    listed = {
        "format": "allocopt-run",
        "scenario": "x",
        "files": ["../keep.csv", "sub/../../keep.csv", str(outside), 3],
    }
    (out / MANIFEST).write_text(json.dumps(listed), encoding="utf-8")
    write_run(out, "b", files({"t.csv": "b"}))
    assert outside.read_text(encoding="utf-8") == "keep"


def test_a_failed_fill_leaves_the_folder_as_it_was(tmp_path):
    out = tmp_path / "out"
    write_run(out, "a", files({"t.csv": "a"}))

    def fail(folder: Path) -> None:
        (folder / "t.csv").write_text("half", encoding="utf-8")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_run(out, "b", fail)
    assert (out / "t.csv").read_text(encoding="utf-8") == "a"
    assert manifest(out)["scenario"] == "a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.fixture(scope="module")
def sampled():
    """magma_montecarlo with 20 samples (its plan is the core optimum)."""
    return load_scenario(MONTE_CARLO).with_updates({"uncertainty.samples": 20})


def test_a_plain_solve_into_a_monte_carlo_folder_leaves_no_montecarlo_files(
    tmp_path, sampled, core_result
):
    """The issue's example: scenario A's Monte Carlo run, then scenario B's plain solve."""
    out = tmp_path / "out"
    Run(core_result, montecarlo(sampled, core_result.schedule)).write(out)
    assert any(p.name.startswith("montecarlo_") for p in out.iterdir())
    Run(core_result).write(out)
    names = sorted(p.name for p in out.iterdir())
    assert not [n for n in names if n.startswith("montecarlo_")]
    assert manifest(out)["files"] == [n for n in names if n != MANIFEST]
    assert manifest(out)["scenario"] == core_result.scenario_name


def test_a_monte_carlo_run_over_a_plain_one_lists_every_file(tmp_path, sampled, core_result):
    """The other way round, with a file of the user's in the folder."""
    out = tmp_path / "out"
    Run(core_result).write(out)
    (out / "README.txt").write_text("mine", encoding="utf-8")
    plain = set(manifest(out)["files"])
    Run(core_result, montecarlo(sampled, core_result.schedule)).write(out)
    listed = set(manifest(out)["files"])
    assert plain < listed
    assert {p.name for p in out.iterdir()} == listed | {MANIFEST, "README.txt"}
