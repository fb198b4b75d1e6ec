"""The client every method calls: one backend plus the cache, usage, budgets and concurrency.

Why a client around the backend instead of features in each backend: caching, seeding of the
``n`` samples, budgets and in-flight limits must behave the same for llama.cpp, a remote
server and transformers, and they are where the subtle bugs live (a cached failure, a budget
checked after the bill, a seed shared by all samples). Backends stay small.

This module is the public face and the path of one prompt's samples; the parts each have their
own module: the private event loop (:mod:`preflab.llm.loop`), the cache keys, lookups, stores
and usage counts (:mod:`preflab.llm.ledger`), whole groups for batch-dependent backends
(:mod:`preflab.llm.groups`), a batch's failures as one error (:mod:`preflab.llm.failures`) and
log-likelihoods (:mod:`preflab.llm.loglikelihoods`). A cache hit in a sync call is answered in
the caller's thread without the hop to the loop (reruns of finished work are the hot path).

    llm = open_llm("llamacpp", cache=True)
    outs = llm.complete("Name a colour.", n=3, temperature=0.8, method="west-of-n")
    llm.loglikelihoods("Name a colour.", [o.text for o in outs])
    llm.usage.summary()
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Sequence

from preflab.llm.base import Backend, Completion, GroupBackend, LogLikelihood, Options, Request, as_messages
from preflab.llm.cache import CallCache, default_cache_path
from preflab.llm.failures import raise_first_failure
from preflab.llm.groups import Job, complete_grouped
from preflab.llm.ledger import SAMPLE, Ledger
from preflab.llm.loglikelihoods import score_responses
from preflab.llm.loop import LoopBridge, LoopThread
from preflab.llm.spec import create_backend
from preflab.llm.usage import Usage
from preflab.records import Message


class LLM:
    """A backend with a call cache, usage accounting and a bound on calls in flight."""

    def __init__(self, backend: Backend, *, cache: CallCache | None = None, usage: Usage | None = None,
                 method: str | None = None, spec: str | None = None) -> None:
        self.backend, self.cache, self.method = backend, cache, method
        self.usage = usage if usage is not None else Usage()
        self.usage.require_price(backend.model_id)  # a cost budget that cannot price the calls never stops
        self.spec = spec or backend.kind
        self._bridge = LoopBridge()

    # -- properties and views -------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.backend.kind

    @property
    def model_id(self) -> str:
        return self.backend.model_id

    @property
    def batching(self) -> dict[str, Any]:
        """How the backend batches, for run.json: sequences in flight and how groups form."""
        return dict(getattr(self.backend, "batching", {"batch": 1}))

    def with_method(self, method: str) -> "LLM":
        """The same backend, cache, usage and loop, counting usage under ``method``."""
        view = LLM.__new__(LLM)
        view.__dict__.update(self.__dict__)
        view.method = method
        return view

    def _loop(self) -> LoopThread:
        return self._bridge.thread()

    def _semaphore(self) -> asyncio.Semaphore:
        return self._bridge.slots(self.backend.max_concurrency)  # created on the private loop, lazily

    def _ledger(self) -> Ledger:
        """This view's cache and usage (read at each call: a view may be given its own)."""
        return Ledger(self.cache, self.usage, self.kind, self.model_id)

    @staticmethod
    def options(options: Options | dict | None = None, **overrides: Any) -> Options:
        """Options from an object, a dict and/or keyword overrides (unknown keys fail)."""
        base = options.model_dump() if isinstance(options, Options) else dict(options or {})
        return Options.model_validate({**base, **overrides})

    # -- completion -------------------------------------------------------------------------
    async def _sample(self, messages: list[Message], options: Options, index: int, method: str | None) -> Completion:
        ledger = self._ledger()
        request = ledger.sample_request(messages, options, index)
        key, hit = ledger.lookup(request, SAMPLE, method)
        if hit is not None:
            return hit
        self.usage.check_budget()
        async with self._semaphore():
            self.usage.check_budget()  # a budget may have run out while this call waited
            started = time.perf_counter()
            completion = await self.backend.generate(messages, options, request["seed"])
        return ledger.store_sample(key, request, completion, started, method)

    async def _complete(self, messages: list[Message], options: Options, method: str | None) -> list[Completion]:
        if isinstance(self.backend, GroupBackend):
            (result,) = await self._complete_grouped([(messages, options, method)])
            if isinstance(result, BaseException):
                raise result
            return result
        return list(await asyncio.gather(*(self._sample(messages, options, i, method) for i in range(options.n))))

    async def _complete_grouped(self, jobs: list[Job]) -> list[Any]:
        return await complete_grouped(self.backend, self._ledger(), self._semaphore(), jobs)

    def _cached_all(self, messages: list[Message], options: Options, method: str | None,
                    record: bool = True) -> list[Completion] | None:
        if self.cache is None:
            return None
        ledger, found = self._ledger(), []
        for i in range(options.n):
            _, hit = ledger.lookup(ledger.sample_request(messages, options, i), SAMPLE, method, record=False)
            if hit is None:
                return None  # the misses go through _sample, which re-reads the hits (cheap)
            found.append(hit)
        if record:
            for hit in found:
                ledger.count(hit, SAMPLE, method, cached=True)
        return found

    def complete(self, messages: Sequence[Message] | Sequence[dict] | str, options: Options | dict | None = None,
                 *, method: str | None = None, **overrides: Any) -> list[Completion]:
        """``options.n`` completions of one prompt (sample i seeded with ``sample_seed(seed, i)``)."""
        msgs, opts, method = as_messages(messages), self.options(options, **overrides), method or self.method
        hits = self._cached_all(msgs, opts, method)
        if hits is not None:
            return hits
        return self._bridge.run(self._complete(msgs, opts, method))

    async def acomplete(self, messages: Sequence[Message] | Sequence[dict] | str, options: Options | dict | None = None,
                        *, method: str | None = None, **overrides: Any) -> list[Completion]:
        """Async :meth:`complete`: await it from any event loop; many may be in flight."""
        msgs, opts, method = as_messages(messages), self.options(options, **overrides), method or self.method
        return await self._bridge.arun(self._complete(msgs, opts, method))

    def _normalise(self, requests: Sequence[Request | tuple]) -> list[Job]:
        out = []
        for r in requests:
            r = r if isinstance(r, Request) else Request(*r)
            out.append((as_messages(r.messages), self.options(r.options), r.method or self.method))
        return out

    async def _complete_many(self, jobs: list[Job], return_exceptions: bool, already_done: int = 0) -> list[Any]:
        if isinstance(self.backend, GroupBackend):  # groups across the prompts of this batch
            results = await self._complete_grouped(jobs)
        else:
            results = await asyncio.gather(*(self._complete(*job) for job in jobs), return_exceptions=True)
        if not return_exceptions:
            raise_first_failure(results, already_done)
        return results

    def complete_many(self, requests: Sequence[Request | tuple], *, return_exceptions: bool = False) -> list[Any]:
        """Complete many prompts with up to ``backend.max_concurrency`` calls in flight.

        Returns one list of completions per request, in order. Every call that finishes is
        cached even when others fail; with ``return_exceptions=True`` a failed request's slot
        holds its exception (keep the finished work, report the rest), else the first error
        is raised after all calls settle (a budget stop says how many prompts finished).
        Fully cached requests are answered in the caller's thread.
        """
        jobs = self._normalise(requests)
        grouped = isinstance(self.backend, GroupBackend)  # its plan needs every request, cached or not
        results: list[Any] = [self._cached_all(*job, record=not grouped) for job in jobs]
        if grouped and any(r is None for r in results):
            results = [None] * len(jobs)
        elif grouped:
            ledger = self._ledger()
            for job, hits in zip(jobs, results):
                for hit in hits:
                    ledger.count(hit, SAMPLE, job[2], cached=True)
        todo = [i for i, r in enumerate(results) if r is None]
        if todo:
            fresh = self._bridge.run(self._complete_many([jobs[i] for i in todo], return_exceptions, len(jobs) - len(todo)))
            for i, r in zip(todo, fresh):
                results[i] = r
        return results

    async def acomplete_many(self, requests: Sequence[Request | tuple], *, return_exceptions: bool = False) -> list[Any]:
        return await self._bridge.arun(self._complete_many(self._normalise(requests), return_exceptions))

    # -- log-likelihood ---------------------------------------------------------------------
    async def _loglikelihoods(self, messages: list[Message], responses: list[str], method: str | None) -> list[LogLikelihood]:
        return await score_responses(self.backend, self._ledger(), self._semaphore(), messages, responses, method)

    def loglikelihoods(self, messages: Sequence[Message] | Sequence[dict] | str, responses: Sequence[str], *,
                       method: str | None = None) -> list[LogLikelihood]:
        """log π(response | messages) for several responses to one prompt (the prompt is
        evaluated once where the backend can). Raises :class:`~preflab.llm.base.UnsupportedError`
        on backends that cannot score (check ``llm.backend.supports_loglikelihood`` first)."""
        return self._bridge.run(self._loglikelihoods(as_messages(messages), list(responses), method or self.method))

    async def aloglikelihoods(self, messages: Sequence[Message] | Sequence[dict] | str, responses: Sequence[str], *,
                              method: str | None = None) -> list[LogLikelihood]:
        return await self._bridge.arun(self._loglikelihoods(as_messages(messages), list(responses), method or self.method))

    def loglikelihood(self, messages: Sequence[Message] | Sequence[dict] | str, response: str, *,
                      method: str | None = None) -> LogLikelihood:
        """``(sum, mean per token, n_tokens)`` of one response."""
        return self.loglikelihoods(messages, [response], method=method)[0]

    # -- lifetime ---------------------------------------------------------------------------
    def close(self) -> None:
        """Release the backend (model, HTTP pool), the loop thread and the cache."""
        self._bridge.close(self.backend.aclose)
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> "LLM":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LLM({self.spec!r}, model={self.model_id!r}, cache={str(self.cache.path) if self.cache else None!r})"


def open_llm(spec: str | dict | Backend, *, cache: CallCache | str | Path | bool | None = True,
             usage: Usage | None = None, method: str | None = None) -> LLM:
    """An :class:`LLM` for a spec string (see :mod:`preflab.llm.spec`) or a backend object.

    ``cache``: ``True`` uses :func:`~preflab.llm.cache.default_cache_path`; a path or a
    :class:`CallCache` uses that; ``False``/``None`` disables caching (``--no-cache``).
    """
    backend = spec if isinstance(spec, Backend) else create_backend(spec)
    if cache is True:
        store: CallCache | None = CallCache(default_cache_path())
    elif cache is False or cache is None:
        store = None
    elif isinstance(cache, CallCache):
        store = cache
    else:
        store = CallCache(cache)
    return LLM(backend, cache=store, usage=usage, method=method, spec=spec if isinstance(spec, str) else None)
