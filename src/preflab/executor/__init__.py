"""Where the work runs: in this process (``local``) or on Ray (``ray``). Infrastructure only:
this package knows Ray, not what runs on it.

The driver always owns the state: it plans the work exactly as a local run does, answers call-
cache hits itself, and writes the cache, the append-only partial file and the outputs. Only the
work that costs compute leaves the process, through three pieces:

* :mod:`preflab.executor.cluster` joins (or starts) Ray and sizes the actors to it;
* :mod:`preflab.executor.pool` keeps actors that each hold one object built from the same
  recipe and routes calls to them (what they hold, an LLM backend or a reward model, is
  adapted to the pool beside its own code: ``llm/ray_backend.py``, ``rm/on_executor.py``);
* :mod:`preflab.executor.tasks` runs independent calls as one Ray task each (:func:`map_tasks`:
  strength ensemble members).

Ray does the scheduling, restarts a killed actor and retries its unfinished calls
(``max_restarts`` / ``max_task_retries``); preflab writes no scheduler. Each actor limits its
own threads to its CPU share, so actors never oversubscribe a node.

Settings and errors live in :mod:`preflab.executor.config`.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from preflab.executor.config import (
    KINDS,
    ClusterResourcesError,
    ClusterUnreachableError,
    Executor,
    ExecutorError,
)

__all__ = ["KINDS", "ClusterResourcesError", "ClusterUnreachableError", "Executor", "ExecutorError", "map_tasks"]


def map_tasks(fn: Callable[..., Any], calls: Sequence[tuple], executor: Executor | None = None,
              progress: Callable[[int, int], None] | None = None) -> list[Any]:
    """``[fn(*args) for args in calls]``, in order: here, or one Ray task per call (each with
    the executor's CPU/GPU share, retried if its worker dies). ``fn`` must be a pure function
    of its arguments for the two to agree."""
    if executor is not None and executor.is_ray:
        from preflab.executor.tasks import map_remote

        return map_remote(fn, calls, executor, progress)
    out = []
    for args in calls:
        out.append(fn(*args))
        if progress:
            progress(len(out), len(calls))
    return out
