"""A sweep through a Dask LocalCluster gives the very table the local run gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocopt import load_scenario
from allocopt.runner import executor
from allocopt.sweep import Parameter, sweep

distributed = pytest.importorskip("distributed")

BASELINE = Path(__file__).resolve().parents[1] / "models" / "magma_baseline.yaml"


def test_dask_local_cluster_matches_local_run():
    baseline = load_scenario(BASELINE)
    params = [
        Parameter.parse("velocity.hit_cap_post_acceleration=0.15:0.35:2"),
        Parameter.parse("budget_multiplier.compute=0.9:1.1:2"),
    ]
    local = sweep(baseline, params, chunk_size=2)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        executor(scheduler=cluster.scheduler_address) as ex,
    ):
        remote = sweep(baseline, params, chunk_size=2, executor=ex)
    assert remote.equals(local)
