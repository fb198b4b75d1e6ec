"""A pool of Ray actors that each hold one object built from the same recipe.

What the objects are (an LLM backend, a reward model) is the business of their own packages
(``llm/ray_backend.py``, ``rm/on_executor.py``): the pool only builds them, routes calls to
them and hands their errors back.

Errors raised by the held object travel back as values and are re-raised as themselves, so a
call that fails on an actor fails with the same message as it does locally; a Ray wrapper
would add a traceback to the message. Ray restarts a killed actor (re-running the recipe) and
retries its unfinished calls (``max_restarts`` / ``max_task_retries``); preflab writes no
scheduler.
"""

from __future__ import annotations

import inspect
import os
from typing import Any, Callable, Sequence

from preflab.executor.cluster import MAX_RESTARTS, actor_count, actor_threads, connect, limit_threads, ray_module
from preflab.executor.config import Executor, ExecutorError


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


def unwrap(result: tuple[bool, Any]) -> Any:
    """The value of an ``(ok, value)`` answer, or its error raised as itself."""
    ok, value = result
    if not ok:
        raise value
    return value


def _gave_up(exc: BaseException) -> ExecutorError:
    return ExecutorError(f"a Ray actor died {MAX_RESTARTS + 1} times; giving up ({str(exc).splitlines()[0][:200]})")


class ActorPool:
    """``size`` actors each holding ``factory()``; calls go to the actor with the fewest in
    flight. Ray restarts a killed actor (re-running ``factory``) and retries its calls."""

    def __init__(self, factory: Callable[[], Any], executor: Executor) -> None:
        ray = ray_module()
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
            return unwrap(await self._guard(self.actors[i].call.remote(name, *args)))
        finally:
            self.in_flight[i] -= 1

    async def _guard(self, ref: Any) -> Any:
        ray = ray_module()
        try:
            return await ref
        except ray.exceptions.RayActorError as exc:
            raise _gave_up(exc) from None

    def call_all(self, name: str, *args: Any) -> list[Any]:
        """The same call on every actor (their answers, in actor order)."""
        ray = ray_module()
        return [unwrap(r) for r in ray.get([a.call.remote(name, *args) for a in self.actors])]

    def shards(self, name: str, parts: Sequence[tuple]) -> list[Any]:
        """``name(*part)`` for each part, spread over the actors; results in order."""
        ray = ray_module()
        refs = [self.actors[i % self.size].call.remote(name, *part) for i, part in enumerate(parts)]
        try:
            return [unwrap(r) for r in ray.get(refs)]
        except ray.exceptions.RayActorError as exc:
            raise _gave_up(exc) from None

    def ready(self) -> None:
        """Wait until every actor has built its object; raise the first construction error."""
        ray = ray_module()
        for result in ray.get([a.ready.remote() for a in self.actors]):
            unwrap(result)

    def pids(self) -> list[int]:
        ray = ray_module()
        return ray.get([a.pid.remote() for a in self.actors])

    def close(self) -> None:
        ray = ray_module()
        for actor in self.actors:
            ray.kill(actor, no_restart=True)
        self.actors = []
