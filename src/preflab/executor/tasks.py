"""Independent calls as Ray tasks (one each, with the executor's CPU/GPU share): what
:func:`preflab.executor.map_tasks` runs when the executor is Ray."""

from __future__ import annotations

import importlib.util
from typing import Any, Callable, Sequence

from preflab.executor.cluster import MAX_RESTARTS, actor_threads, connect, limit_threads, ray_module
from preflab.executor.config import Executor
from preflab.executor.pool import unwrap


def _run_limited(fn: Callable[..., Any], threads: int, args: tuple) -> tuple[bool, Any]:
    limit_threads(threads)
    if importlib.util.find_spec("torch") is not None:  # members train with torch: one share each
        import torch

        torch.set_num_threads(threads)
    try:
        return True, fn(*args)
    except Exception as exc:  # noqa: BLE001 - re-raised on the driver as itself
        return False, exc


def map_remote(fn: Callable[..., Any], calls: Sequence[tuple], executor: Executor,
               progress: Callable[[int, int], None] | None = None) -> list[Any]:
    """One Ray task per call (retried if its worker dies); results in call order."""
    ray = ray_module()
    connect(executor)
    task = ray.remote(_run_limited).options(num_cpus=executor.cpus_per_actor, num_gpus=executor.gpus_per_actor,
                                            max_retries=MAX_RESTARTS)
    threads = actor_threads(executor)
    refs = [task.remote(fn, threads, tuple(args)) for args in calls]
    pending, done = list(refs), 0
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        done += len(ready)
        if progress:
            progress(done, len(refs))
    return [unwrap(r) for r in ray.get(refs)]
