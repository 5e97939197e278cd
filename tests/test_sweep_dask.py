"""A sweep through a Dask LocalCluster gives the very table the local run gives."""

from __future__ import annotations

import pytest

from allocopt.analyses.runner import executor
from allocopt.analyses.sweep import Parameter, sweep

distributed = pytest.importorskip("distributed")


def test_dask_local_cluster_matches_local_run(core):
    params = [
        Parameter.parse("velocity.hit_cap_post_acceleration=0.15:0.35:2"),
        Parameter.parse("budget_multiplier.compute=0.9:1.1:2"),
    ]
    local = sweep(core, params, chunk_size=2)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        executor(scheduler=cluster.scheduler_address) as ex,
    ):
        remote = sweep(core, params, chunk_size=2, executor=ex)
    assert remote.equals(local)
