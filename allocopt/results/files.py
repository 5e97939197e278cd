"""Atomic file writes: an interrupted run leaves the old file or none, never half of a new one;
a run's folder that holds only what that run wrote, named in its manifest; and the check, before
any work, that an output path can be written at all."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"  # in a run's folder: the scenario and every file the run wrote
MANIFEST_FORMAT = "allocopt-run"


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


def staging_folder(folder: str | Path) -> Path:
    """A new empty folder beside ``folder`` to stage its files in, with the permissions an
    ordinary new folder would get (the umask's), not a temporary folder's private 0700: a
    staging folder swapped in whole (:func:`allocopt.results.store.save_result`) keeps them."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    staging.chmod(0o777 & ~_umask())
    return staging


def _files_in(folder: Path) -> list[str]:
    """Every file below ``folder`` as a relative POSIX path ("figures/knobs.png"), sorted."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir())


def _move_in(staging: Path, folder: Path, names: list[str]) -> list[Path]:
    """Move the files ``names`` (relative paths) of ``staging`` into ``folder``, creating
    subfolders as ordinary folders; return their new paths."""
    written = []
    for name in names:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / name, target)
        written.append(target)
    return written


def write_folder(folder: str | Path, fill: Callable[[Path], object]) -> list[Path]:
    """Let ``fill(staging)`` write files into a temporary folder beside ``folder``, then move each
    into ``folder`` beside whatever it holds: every file appears whole or not at all. Returns the
    paths written. (A command's output folder goes through :func:`write_run` instead.)"""
    folder = Path(folder)
    staging = staging_folder(folder)
    try:
        fill(staging)
        folder.mkdir(exist_ok=True)
        return _move_in(staging, folder, _files_in(staging))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_run(folder: str | Path, scenario: str, fill: Callable[[Path], object]) -> list[Path]:
    """Let ``fill(staging)`` write a run's files (subfolders too) into a temporary folder beside
    ``folder``, then make ``folder`` hold them: the files an earlier run listed in ``folder``'s
    :data:`MANIFEST` are removed (and the subfolders they leave empty), the new files moved in
    (each whole or not at all), and the manifest written last, naming ``scenario`` and every file
    by its path in the folder. Files no allocopt run listed (yours, or from a run before
    manifests) are left in place with a logged warning naming them. Every command that writes a
    folder (``solve``, ``sweep``, ``outcomes``, ``report``) writes it through here. Returns the
    paths written, the manifest last."""
    folder = Path(folder)
    staging = staging_folder(folder)
    try:
        fill(staging)
        names = _files_in(staging)
        folder.mkdir(exist_ok=True)
        for name in _listed(folder):
            _remove(folder, name)
        foreign = _foreign(folder, names)
        if foreign:
            logger.warning(
                "%s holds files this run of '%s' did not write (left in place): %s",
                folder,
                scenario,
                ", ".join(foreign),
            )
        written = _move_in(staging, folder, names)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    manifest = {"format": MANIFEST_FORMAT, "scenario": scenario, "files": names}
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    written.append(atomic_write(folder / MANIFEST, lambda tmp: tmp.write_text(text, "utf-8")))
    return written


def _foreign(folder: Path, names: list[str]) -> list[str]:
    """What ``folder`` holds beside ``names`` (relative paths) and the manifest, looked for only
    where the run writes (the folder and the subfolders of ``names``, not below: ``--out`` may
    be a large folder of the user's): relative paths, a subfolder of the user's ending in "/"."""
    places = {parent.as_posix() for n in names for parent in PurePosixPath(n).parents}
    places.add(".")
    mine = {*names, MANIFEST}
    out = []
    for place in sorted(places):
        for entry in sorted((folder / place).iterdir()) if (folder / place).is_dir() else ():
            rel = PurePosixPath(place, entry.name).as_posix()
            if entry.is_dir() and not entry.is_symlink():
                if rel not in places:
                    out.append(rel + "/")
            elif rel not in mine:
                out.append(rel)
    return sorted(out)


def _remove(folder: Path, name: str) -> None:
    """Remove file ``name`` of ``folder`` (a relative path) and the subfolders it leaves empty."""
    path = folder / name
    if path.is_dir() and not path.is_symlink():
        return
    path.unlink(missing_ok=True)
    for parent in path.parents:
        if parent == folder or not parent.is_dir() or any(parent.iterdir()):
            break
        parent.rmdir()


def _listed(folder: Path) -> list[str]:
    """The files :data:`MANIFEST` in ``folder`` names (none when it is absent or not
    allocopt's); only relative paths inside the folder, so a manifest cannot point outside it."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        return []
    files = manifest.get("files")
    if not isinstance(files, list):
        return []
    return [f for f in files if isinstance(f, str) and _inside(f)]


def _inside(name: str) -> bool:
    """Whether ``name`` is a plain relative path (no root, drive, "..", "." or empty part)."""
    parts = name.split("/")
    return all(part not in ("", ".", "..") and "\\" not in part for part in parts) and not (
        Path(name).is_absolute() or Path(name).drive
    )


def check_writable(path: str | Path, *, folder: bool = True) -> Path:
    """Raise OSError naming the path in the way (``filename``) unless ``path`` can be written: a
    folder (``folder=True``; files are staged beside it) or a file, absent or existing as such,
    whose closest existing ancestor is a writable folder. Creates nothing, so call it before long
    work whose output goes to ``path``: a bad ``--out`` fails at once and leaves no trace."""
    path = Path(path)
    if path.exists() and path.is_dir() != folder:
        code = errno.EEXIST if folder else errno.EISDIR
        raise (FileExistsError if folder else IsADirectoryError)(code, os.strerror(code), str(path))
    parent = path.absolute().parent
    existing = next(p for p in (parent, *parent.parents) if p.exists())
    if not existing.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(existing))
    for place in (existing, *([path] if path.is_dir() else [])):
        if not os.access(place, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(place))
    return path
