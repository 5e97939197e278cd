"""Saved results: a folder that reads back into an equal :class:`Result` without re-solving.

Every DataFrame field of the dataclass is stored as Parquet (exact floats and dtypes); the
scenario as ``scenario.yaml`` (its validated fields, tables included), the versions as
``versions.json``; every other field (status, objective, summary, violations, timings, ...) in
``result.json`` (strict JSON: a non-finite number is written as ``null`` and read back as NaN,
except where the field itself may be ``None``). ``allocopt solve`` writes these files beside its CSV tables
(:func:`save_beside`), so its folder is a saved result too. The schedule is not stored twice:
loading rebuilds it from the allocation table (:func:`allocopt.results.result.schedule_of`,
values as the table rounds them). Fields are found from the dataclass itself, so tables added to
:class:`Result` later are saved too.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from allocopt.errors import ScenarioError
from allocopt.results.files import staging_folder, write_folder
from allocopt.results.result import Result, schedule_of
from allocopt.scenario.schema import Scenario

FORMAT = "allocopt-result"
VERSION = 2  # 2: the scenario and the versions beside the tables; status not in the summary
META = "result.json"
SCENARIO = "scenario.yaml"
VERSIONS = "versions.json"
DERIVED = ("schedule",)  # rebuilt on loading, not stored


class SavedResultError(ScenarioError):
    """A folder that is not a readable saved result (bad input: the CLI exits with 2)."""


def _plain(value: Any) -> Any:
    """JSON-ready copy of ``value``: numpy scalars as Python numbers, tuples as lists, non-finite
    numbers (NaN, infinities) as ``None``, which strict JSON readers accept."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _unplain(value: Any) -> Any:
    """Inverse of :func:`_plain` inside a field: ``None`` as NaN, lists as tuples."""
    if isinstance(value, dict):
        return {k: _unplain(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_unplain(v) for v in value)
    return math.nan if value is None else value


def _fill(result: Result, staging: Path) -> None:
    """Write the files of a saved ``result`` (module docstring) into the folder ``staging``."""
    meta: dict[str, Any] = {"format": FORMAT, "version": VERSION, "tables": [], "fields": {}}
    scenario = yaml.safe_dump(
        result.scenario.model_dump(mode="json"), allow_unicode=True, sort_keys=False
    )
    (staging / SCENARIO).write_text(scenario, encoding="utf-8")
    versions = json.dumps(result.versions, indent=2) + "\n"
    (staging / VERSIONS).write_text(versions, encoding="utf-8")
    for f in fields(result):
        value = getattr(result, f.name)
        if f.name in (*DERIVED, "scenario", "versions"):
            continue
        if isinstance(value, pd.DataFrame):
            value.to_parquet(staging / f"{f.name}.parquet", index=False)
            meta["tables"].append(f.name)
        else:
            meta["fields"][f.name] = _plain(value)
    text = json.dumps(meta, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    (staging / META).write_text(text, encoding="utf-8")


def save_result(result: Result, folder: str | Path) -> Path:
    """Write ``result`` to ``folder`` (created or replaced whole: files appear all or none)."""
    folder = Path(folder)
    staging = staging_folder(folder)  # the umask's permissions, kept when swapped in
    try:
        _fill(result, staging)
        old = None
        if folder.exists() and any(folder.iterdir()) and not (folder / META).exists():
            raise SavedResultError(f"{folder}: exists and is not a saved result; not replacing it")
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent))
            os.replace(folder, old / folder.name)
        os.replace(staging, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def save_beside(result: Result, folder: str | Path) -> list[Path]:
    """Write the files of a saved ``result`` into ``folder`` beside whatever it holds (the CSV
    tables of ``allocopt solve``), each file whole or not at all, so that
    :func:`load_result` reads ``folder`` back. Returns the paths written."""
    return write_folder(folder, lambda staging: _fill(result, staging))


def load_result(folder: str | Path) -> Result:
    """Read a result written by :func:`save_result`; raise :class:`SavedResultError` if the
    folder is missing, of another format or incomplete."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except FileNotFoundError:
        inside = folder / "result"  # a report's folder keeps its result there
        hint = f"; a report's result is in {inside}" if (inside / META).exists() else ""
        raise SavedResultError(f"{folder}: not a saved result (no {META}){hint}") from None
    except (OSError, ValueError) as exc:
        raise SavedResultError(f"{folder / META}: unreadable ({exc})") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise SavedResultError(
            f"{folder / META}: format {meta.get('format')!r} version {meta.get('version')!r}, "
            f"expected {FORMAT!r} version {VERSION}"
        )
    values: dict[str, Any] = {}
    for name in meta["tables"]:
        try:
            values[name] = pd.read_parquet(folder / f"{name}.parquet")
        except (OSError, ValueError) as exc:
            raise SavedResultError(f"{folder / name}.parquet: unreadable ({exc})") from None
    optional = {f.name for f in fields(Result) if f.default is None}  # None is their own value
    for name, value in meta["fields"].items():
        values[name] = None if value is None and name in optional else _unplain(value)
    values["scenario"] = _read_scenario(folder / SCENARIO)
    try:
        values["versions"] = json.loads((folder / VERSIONS).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SavedResultError(f"{folder / VERSIONS}: unreadable ({exc})") from None
    if "allocation" in values:
        values["schedule"] = schedule_of(values["allocation"], values["scenario"])
    unknown = sorted(set(values) - {f.name for f in fields(Result)})
    missing = [
        f.name
        for f in fields(Result)
        if f.name not in values and f.default is MISSING and f.default_factory is MISSING
    ]
    if unknown or missing:
        raise SavedResultError(
            f"{folder}: does not match this allocopt's Result "
            f"(unknown fields {unknown}, missing fields {missing})"
        )
    return Result(**values)


def _read_scenario(path: Path) -> Scenario:
    """The scenario saved at ``path``, validated again."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SavedResultError(f"{path}: unreadable ({exc})") from None
    try:
        return Scenario.model_validate(data)
    except ValueError as exc:
        raise SavedResultError(f"{path}: not a valid scenario ({exc})") from None
