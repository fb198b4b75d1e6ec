"""The cache-and-usage ledger: what a call is keyed by, and the one path by which an answer is
looked up in the call cache, stored there and counted in :class:`~preflab.llm.usage.Usage`.

Why one path for every kind of call: a cached answer must count as a cached call and a finished
one as a paid call, whether it was a sample or a log-likelihood, and only a finished call may
be stored (a failure never poisons a rerun). Each kind says only how its answer is written to
the cache, read back, and how many tokens it holds (:class:`Entry`).

The request records below are the cache keys of existing caches: their fields never change.

>>> from preflab.llm.base import as_messages
>>> from preflab.llm.usage import Usage
>>> ledger = Ledger(None, Usage(), "fake", "m")
>>> ledger.loglikelihood_request(as_messages("Hi."), "Hello!")["response"]
'Hello!'
>>> key, hit = ledger.lookup(ledger.loglikelihood_request(as_messages("Hi."), "Hello!"), LOGLIKELIHOOD)
>>> len(key), hit
(64, None)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

from preflab.llm.base import Completion, LogLikelihood, Options, sample_seed
from preflab.llm.cache import CallCache, request_key
from preflab.llm.usage import Usage
from preflab.records import Message

@dataclass(frozen=True)
class Entry:
    """How one kind of answer is cached and counted: ``encode`` to the JSON stored, ``decode``
    a cached JSON back (marked cached where the value can say so), and its ``(prompt,
    completion)`` tokens."""

    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]
    tokens: Callable[[Any], tuple[int, int]]


#: One generated sample.
SAMPLE = Entry(encode=Completion.to_dict, decode=lambda hit: Completion.from_dict(hit, cached=True),
               tokens=lambda c: (c.prompt_tokens, c.completion_tokens))
#: The log-likelihood of one response: ``[sum, mean, n_tokens]``, its tokens counted as prompt tokens.
LOGLIKELIHOOD = Entry(encode=list, decode=lambda hit: LogLikelihood(*hit), tokens=lambda v: (v.n_tokens, 0))


def _message_list(messages: Sequence[Message]) -> list[list[str]]:
    return [[m.role, m.content] for m in messages]


@dataclass(frozen=True)
class Ledger:
    """The cache (None: off) and usage of one :class:`~preflab.llm.client.LLM` view, for the
    backend ``backend`` serving ``model``."""

    cache: CallCache | None
    usage: Usage
    backend: str
    model: str

    # -- what a call is keyed by --------------------------------------------------------------
    def sample_request(self, messages: list[Message], options: Options, index: int) -> dict[str, Any]:
        """Sample ``index`` of a prompt (seeded with ``sample_seed(options.seed, index)``)."""
        fields = options.request_fields()
        fields.pop("seed")
        return {"kind": "complete", "backend": self.backend, "model": self.model, "messages": _message_list(messages),
                "options": fields, "seed": sample_seed(options.seed, index), "sample_index": index}

    def loglikelihood_request(self, messages: list[Message], response: str) -> dict[str, Any]:
        return {"kind": "loglikelihood", "backend": self.backend, "model": self.model,
                "messages": _message_list(messages), "response": response}

    # -- the cache and the counts -------------------------------------------------------------
    def lookup(self, request: dict[str, Any], entry: Entry, method: str | None = None,
               record: bool = True) -> tuple[str, Any | None]:
        """The request's key and its cached answer (None: not cached, or no cache), counted as
        a cached call unless ``record`` is false (the caller counts it later)."""
        key = request_key(request)
        if self.cache is None:
            return key, None
        hit = self.cache.get(key)
        if hit is None:
            return key, None
        value = entry.decode(hit)
        if record:
            self.count(value, entry, method, cached=True)
        return key, value

    def count(self, value: Any, entry: Entry, method: str | None, *, cached: bool) -> None:
        prompt_tokens, completion_tokens = entry.tokens(value)
        self.usage.record(self.backend, self.model, method, prompt_tokens=prompt_tokens,
                          completion_tokens=completion_tokens, cached=cached)

    def store(self, key: str, request: dict[str, Any], value: Any, entry: Entry, method: str | None) -> None:
        """Cache and count one finished call (only a finished call reaches this)."""
        prompt_tokens, completion_tokens = entry.tokens(value)
        if self.cache is not None:
            self.cache.put(key, request, entry.encode(value), prompt_tokens=prompt_tokens,
                           completion_tokens=completion_tokens)
        self.count(value, entry, method, cached=False)

    def store_sample(self, key: str, request: dict[str, Any], completion: Completion, started: float,
                     method: str | None) -> Completion:
        """Stamp one finished sample with its seed, index and latency, then store it."""
        completion = replace(completion, seed=request["seed"], sample_index=request["sample_index"],
                             latency_s=time.perf_counter() - started)
        self.store(key, request, completion, SAMPLE, method)
        return completion
