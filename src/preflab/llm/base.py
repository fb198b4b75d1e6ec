"""The one small interface every LLM backend satisfies, and the values it passes around.

A backend turns chat messages plus sampling :class:`Options` into one :class:`Completion`
per call, and (where it can) scores a given response with :meth:`Backend.loglikelihood`.
Everything else — ``n`` samples, caching, usage, budgets, concurrency — lives once in
:class:`preflab.llm.client.LLM`, so a backend stays a page long (simonw/llm ``Model.execute``
plus a pydantic ``Options`` with ``extra="forbid"``; torchtune's "Protocol, no inheritance").

Why one call per sample: servers disagree on ``n`` (llama.cpp's server silently ignores it,
in-process llama.cpp raises), and a per-sample seed makes sample *i* reproducible and
cacheable on its own, so an interrupted job resumes exactly where it stopped:

>>> s = [sample_seed(0, i) for i in range(3)]
>>> len(set(s)) == 3 and s == [sample_seed(0, i) for i in range(3)]
True
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple, Protocol, Sequence, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from preflab.errors import PreflabError
from preflab.records import Message, text_prompt


class Options(BaseModel):
    """Sampling options. Unknown keys are an error (a typo must not silently sample wrongly).

    ``seed`` is the base seed of a request; sample *i* uses :func:`sample_seed` (seed, i).
    ``None`` means unseeded: samples are still cached per index but not reproducible.

    >>> Options(temperature=0, stop="###").stop
    ['###']
    >>> Options(temprature=0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Options
    ...
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    temperature: float = Field(0.7, ge=0.0, le=2.0, description="0 = greedy.")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    max_tokens: int = Field(256, ge=1, description="Most tokens to generate per sample.")
    n: int = Field(1, ge=1, description="Samples per prompt (each its own seeded call).")
    seed: int | None = Field(0, description="Base seed; sample i uses a seed derived from (seed, i).")
    stop: list[str] = Field(default_factory=list, description="Strings that end generation.")
    logprobs: bool = Field(False, description="Return per-token log-probabilities where the backend can.")
    repeat_penalty: float = Field(1.0, ge=1.0, le=2.0, description=(
        "llama.cpp's repeat penalty: a token among the last REPEAT_LAST_N generated tokens has its "
        "logit divided by it (multiplied, if negative) before top-k/top-p/temperature; 1.0 = off."))

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_list(cls, v: Any) -> Any:
        if v is None:
            return []
        return [v] if isinstance(v, str) else v

    def request_fields(self) -> dict[str, Any]:
        """The fields that decide a sample's content (``n`` does not: it only says how many).
        Options added after caches existed appear only when set away from their default, so
        every request that leaves them alone keeps its cache key and recorded fields:

        >>> "repeat_penalty" in Options().request_fields(), Options(repeat_penalty=1.2).request_fields()["repeat_penalty"]
        (False, 1.2)
        """
        return self.model_dump(exclude={"n", *(name for name, default in LATE_DEFAULTS.items() if getattr(self, name) == default)})

    @property
    def penalises_repeats(self) -> bool:
        """Whether a backend must apply the repeat penalty (off at its neutral default)."""
        return self.repeat_penalty != LATE_DEFAULTS["repeat_penalty"]


#: Options added after caches and run folders existed, with their neutral defaults: left out of
#: :meth:`Options.request_fields` at that value (see there).
LATE_DEFAULTS: dict[str, Any] = {"repeat_penalty": 1.0}
#: The window of the repeat penalty: the last 64 *generated* tokens (prompt tokens do not count),
#: llama-cpp-python's ``last_n_tokens_size`` and llama.cpp's ``penalty_last_n`` defaults.
REPEAT_LAST_N = 64


def sample_seed(seed: int | None, index: int) -> int | None:
    """Seed of sample ``index`` of a request with base ``seed``: distinct per index, stable
    across runs and machines (a hash, not ``seed + index``, so requests with neighbouring base
    seeds do not share samples)."""
    if seed is None:
        return None
    digest = hashlib.sha256(f"preflab-seed/{seed}/{index}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


@dataclass(frozen=True)
class Completion:
    """One generated sample.

    ``logprobs`` holds one log-probability per generated token when asked for and supported,
    else ``None``. ``cached`` says whether it came from the call cache (no tokens spent).
    """

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    seed: int | None = None
    sample_index: int = 0
    logprobs: list[float] | None = None
    latency_s: float = 0.0
    cached: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("cached")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, cached: bool = False) -> "Completion":
        return cls(**data, cached=cached)


class LogLikelihood(NamedTuple):
    """log π(response | messages): the sum over response tokens, the mean per token and the
    token count. An empty response gives ``(0.0, nan, 0)`` (a mean of nothing compares false
    against any threshold, so a filter drops it)."""

    sum: float
    mean: float
    n_tokens: int

    @classmethod
    def of(cls, token_logprobs: Sequence[float]) -> "LogLikelihood":
        total = float(sum(token_logprobs))
        n = len(token_logprobs)
        return cls(total, total / n if n else math.nan, n)


class Request(NamedTuple):
    """One prompt to complete inside a batch (:meth:`LLM.complete_many`)."""

    messages: Sequence[Message] | Sequence[dict] | str
    options: Options | None = None
    method: str | None = None


class UnsupportedError(PreflabError):
    """The chosen backend cannot do what was asked (e.g. score a response over plain HTTP)."""


class BackendError(PreflabError):
    """A backend call failed for good (after retries where retries could help)."""


class PromptTooLongError(BackendError):
    """A prompt does not fit the model's context; only the request it belongs to fails."""


@runtime_checkable
class Backend(Protocol):
    """What a backend implements. Calls are coroutines so one job can keep a server busy;
    in-process backends run their model on one worker thread behind them.

    ``kind`` and ``model_id`` go into every cache key, so ``model_id`` must change when the
    weights do. ``max_concurrency`` bounds calls in flight (the client enforces it).
    ``supports_loglikelihood`` lets a method check before spending compute.
    """

    kind: str
    model_id: str
    max_concurrency: int
    supports_loglikelihood: bool

    async def generate(self, messages: list[Message], options: Options, seed: int | None) -> Completion: ...

    async def loglikelihood(self, messages: list[Message], responses: list[str]) -> list[LogLikelihood]: ...

    async def aclose(self) -> None: ...


class GenItem(NamedTuple):
    """One sample handed to :meth:`GroupBackend.generate_group`."""

    messages: list[Message]
    options: Options
    seed: int | None


@runtime_checkable
class GroupBackend(Protocol):
    """A backend whose samples depend on what is decoded with them (a padded batch rounds
    differently from a single row), so it is handed whole groups, planned by itself as a pure
    function of all the samples of one call (:meth:`LLM.complete_many` or ``complete`` with
    ``n``). The client decodes a group whole whenever one of its samples is not cached yet, so
    a resumed run equals an uninterrupted one. The in-process llama.cpp decoder needs none of
    this: its samples do not depend on their batch (:mod:`preflab.llm.llamacpp.batch`).
    """

    async def plan(self, items: list[GenItem]) -> list[list[int]]: ...

    async def generate_group(self, items: list[GenItem]) -> list[Completion | BaseException]: ...


def as_messages(messages: Sequence[Message] | Sequence[dict] | str) -> list[Message]:
    """Accept a plain string, message dicts or :class:`Message` objects."""
    if isinstance(messages, str):
        return text_prompt(messages)
    return [m if isinstance(m, Message) else Message(**m) for m in messages]


def message_dicts(messages: Sequence[Message]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]
