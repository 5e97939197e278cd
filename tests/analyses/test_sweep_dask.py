"""A sweep through a Dask LocalCluster of worker processes gives the very table the local run
gives, in point order, whatever order the points finish in."""

from __future__ import annotations

import importlib
import os

import pytest

from allocopt.analyses.runner import executor
from allocopt.analyses.sweep import Parameter, sweep
from tests.analyses.finish_order import finished, last_first

distributed = pytest.importorskip("distributed")
sweep_module = importlib.import_module("allocopt.analyses.sweep")


def test_dask_local_cluster_matches_local_run(core, tmp_path, monkeypatch):
    """Two worker processes; the first chunk (points 0-2) finishes after the second (3-4)."""
    first_year = core.with_updates({"horizon.end": "2025Q4"})
    params = [
        Parameter.parse("velocity.hit_cap_post_acceleration=0.15:0.35:2"),
        Parameter.parse("budget_multiplier.compute=0.9:1.1:2"),
    ]
    local = sweep(first_year, params, chunk_size=3)
    monkeypatch.setattr(sweep_module, "run_many", last_first(tmp_path))
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        executor(scheduler=cluster.scheduler_address) as ex,
    ):
        remote = sweep(first_year, params, chunk_size=3, executor=ex)
    order, pids = finished(tmp_path)
    assert order == [1, 0]
    assert len(pids) == 2
    assert os.getpid() not in pids
    assert remote.equals(local)
    assert remote.point.tolist() == [0, 1, 2, 3, 4]
    assert remote.varied.tolist()[0] == "base"
    assert (remote.status == "optimal").all()
