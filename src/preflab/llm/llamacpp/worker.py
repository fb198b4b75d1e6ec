"""The one thread that calls llama.cpp for the model's whole life, and the queue of samples the
batched decoder takes from.

Why one thread: calls from several threads drop llama.cpp to ~65% speed and it stays slow, so
every call that touches the model (loading, decoding, scoring) runs on this thread and
coroutines await it. With ``#batch`` > 1 the samples of all calls in flight queue here and one
drain of the batched decoder serves them all (:mod:`preflab.llm.llamacpp.batch`).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from preflab.llm.base import Completion, Options
from preflab.llm.llamacpp.batch import Job
from preflab.records import Message

log = logging.getLogger(__name__)


class Worker:
    """A single worker thread plus the queue of batched samples waiting for it."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="preflab-llamacpp")
        self._jobs: collections.deque[Job] = collections.deque()
        self._jobs_lock = threading.Lock()
        self._decoding = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        return self._thread.submit(fn, *args)

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` on the worker thread, awaited."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    async def queue(self, messages: list[Message], options: Options, seed: int | None,
                    decode: Callable[[], None]) -> Completion:
        """Queue one sample for the batched decoder and await it; ``decode()`` (run on the
        worker thread) decodes until nothing is queued or in flight."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()

        def done(result: Completion | BaseException) -> None:  # on the worker thread
            try:
                loop.call_soon_threadsafe(_settle, future, result)
            except RuntimeError:  # the loop is closed: its caller was cancelled and is gone
                pass

        with self._jobs_lock:
            self._jobs.append(Job(messages, options, seed, done))
            start, self._decoding = not self._decoding, True
        if start:
            self._thread.submit(self._drain, decode)
        return await future

    def next_job(self) -> Job | None:
        """The next queued sample, or None (thread-safe: the decoder's ``source``)."""
        with self._jobs_lock:
            return self._jobs.popleft() if self._jobs else None

    def _drain(self, decode: Callable[[], None]) -> None:
        """Worker thread: run the batch decoder until no call is queued or decoding."""
        while True:
            try:
                decode()
            except BaseException as exc:  # fail what waits too, then stop
                while (job := self.next_job()) is not None:
                    job.done(exc)
                log.exception("batched decoding failed")
            with self._jobs_lock:
                if not self._jobs:
                    self._decoding = False
                    return

    def shutdown(self, wait: bool = True) -> None:
        self._thread.shutdown(wait=wait)


def _settle(future: asyncio.Future, result: Completion | BaseException) -> None:
    if not future.done():  # a cancelled caller has gone away
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
