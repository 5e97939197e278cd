"""A test hook that makes the first job of a run finish last, in whatever process it runs.

:func:`last_first` wraps :func:`allocopt.analyses.runner.run_many`: the first job waits until the
last has finished, and every job leaves a file named by its index holding the time it finished
(ns) and its process id, so a test can check both that the jobs finished out of order and that
the results still come back in the order of the jobs. Everything crosses to worker processes by
pickling (module-level functions and plain data), so the hook works on a process pool and on a
Dask cluster alike; it needs at least two workers, or the first job waits out
:data:`WAIT_SECONDS` and fails.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from allocopt.analyses import runner

WAIT_SECONDS = 120.0


def _finish_last_first(fn: Callable, folder: Path, order: dict[str, int], item: Any) -> Any:
    n = order[repr(item)]
    if n == 0:
        last = folder / str(len(order) - 1)
        deadline = time.monotonic() + WAIT_SECONDS
        while not last.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {len(order) - 1} never finished: fewer than 2 workers?")
            time.sleep(0.02)
    out = fn(item)
    time.sleep(0.01)  # distinct finishing times even on a coarse clock
    (folder / str(n)).write_text(f"{time.time_ns()} {os.getpid()}", encoding="utf-8")
    return out


def last_first(folder: Path) -> Callable:
    """A drop-in for ``run_many`` whose first job finishes after its last (files in ``folder``)."""

    def run_many(items, fn, *args, **kwargs):
        order = {repr(item): n for n, item in enumerate(items)}
        assert len(order) == len(items) >= 2, "the hook needs two or more distinct jobs"
        hooked = functools.partial(_finish_last_first, fn, folder, order)
        return runner.run_many(items, hooked, *args, **kwargs)

    return run_many


def finished(folder: Path) -> tuple[list[int], set[int]]:
    """Job indices in the order they finished, and the ids of the processes that ran them."""
    marks = {int(p.name): p.read_text(encoding="utf-8").split() for p in folder.iterdir()}
    order = sorted(marks, key=lambda n: int(marks[n][0]))
    return order, {int(pid) for _, pid in marks.values()}
