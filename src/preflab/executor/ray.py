"""The Ray executor: a pool of actors that each hold one object (an LLM backend or a reward
model) built from the same recipe, and a backend-shaped proxy in front of them.

Why a proxy backend rather than a Ray pipeline: the driver's :class:`~preflab.llm.client.LLM`
keeps doing everything it does for a local run (the group plan, cache lookups, usage, budgets,
the partial file), and only ``backend.generate`` — a cache miss — crosses to an actor. So the
pairs, the failures and the resume behaviour are those of the local executor by construction,
and each finished sample is cached by the driver the moment it comes back: an actor killed
mid-run loses only its unfinished calls, which Ray retries on the restarted actor.

Errors raised by the held object travel back as values and are re-raised as themselves, so a
prompt that fails on an actor fails with the same message (and the same failures-file line) as
it does locally; a Ray wrapper would add a traceback to the message.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import socket
import sys
import time
from functools import partial
from typing import Any, Callable, Sequence

from preflab.errors import require
from preflab.executor.config import ClusterResourcesError, ClusterUnreachableError, Executor, ExecutorError
from preflab.executor.local import load_scorer_here

#: Ray restarts a dead actor this many times and re-runs its unfinished calls as often.
MAX_RESTARTS = 4
CONNECT_TIMEOUT_S = 3.0
_THREAD_PARAMS = {"llamacpp": "n_threads"}  # backends whose thread count is a spec option


def _ray():
    return require("ray", "ray")


def _host_port(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of a Ray address, or None for the special names (``auto``, ``local``).

    >>> _host_port("ray://10.0.0.5:10001"), _host_port("10.0.0.5:6379"), _host_port("auto")
    (('10.0.0.5', 10001), ('10.0.0.5', 6379), None)
    """
    text = address.split("://", 1)[-1].rstrip("/")
    if text in ("auto", "local") or ":" not in text:
        return None
    host, _, port = text.rpartition(":")
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        return None


def _unreachable(address: str, reason: str) -> ClusterUnreachableError:
    from preflab.redact import redact

    return ClusterUnreachableError(
        f"cannot reach a Ray cluster at {redact(address)} ({reason}); start one with `ray start --head` "
        "and pass the address it prints to --ray-address, or leave --ray-address out to start Ray here")


def start_ray(address: str | None = None, **init: Any) -> None:
    """``ray.init`` as preflab does it: no dashboard, no usage stats, and worker processes at
    the driver's priority. Ray starts its workers at niceness 15 by default (to keep its own
    daemons responsive), which on a machine shared with other jobs starves the actors doing the
    work (seen in ``benchmarks/ray_executor.py`` on this project's shared 2-core machine). A
    cluster started with ``ray start`` keeps its own setting (``RAY_worker_niceness=0 ray start``
    changes it)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_worker_niceness", "0")
    _ray().init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False, **init)


def connect(executor: Executor) -> dict[str, float]:
    """Join (or start) Ray and check the actors fit the cluster; returns its resources. The
    address is probed with a short TCP connect first, so a wrong one fails in seconds."""
    ray = _ray()
    target = _host_port(executor.address) if executor.address else None
    if target is not None:
        try:
            socket.create_connection(target, timeout=CONNECT_TIMEOUT_S).close()
        except OSError as exc:
            raise _unreachable(executor.address, exc.strerror or type(exc).__name__) from None
    if not ray.is_initialized():
        try:
            start_ray(executor.address)
        except (ConnectionError, RuntimeError, TimeoutError) as exc:
            if executor.address:
                raise _unreachable(executor.address, str(exc).splitlines()[0][:200]) from None
            raise ExecutorError(f"could not start a local Ray: {str(exc).splitlines()[0][:200]}") from None
    resources = {k: float(v) for k, v in ray.cluster_resources().items()}
    _check_fits(executor, resources, [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")])
    return resources


def _check_fits(executor: Executor, total: dict[str, float], nodes: list[dict[str, float]]) -> None:
    where = executor.address or "the local Ray"
    for what, per_actor in (("GPU", executor.gpus_per_actor), ("CPU", executor.cpus_per_actor)):
        if per_actor <= 0:
            continue
        largest = max((float(n.get(what, 0)) for n in nodes), default=0.0)
        if per_actor > largest:
            raise ClusterResourcesError(
                f"--ray-{what.lower()}s-per-actor {per_actor:g} is more than any node of {where} has "
                f"(largest: {largest:g} {what}s, cluster total: {total.get(what, 0):g}); lower it or add nodes")
        if executor.actors is not None and executor.actors * per_actor > total.get(what, 0):
            raise ClusterResourcesError(
                f"--ray-actors {executor.actors} × --ray-{what.lower()}s-per-actor {per_actor:g} needs "
                f"{executor.actors * per_actor:g} {what}s; {where} has {total.get(what, 0):g}; use fewer actors")


def actor_count(executor: Executor, resources: dict[str, float]) -> int:
    """``--ray-actors``, else as many actors as the cluster's CPUs (and GPUs) hold."""
    if executor.actors is not None:
        return executor.actors
    fits = [resources.get("CPU", 0) / executor.cpus_per_actor]
    if executor.gpus_per_actor > 0:
        fits.append(resources.get("GPU", 0) / executor.gpus_per_actor)
    return max(1, int(min(fits)))


def actor_threads(executor: Executor) -> int:
    return max(1, int(executor.cpus_per_actor))


def limit_threads(threads: int) -> None:
    """Keep this worker process to its CPU share (OpenMP, BLAS, torch)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


class Holder:
    """Actor body: builds one object with ``factory`` (after limiting threads) and runs its
    methods. Construction errors are kept and returned by every call, so they surface on the
    driver as the original one-line error instead of a dead actor."""

    def __init__(self, factory: Callable[[], Any], threads: int) -> None:
        limit_threads(threads)
        self.obj, self.error = None, None
        try:
            self.obj = factory()
        except Exception as exc:  # noqa: BLE001 - handed to the driver as is
            self.error = exc
        limit_threads(threads)  # torch may have been imported by the factory

    def pid(self) -> int:
        return os.getpid()

    def ready(self) -> tuple[bool, Any]:
        return (False, self.error) if self.error is not None else (True, None)

    async def call(self, name: str, *args: Any) -> tuple[bool, Any]:
        if self.error is not None:
            return False, self.error
        try:
            value = getattr(self.obj, name)(*args)
            if inspect.isawaitable(value):
                value = await value
            return True, value
        except Exception as exc:  # noqa: BLE001 - re-raised on the driver as itself
            return False, exc


def _unwrap(result: tuple[bool, Any]) -> Any:
    ok, value = result
    if not ok:
        raise value
    return value


class ActorPool:
    """``size`` actors each holding ``factory()``; calls go to the actor with the fewest in
    flight. Ray restarts a killed actor (re-running ``factory``) and retries its calls."""

    def __init__(self, factory: Callable[[], Any], executor: Executor) -> None:
        ray = _ray()
        resources = connect(executor)
        self.size = actor_count(executor, resources)
        remote = ray.remote(Holder).options(num_cpus=executor.cpus_per_actor, num_gpus=executor.gpus_per_actor,
                                            max_restarts=MAX_RESTARTS, max_task_retries=MAX_RESTARTS,
                                            max_concurrency=1000)
        threads = actor_threads(executor)
        self.actors = [remote.remote(factory, threads) for _ in range(self.size)]
        self.in_flight = [0] * self.size

    def _pick(self) -> int:
        return min(range(self.size), key=lambda i: self.in_flight[i])

    async def call(self, name: str, *args: Any) -> Any:
        i = self._pick()
        self.in_flight[i] += 1
        try:
            return _unwrap(await self._guard(self.actors[i].call.remote(name, *args)))
        finally:
            self.in_flight[i] -= 1

    async def _guard(self, ref: Any) -> Any:
        ray = _ray()
        try:
            return await ref
        except ray.exceptions.RayActorError as exc:
            raise ExecutorError(f"a Ray actor died {MAX_RESTARTS + 1} times; giving up "
                                f"({str(exc).splitlines()[0][:200]})") from None

    def call_all(self, name: str, *args: Any) -> list[Any]:
        """The same call on every actor (their answers, in actor order)."""
        ray = _ray()
        return [_unwrap(r) for r in ray.get([a.call.remote(name, *args) for a in self.actors])]

    def shards(self, name: str, parts: Sequence[tuple]) -> list[Any]:
        """``name(*part)`` for each part, spread over the actors; results in order."""
        ray = _ray()
        refs = [self.actors[i % self.size].call.remote(name, *part) for i, part in enumerate(parts)]
        try:
            return [_unwrap(r) for r in ray.get(refs)]
        except ray.exceptions.RayActorError as exc:
            raise ExecutorError(f"a Ray actor died {MAX_RESTARTS + 1} times; giving up "
                                f"({str(exc).splitlines()[0][:200]})") from None

    def ready(self) -> None:
        """Wait until every actor has built its object; raise the first construction error."""
        ray = _ray()
        for result in ray.get([a.ready.remote() for a in self.actors]):
            _unwrap(result)

    def pids(self) -> list[int]:
        ray = _ray()
        return ray.get([a.pid.remote() for a in self.actors])

    def close(self) -> None:
        ray = _ray()
        for actor in self.actors:
            ray.kill(actor, no_restart=True)
        self.actors = []


# -- LLM backends on actors -------------------------------------------------------------------
def spec_with_threads(spec: str | dict, threads: int) -> str:
    """The spec an actor builds: its backend's thread option set to the actor's CPU share
    unless the user set it.

    >>> spec_with_threads("llamacpp#batch=4", 1)
    'llamacpp#batch=4&n_threads=1'
    >>> spec_with_threads("llamacpp#n_threads=3", 1), spec_with_threads("fake", 2)
    ('llamacpp#n_threads=3', 'fake')
    """
    from preflab.llm.spec import BackendSpec, parse_spec

    parsed = parse_spec(spec)
    key = _THREAD_PARAMS.get(parsed.kind)
    if key is None or key in parsed.params:
        return str(parsed)
    return str(BackendSpec(parsed.kind, parsed.target, {**parsed.params, key: str(threads)}))


def _describe(backend: Any) -> dict[str, Any]:
    from preflab.llm.base import GroupBackend

    return {"kind": backend.kind, "model_id": backend.model_id, "max_concurrency": int(backend.max_concurrency),
            "supports_loglikelihood": bool(backend.supports_loglikelihood),
            "batching": dict(getattr(backend, "batching", {"batch": 1})), "group": isinstance(backend, GroupBackend)}


class _BackendHolder:
    """What an LLM actor holds: the backend and a description of it for the driver."""

    def __init__(self, spec: str) -> None:
        from preflab.llm.spec import create_backend

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


# -- reward models on actors ------------------------------------------------------------------
class RayScorer:
    """A :class:`~preflab.rm.scorer.Scorer` whose ``score_many`` splits the items into one
    contiguous shard per actor (each actor holds the reward model) and joins the rewards."""

    def __init__(self, model: str, executor: Executor, *, batch_size: int = 16, normalize: bool = False,
                 sort: bool = True) -> None:
        self.pool = ActorPool(partial(load_scorer_here, str(model), batch_size, normalize, sort), executor)
        try:
            self.pool.ready()  # a model that cannot load fails here, before any work
        except BaseException:
            self.pool.close()
            raise

    def score_many(self, items: Sequence[tuple]) -> list[float]:
        items = list(items)
        if not items:
            return []
        size = -(-len(items) // self.pool.size)
        parts = [(items[a:a + size],) for a in range(0, len(items), size)]
        return [v for part in self.pool.shards("score_many", parts) for v in part]

    def score(self, prompt, responses) -> list[float]:
        return self.score_many([(prompt, r) for r in responses])

    def close(self) -> None:
        self.pool.close()


# -- independent tasks ------------------------------------------------------------------------
def _run_limited(fn: Callable[..., Any], threads: int, args: tuple) -> tuple[bool, Any]:
    limit_threads(threads)
    import importlib.util

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
    ray = _ray()
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
    return [_unwrap(r) for r in ray.get(refs)]
