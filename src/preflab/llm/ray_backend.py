"""A backend whose calls run on a pool of Ray actors that each build the same backend spec.

Why a proxy backend rather than a Ray pipeline: the driver's :class:`~preflab.llm.client.LLM`
keeps doing everything it does for a local run (the group plan, cache lookups, usage, budgets,
the partial file), and only ``backend.generate`` — a cache miss — crosses to an actor. So the
pairs, the failures and the resume behaviour are those of the local executor by construction,
and each finished sample is cached by the driver the moment it comes back: an actor killed
mid-run loses only its unfinished calls, which Ray retries on the restarted actor.

A backend error raised on an actor is re-raised on the driver as itself
(:mod:`preflab.executor.pool`), so a prompt that fails there fails with the same message (and
the same failures-file line) as it does locally.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Any

from preflab.executor.cluster import actor_threads
from preflab.executor.config import Executor
from preflab.executor.pool import ActorPool
from preflab.llm.base import GroupBackend
from preflab.llm.spec import BackendSpec, create_backend, parse_spec

_THREAD_PARAMS = {"llamacpp": "n_threads"}  # backends whose thread count is a spec option


def spec_with_threads(spec: str | dict, threads: int) -> str:
    """The spec an actor builds: its backend's thread option set to the actor's CPU share
    unless the user set it.

    >>> spec_with_threads("llamacpp#batch=4", 1)
    'llamacpp#batch=4&n_threads=1'
    >>> spec_with_threads("llamacpp#n_threads=3", 1), spec_with_threads("fake", 2)
    ('llamacpp#n_threads=3', 'fake')
    """
    parsed = parse_spec(spec)
    key = _THREAD_PARAMS.get(parsed.kind)
    if key is None or key in parsed.params:
        return str(parsed)
    return str(BackendSpec(parsed.kind, parsed.target, {**parsed.params, key: str(threads)}))


def _describe(backend: Any) -> dict[str, Any]:
    return {"kind": backend.kind, "model_id": backend.model_id, "max_concurrency": int(backend.max_concurrency),
            "supports_loglikelihood": bool(backend.supports_loglikelihood),
            "batching": dict(getattr(backend, "batching", {"batch": 1})), "group": isinstance(backend, GroupBackend)}


class _BackendHolder:
    """What an LLM actor holds: the backend and a description of it for the driver."""

    def __init__(self, spec: str) -> None:
        self.backend = create_backend(spec)

    def describe(self) -> dict[str, Any]:
        return _describe(self.backend)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


class RayBackend:
    """A :class:`~preflab.llm.base.Backend` whose calls run on a pool of actors. ``kind`` and
    ``model_id`` are those of the real backend, so the cache keys equal a local run's."""

    def __init__(self, pool: ActorPool, info: dict[str, Any], executor: Executor) -> None:
        self.pool, self.executor = pool, executor
        self.kind, self.model_id = info["kind"], info["model_id"]
        self.supports_loglikelihood = info["supports_loglikelihood"]
        self.max_concurrency = info["max_concurrency"] * pool.size
        self.batching = {**info["batching"], "executor": "ray", "actors": pool.size,
                         "threads_per_actor": actor_threads(executor)}

    async def generate(self, messages, options, seed):
        return await self.pool.call("generate", messages, options, seed)

    async def loglikelihood(self, messages, responses):
        return await self.pool.call("loglikelihood", messages, responses)

    async def aclose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.pool.close)


class RayGroupBackend(RayBackend):
    """The proxy of a :class:`~preflab.llm.base.GroupBackend`: the plan is asked of one actor
    (it is a pure function of the samples); each group is decoded whole on one actor."""

    async def plan(self, items):
        return await self.pool.call("plan", items)

    async def generate_group(self, items):
        return await self.pool.call("generate_group", items)


def ray_backend(spec: str | dict, executor: Executor) -> RayBackend:
    """A proxy backend for ``spec`` on ``executor``'s actors (each builds the backend with its
    thread count set to its CPU share). Fails before any work if the cluster cannot be reached,
    the actors do not fit, or the backend cannot be built."""
    started = time.perf_counter()
    pool = ActorPool(partial(_BackendHolder, spec_with_threads(spec, actor_threads(executor))), executor)
    try:
        info = pool.call_all("describe")[0]
    except BaseException:
        pool.close()
        raise
    backend = (RayGroupBackend if info["group"] else RayBackend)(pool, info, executor)
    backend.startup_s = time.perf_counter() - started
    return backend
