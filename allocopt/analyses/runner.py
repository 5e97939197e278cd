"""Run many independent jobs (sweep points, Monte Carlo draws) through a concurrent.futures Executor.

Local processes by default, a Dask distributed cluster when given a scheduler address: a cluster
is a flag, not a rewrite. Jobs and their results must be plain, picklable data (e.g. a scenario's
``model_dump()`` and tidy rows), never Pyomo or HiGHS objects.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import TypeVar

from tqdm import tqdm

CONNECT_TIMEOUT = "10s"  # to reach a Dask scheduler before giving up with OSError
T = TypeVar("T")
R = TypeVar("R")


def run_many(
    items: Sequence[T],
    fn: Callable[[T], R],
    executor: Executor | None = None,
    progress: bool = False,
    size: Callable[[T], int] | None = None,
) -> list[R]:
    """``[fn(item) for item in items]``, through ``executor`` when given (else in this process),
    in the order of ``items``; ``progress`` shows a bar counting ``size(item)`` units per item."""
    bar = tqdm(
        total=sum(map(size, items)) if size else len(items),
        disable=not progress,
        unit="point" if size else "job",
        dynamic_ncols=True,
    )
    with bar:
        if executor is None:
            out = []
            for item in items:
                out.append(fn(item))
                bar.update(size(item) if size else 1)
            return out
        futures = {executor.submit(fn, item): n for n, item in enumerate(items)}
        results: list = [None] * len(items)
        for future in as_completed(futures):
            n = futures[future]
            results[n] = future.result()
            bar.update(size(items[n]) if size else 1)
        return results


class SchedulerUnreachable(OSError):
    """The Dask scheduler at ``address`` could not be reached; ``str()`` says why."""

    def __init__(self, address: str, reason: OSError) -> None:
        super().__init__(str(reason))
        self.address = address


@contextmanager
def executor(workers: int = 1, scheduler: str | None = None) -> Iterator[Executor | None]:
    """The executor of a run: ``None`` (this process) for one local worker, a pool of ``workers``
    spawned processes, or the executor of the Dask cluster at ``scheduler``
    (:class:`SchedulerUnreachable`, an OSError, when it cannot be reached)."""
    if scheduler:
        from distributed import Client

        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except OSError as exc:
            raise SchedulerUnreachable(scheduler, exc) from exc
        with client:
            yield client.get_executor()
    elif workers <= 1:
        yield None
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            yield pool
