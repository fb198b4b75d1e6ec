"""The client every method calls: one backend plus the cache, usage, budgets and concurrency.

Why a client around the backend instead of features in each backend: caching, seeding of the
``n`` samples, budgets and in-flight limits must behave the same for llama.cpp, a remote
server and transformers, and they are where the subtle bugs live (a cached failure, a budget
checked after the bill, a seed shared by all samples). Backends stay small.

Concurrency: the client owns a private asyncio loop on a daemon thread. Sync calls
(:meth:`LLM.complete`) and async calls (:meth:`LLM.acomplete`, from any event loop) both run
the backend's coroutines there, so an HTTP client pool or a model worker thread is only ever
touched from one loop. A cache hit in a sync call is answered in the caller's thread without
the hop (reruns of finished work are the hot path).

    llm = open_llm("llamacpp", cache=True)
    outs = llm.complete("Name a colour.", n=3, temperature=0.8, method="west-of-n")
    llm.loglikelihoods("Name a colour.", [o.text for o in outs])
    llm.usage.summary()
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Coroutine, Sequence, TypeVar

from preflab.llm.base import (
    Backend,
    Completion,
    GenItem,
    GroupBackend,
    LogLikelihood,
    Options,
    Request,
    as_messages,
    sample_seed,
)
from preflab.llm.cache import CallCache, default_cache_path, request_key
from preflab.llm.spec import create_backend
from preflab.llm.usage import BudgetExceeded, Usage
from preflab.records import Message

log = logging.getLogger(__name__)
T = TypeVar("T")


class _LoopThread:
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


def _message_list(messages: Sequence[Message]) -> list[list[str]]:
    return [[m.role, m.content] for m in messages]


class LLM:
    """A backend with a call cache, usage accounting and a bound on calls in flight."""

    def __init__(self, backend: Backend, *, cache: CallCache | None = None, usage: Usage | None = None,
                 method: str | None = None, spec: str | None = None) -> None:
        self.backend, self.cache, self.method = backend, cache, method
        self.usage = usage if usage is not None else Usage()
        self.spec = spec or backend.kind
        self._shared: dict[str, Any] = {"loop": None, "sem": None, "lock": threading.Lock()}

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

    def _loop(self) -> _LoopThread:
        with self._shared["lock"]:
            if self._shared["loop"] is None:
                self._shared["loop"] = _LoopThread()
            return self._shared["loop"]

    def _semaphore(self) -> asyncio.Semaphore:
        if self._shared["sem"] is None:  # created on the private loop, lazily
            self._shared["sem"] = asyncio.Semaphore(max(1, int(self.backend.max_concurrency)))
        return self._shared["sem"]

    @staticmethod
    def options(options: Options | dict | None = None, **overrides: Any) -> Options:
        """Options from an object, a dict and/or keyword overrides (unknown keys fail)."""
        base = options.model_dump() if isinstance(options, Options) else dict(options or {})
        return Options.model_validate({**base, **overrides})

    # -- completion -------------------------------------------------------------------------
    def _request(self, messages: list[Message], options: Options, index: int) -> dict[str, Any]:
        fields = options.request_fields()
        fields.pop("seed")
        return {"kind": "complete", "backend": self.kind, "model": self.model_id, "messages": _message_list(messages),
                "options": fields, "seed": sample_seed(options.seed, index), "sample_index": index}

    def _lookup(self, request: dict[str, Any], method: str | None, record: bool = True) -> tuple[str, Completion | None]:
        key = request_key(request)
        if self.cache is None:
            return key, None
        hit = self.cache.get(key)
        if hit is None:
            return key, None
        completion = Completion.from_dict(hit, cached=True)
        if record:
            self._record(completion, method)
        return key, completion

    def _record(self, completion: Completion, method: str | None) -> None:
        self.usage.record(self.kind, self.model_id, method, prompt_tokens=completion.prompt_tokens,
                          completion_tokens=completion.completion_tokens, cached=completion.cached)

    async def _sample(self, messages: list[Message], options: Options, index: int, method: str | None) -> Completion:
        request = self._request(messages, options, index)
        key, hit = self._lookup(request, method)
        if hit is not None:
            return hit
        self.usage.check_budget()
        async with self._semaphore():
            self.usage.check_budget()  # a budget may have run out while this call waited
            started = time.perf_counter()
            completion = await self.backend.generate(messages, options, request["seed"])
        return self._store(key, request, completion, started, method)

    def _store(self, key: str, request: dict[str, Any], completion: Completion, started: float,
               method: str | None) -> Completion:
        """Stamp, cache and count one finished sample (only a finished call reaches this)."""
        completion = replace(completion, seed=request["seed"], sample_index=request["sample_index"],
                             latency_s=time.perf_counter() - started)
        if self.cache is not None:
            self.cache.put(key, request, completion.to_dict(), prompt_tokens=completion.prompt_tokens,
                           completion_tokens=completion.completion_tokens)
        self._record(completion, method)
        return completion

    async def _complete(self, messages: list[Message], options: Options, method: str | None) -> list[Completion]:
        if isinstance(self.backend, GroupBackend):
            (result,) = await self._complete_grouped([(messages, options, method)])
            if isinstance(result, BaseException):
                raise result
            return result
        return list(await asyncio.gather(*(self._sample(messages, options, i, method) for i in range(options.n))))

    async def _complete_grouped(self, jobs: list[tuple[list[Message], Options, str | None]]) -> list[Any]:
        """Whole groups to a backend whose samples depend on their batch companions
        (:class:`~preflab.llm.base.GroupBackend`): the backend plans the groups from every
        sample of ``jobs`` (a pure function of them), a group with any sample missing from the
        cache is decoded whole, so a resumed run decodes each sample in the very group an
        uninterrupted run did. Returns per job its completions or its first error."""
        samples = [(j, i) for j, (_, opts, _) in enumerate(jobs) for i in range(opts.n)]
        requests = [self._request(jobs[j][0], jobs[j][1], i) for j, i in samples]
        found = [self._lookup(r, jobs[j][2], record=False) for r, (j, _) in zip(requests, samples)]
        out: list[Completion | BaseException | None] = [hit for _, hit in found]
        items = [GenItem(jobs[j][0], jobs[j][1], r["seed"]) for r, (j, _) in zip(requests, samples)]
        groups = await self.backend.plan(items)

        async def run(group: list[int]) -> None:
            try:
                self.usage.check_budget()
                async with self._semaphore():
                    self.usage.check_budget()
                    started = time.perf_counter()
                    results = await self.backend.generate_group([items[k] for k in group])
            except Exception as exc:  # the whole group failed (a budget stop, a crash)
                results = [exc] * len(group)
            for k, result in zip(group, results):
                if out[k] is not None:
                    continue  # cached: re-decoded only to keep its companions' arithmetic
                out[k] = result if isinstance(result, BaseException) else \
                    self._store(found[k][0], requests[k], result, started, jobs[samples[k][0]][2])

        for k, hit in enumerate(out):
            if hit is not None:
                self._record(hit, jobs[samples[k][0]][2])
        await asyncio.gather(*(run(g) for g in groups if any(out[k] is None for k in g)))
        per_job: list[Any] = [[] for _ in jobs]
        for (j, _), result in zip(samples, out):
            if isinstance(per_job[j], list):
                per_job[j] = result if isinstance(result, BaseException) else per_job[j] + [result]
        return per_job

    def _cached_all(self, messages: list[Message], options: Options, method: str | None,
                    record: bool = True) -> list[Completion] | None:
        if self.cache is None:
            return None
        found = []
        for i in range(options.n):
            _, hit = self._lookup(self._request(messages, options, i), method, record=False)
            if hit is None:
                return None  # the misses go through _sample, which re-reads the hits (cheap)
            found.append(hit)
        if record:
            for hit in found:
                self._record(hit, method)
        return found

    def complete(self, messages: Sequence[Message] | Sequence[dict] | str, options: Options | dict | None = None,
                 *, method: str | None = None, **overrides: Any) -> list[Completion]:
        """``options.n`` completions of one prompt (sample i seeded with ``sample_seed(seed, i)``)."""
        msgs, opts, method = as_messages(messages), self.options(options, **overrides), method or self.method
        hits = self._cached_all(msgs, opts, method)
        if hits is not None:
            return hits
        return self._loop().run(self._complete(msgs, opts, method))

    async def acomplete(self, messages: Sequence[Message] | Sequence[dict] | str, options: Options | dict | None = None,
                        *, method: str | None = None, **overrides: Any) -> list[Completion]:
        """Async :meth:`complete`: await it from any event loop; many may be in flight."""
        msgs, opts, method = as_messages(messages), self.options(options, **overrides), method or self.method
        return await self._loop().arun(self._complete(msgs, opts, method))

    def _normalise(self, requests: Sequence[Request | tuple]) -> list[tuple[list[Message], Options, str | None]]:
        out = []
        for r in requests:
            r = r if isinstance(r, Request) else Request(*r)
            out.append((as_messages(r.messages), self.options(r.options), r.method or self.method))
        return out

    async def _complete_many(self, jobs: list[tuple[list[Message], Options, str | None]], return_exceptions: bool,
                             already_done: int = 0) -> list[Any]:
        if isinstance(self.backend, GroupBackend):  # groups across the prompts of this batch
            results = await self._complete_grouped(jobs)
        else:
            results = await asyncio.gather(*(self._complete(*job) for job in jobs), return_exceptions=True)
        if return_exceptions:
            return results
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            done, total = already_done + len(results) - len(errors), already_done + len(results)
            budget = next((e for e in errors if isinstance(e, BudgetExceeded)), None)
            if budget is not None:
                raise BudgetExceeded(f"{budget} [{done} of {total} prompts of this batch finished]") from budget
            raise errors[0]
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
            for job, hits in zip(jobs, results):
                for hit in hits:
                    self._record(hit, job[2])
        todo = [i for i, r in enumerate(results) if r is None]
        if todo:
            fresh = self._loop().run(self._complete_many([jobs[i] for i in todo], return_exceptions, len(jobs) - len(todo)))
            for i, r in zip(todo, fresh):
                results[i] = r
        return results

    async def acomplete_many(self, requests: Sequence[Request | tuple], *, return_exceptions: bool = False) -> list[Any]:
        return await self._loop().arun(self._complete_many(self._normalise(requests), return_exceptions))

    # -- log-likelihood ---------------------------------------------------------------------
    async def _loglikelihoods(self, messages: list[Message], responses: list[str], method: str | None) -> list[LogLikelihood]:
        base = {"kind": "loglikelihood", "backend": self.kind, "model": self.model_id, "messages": _message_list(messages)}
        keys = [request_key({**base, "response": r}) for r in responses]
        out: list[LogLikelihood | None] = [None] * len(responses)
        if self.cache is not None:
            for i, key in enumerate(keys):
                hit = self.cache.get(key)
                out[i] = LogLikelihood(*hit) if hit is not None else None
        missing = [i for i, value in enumerate(out) if value is None]
        if missing:
            self.usage.check_budget()
            async with self._semaphore():
                scored = await self.backend.loglikelihood(messages, [responses[i] for i in missing])
            for i, value in zip(missing, scored):
                out[i] = value
                if self.cache is not None:
                    self.cache.put(keys[i], {**base, "response": responses[i]}, list(value), prompt_tokens=value.n_tokens)
                self.usage.record(self.kind, self.model_id, method, prompt_tokens=value.n_tokens, completion_tokens=0)
        return out  # type: ignore[return-value]

    def loglikelihoods(self, messages: Sequence[Message] | Sequence[dict] | str, responses: Sequence[str], *,
                       method: str | None = None) -> list[LogLikelihood]:
        """log π(response | messages) for several responses to one prompt (the prompt is
        evaluated once where the backend can). Raises :class:`~preflab.llm.base.UnsupportedError`
        on backends that cannot score (check ``llm.backend.supports_loglikelihood`` first)."""
        return self._loop().run(self._loglikelihoods(as_messages(messages), list(responses), method or self.method))

    async def aloglikelihoods(self, messages: Sequence[Message] | Sequence[dict] | str, responses: Sequence[str], *,
                              method: str | None = None) -> list[LogLikelihood]:
        return await self._loop().arun(self._loglikelihoods(as_messages(messages), list(responses), method or self.method))

    def loglikelihood(self, messages: Sequence[Message] | Sequence[dict] | str, response: str, *,
                      method: str | None = None) -> LogLikelihood:
        """``(sum, mean per token, n_tokens)`` of one response."""
        return self.loglikelihoods(messages, [response], method=method)[0]

    # -- lifetime ---------------------------------------------------------------------------
    def close(self) -> None:
        """Release the backend (model, HTTP pool), the loop thread and the cache."""
        loop = self._shared["loop"]
        if loop is not None:
            try:
                loop.run(self.backend.aclose())
            finally:
                loop.stop()
                self._shared["loop"] = None
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
