"""Saved results: a folder that reads back into an equal :class:`Result` without re-solving.

Every DataFrame field of the dataclass is stored as Parquet (exact floats and dtypes); every
other field (status, objective, summary, violations, timings, ...) in ``result.json``. Fields are
found from the dataclass itself, so tables added to :class:`Result` later are saved too.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocopt.errors import ScenarioError
from allocopt.results.result import Result

FORMAT = "allocopt-result"
VERSION = 1
META = "result.json"


class SavedResultError(ScenarioError):
    """A folder that is not a readable saved result (bad input: the CLI exits with 2)."""


def _plain(value: Any) -> Any:
    """JSON-ready copy of ``value``: numpy scalars as Python numbers, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def save_result(result: Result, folder: str | Path) -> Path:
    """Write ``result`` to ``folder`` (created or replaced whole: files appear all or none)."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        meta: dict[str, Any] = {"format": FORMAT, "version": VERSION, "tables": [], "fields": {}}
        for f in fields(result):
            value = getattr(result, f.name)
            if isinstance(value, pd.DataFrame):
                value.to_parquet(staging / f"{f.name}.parquet", index=False)
                meta["tables"].append(f.name)
            else:
                meta["fields"][f.name] = _plain(value)
        text = json.dumps(meta, indent=2, ensure_ascii=False) + "\n"
        (staging / META).write_text(text, encoding="utf-8")
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


def load_result(folder: str | Path) -> Result:
    """Read a result written by :func:`save_result`; raise :class:`SavedResultError` if the
    folder is missing, of another format or incomplete."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SavedResultError(f"{folder}: not a saved result (no {META})") from None
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
    for name, value in meta["fields"].items():
        values[name] = tuple(value) if isinstance(value, list) else value
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
