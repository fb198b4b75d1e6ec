"""One real single-node Ray for every executor test (it starts once per session: ~20 s here)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def ray_cluster():
    ray = pytest.importorskip("ray")
    from preflab.executor.cluster import start_ray

    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    started = not ray.is_initialized()
    if started:
        start_ray(num_cpus=2)  # ray.init(num_cpus=2, include_dashboard=False), usage stats off
    yield ray
    if started:
        ray.shutdown()
