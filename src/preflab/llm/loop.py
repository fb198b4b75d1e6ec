"""The bridge between callers and the backends' coroutines: one private asyncio loop on a
daemon thread, started on first use, and the bound on calls in flight that lives on it.

Why a private loop: sync calls (:meth:`LLM.complete <preflab.llm.client.LLM.complete>`) and
async calls (from any event loop) both run the backend's coroutines there, so an HTTP client
pool or a model worker thread is only ever touched from one loop. An LLM and its views
(:meth:`~preflab.llm.client.LLM.with_method`) share one bridge.

Why closing cancels first: a caller stopped by Ctrl-C (or any error) leaves its calls running
on the loop. :meth:`LoopBridge.close` cancels every task still there and waits for them to
finish before it releases the backend and stops the loop, so nothing is destroyed while
pending ("Task was destroyed but it is pending!") and no callback reaches a closed loop
("Event loop is closed").

>>> bridge = LoopBridge()
>>> async def two(): return 2
>>> bridge.run(two())
2
>>> bridge.close(two)
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable, Coroutine, TypeVar

T = TypeVar("T")


class LoopThread:
    """An event loop running forever on a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="preflab-llm-loop", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def arun(self, coro: Coroutine[Any, Any, T]) -> T:
        if asyncio.get_running_loop() is self.loop:
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        if not self.thread.is_alive():
            self.loop.close()


class LoopBridge:
    """The loop thread (made on first use, again after :meth:`close`) and the semaphore that
    bounds calls in flight (made on the loop, on first use)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: LoopThread | None = None
        self._slots: asyncio.Semaphore | None = None

    def thread(self) -> LoopThread:
        with self._lock:
            if self._thread is None:
                self._thread = LoopThread()
            return self._thread

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait for it (from a thread that is not the loop's)."""
        return self.thread().run(coro)

    async def arun(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` run on the loop, from any event loop."""
        return await self.thread().arun(coro)

    def slots(self, limit: int) -> asyncio.Semaphore:
        """The bound on calls in flight, ``limit`` wide; call it on the loop."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(max(1, int(limit)))
        return self._slots

    def close(self, last: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """If the loop was started: cancel the calls still running there and wait for them,
        run ``last()`` (releasing what lives there), then stop the loop."""
        thread = self._thread
        if thread is None:
            return
        try:
            thread.run(_cancel_others())
            thread.run(last())
        finally:
            thread.stop()
            self._thread = None


async def _cancel_others() -> None:
    """Cancel every other task on the running loop and wait until they have all ended."""
    me = asyncio.current_task()
    while True:
        others = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
        if not others:
            return
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
