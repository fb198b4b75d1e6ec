"""A fake LLM for fast unit tests: a queue of scripted answers plus the history of calls.

It knows nothing about the test that uses it (simonw/llm ``tests/conftest.py``): tests push
the answers they need and then assert on the prompts that were sent. It is registered like a
real backend (spec ``fake``), so code under test goes through the same client, cache and
usage path as production.

>>> llm = fake_llm(["Paris", "Rome"])
>>> [c.text for c in llm.complete("Capital of France?", n=2)]
['Paris', 'Rome']
>>> llm.backend.calls[0].messages[-1].content
'Capital of France?'
>>> llm.complete("Again?")[0].text  # queue empty: a deterministic default answer
'fake answer to: Again?'

Queue items may be strings, :class:`~preflab.llm.base.Completion` objects, exceptions (raised
by that call) or callables ``(messages, options, seed) -> str``. Spec options:
``fake#answer=TEXT&strict=true&model=NAME&concurrency=4&delay=0.01&seeded=true``.

What a fake answers is its weights: the options that change the answers (``answer``,
``seeded``, a default text) are part of its ``model_id``, so two fakes that answer differently
never share call-cache entries (``fake#answer=FIRST`` and then ``fake#answer=SECOND`` with one
cache once answered FIRST twice). Completions still name the plain model.

>>> create(None, {"answer": "FIRST"}).model_id, create("m", {"seeded": "true"}).model_id
('fake-model#answer=FIRST', 'm#seeded=true')
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable

from pydantic import BaseModel, ConfigDict

from preflab.llm.base import BackendError, Completion, LogLikelihood, Options
from preflab.llm.spec import check_params
from preflab.records import Message


@dataclass(frozen=True)
class FakeCall:
    """One call the fake received."""

    kind: str  # "generate" or "loglikelihood"
    messages: list[Message]
    options: Options | None = None
    seed: int | None = None
    responses: list[str] | None = None


def _default_loglik(messages: list[Message], response: str) -> LogLikelihood:
    """Deterministic, response-dependent scores: one token per word, -0.5 .. -2.0 per token."""
    words = response.split()
    per_token = -0.5 - (int(hashlib.sha256(response.encode()).hexdigest(), 16) % 16) / 10
    return LogLikelihood.of([per_token] * len(words))


class FakeBackend:
    """Scripted backend. ``strict=True`` makes an empty queue an error (catches extra calls)."""

    kind = "fake"
    supports_loglikelihood = True

    def __init__(self, answers: Iterable[Any] = (), *, default: str | Callable[..., str] | None = None,
                 strict: bool = False, model: str = "fake-model", max_concurrency: int = 4,
                 delay_s: float = 0.0,
                 loglikelihood_fn: Callable[[list[Message], str], LogLikelihood] = _default_loglik,
                 answers_by: dict[str, Any] | None = None) -> None:
        self.queue: collections.deque = collections.deque(answers)
        self.default, self.strict, self.model = default, strict, model
        if answers_by is None:  # a default text is known; a callable's answers are its caller's to name
            answers_by = {"answer": default} if isinstance(default, str) else {}
        self.model_id = fake_model_id(model, answers_by)
        self.max_concurrency, self.delay_s, self.loglikelihood_fn = max_concurrency, delay_s, loglikelihood_fn
        self.calls: list[FakeCall] = []
        self.closed = False

    def push(self, *answers: Any) -> "FakeBackend":
        """Append answers to the queue."""
        self.queue.extend(answers)
        return self

    def _answer(self, messages: list[Message], options: Options, seed: int | None) -> Completion | str:
        if self.queue:
            item = self.queue.popleft()
        elif self.strict:
            raise BackendError(f"fake LLM: no scripted answer left for call {len(self.calls)} "
                               f"(last message: {messages[-1].content[:60]!r}); push more answers")
        else:
            item = self.default if self.default is not None else f"fake answer to: {messages[-1].content}"
        if isinstance(item, BaseException):
            raise item
        if callable(item):
            item = item(messages, options, seed)
        return item

    async def generate(self, messages: list[Message], options: Options, seed: int | None) -> Completion:
        self.calls.append(FakeCall("generate", list(messages), options, seed))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        item = self._answer(messages, options, seed)
        if isinstance(item, Completion):
            return replace(item, model=item.model or self.model)
        text, finish = str(item), "stop"
        words = text.split()
        if len(words) > options.max_tokens:
            text, finish = " ".join(words[: options.max_tokens]), "length"
        for stop in options.stop:
            if stop in text:
                text, finish = text[: text.index(stop)], "stop"
        prompt_tokens = sum(len(m.content.split()) + 4 for m in messages)
        logprobs = [-1.0] * len(text.split()) if options.logprobs else None
        return Completion(text=text, finish_reason=finish, prompt_tokens=prompt_tokens,
                          completion_tokens=len(text.split()), model=self.model, logprobs=logprobs)

    async def loglikelihood(self, messages: list[Message], responses: list[str]) -> list[LogLikelihood]:
        self.calls.append(FakeCall("loglikelihood", list(messages), responses=list(responses)))
        return [self.loglikelihood_fn(messages, r) for r in responses]

    async def aclose(self) -> None:
        self.closed = True

    @property
    def generate_calls(self) -> list[FakeCall]:
        return [c for c in self.calls if c.kind == "generate"]


def fake_model_id(model: str, answers_by: dict[str, Any]) -> str:
    """``model``, then the options that change the answers (``#answer=TEXT``; a long text as
    its sha256), so that the call cache keeps apart fakes that answer differently."""
    parts = []
    for key, value in sorted(answers_by.items()):
        if value is None or value is False:
            continue
        text = "true" if value is True else str(value)
        if len(text) > 40 or "&" in text or "#" in text:
            key, text = f"{key}-sha256", hashlib.sha256(text.encode()).hexdigest()[:16]
        parts.append(f"{key}={text}")
    return model + ("#" + "&".join(parts) if parts else "")


class FakeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer: str | None = None
    strict: bool = False
    model: str = "fake-model"
    concurrency: int = 4
    delay: float = 0.0
    seeded: bool = False


def _seeded_answer(messages: list[Message], options: Options, seed: int | None) -> str:
    """An answer that differs with every message (a system instruction too) and the seed."""
    digest = hashlib.sha256("\n".join(m.content for m in messages).encode()).hexdigest()[:8]
    return f"fake answer to: {messages[-1].content} (messages {digest}, seed {seed})"


def create(target: str | None, params: dict[str, str]) -> FakeBackend:
    """Spec ``fake[:MODEL][#answer=...&strict=true&concurrency=N&delay=S&seeded=true]``; ``seeded``
    answers name the sample's seed (distinct samples, as a sampling model gives)."""
    p = check_params(FakeParams, "fake", params)
    return FakeBackend(default=_seeded_answer if p.seeded else p.answer, strict=p.strict, model=target or p.model,
                       max_concurrency=p.concurrency, delay_s=p.delay,
                       answers_by={"seeded": True} if p.seeded else {"answer": p.answer})


def fake_llm(answers: Iterable[Any] = (), *, cache: Any = None, **kwargs: Any):
    """An :class:`~preflab.llm.client.LLM` around a :class:`FakeBackend` (no cache by default)."""
    from preflab.llm.client import open_llm

    return open_llm(FakeBackend(answers, **kwargs), cache=cache)
