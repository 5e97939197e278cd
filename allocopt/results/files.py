"""Atomic file writes: an interrupted run leaves the old file or none, never half of a new one."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path`` (with
    the permissions an ordinary new file would get, not the temporary file's private ones)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        tmp.chmod(0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_folder(folder: str | Path, fill: Callable[[Path], object]) -> list[Path]:
    """Let ``fill(staging)`` write files into a temporary folder beside ``folder``, then move each
    into ``folder``: every file appears whole or not at all. Returns the paths written."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        fill(staging)
        folder.mkdir(exist_ok=True)
        written = []
        for path in sorted(staging.iterdir()):
            os.replace(path, folder / path.name)
            written.append(folder / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written
