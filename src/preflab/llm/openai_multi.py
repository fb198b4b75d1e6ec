"""Several OpenAI-compatible endpoints behind one spec: ``openai:URL1|URL2|...#model=NAME``.

The usual way to scale a served model is N replicas (vLLM, SGLang, llama.cpp's server), one URL
each. This backend spreads one run's requests over them:

* **Balance by in-flight count**: a request goes to the healthy endpoint with the fewest
  requests in flight (a slow replica gets fewer, a fast one more).
* **Set aside, retry elsewhere**: an endpoint whose request fails in a way a retry could fix
  (connection refused or reset, timeout, 429/5xx) is set aside for ``aside`` seconds (doubling
  while it keeps failing, at most ``max_backoff``), and the request is retried at once on
  another endpoint. When every endpoint is set aside the request waits for the first to come
  back. A request gives up after ``retries`` + 1 tries in all; errors no retry can fix (a 400,
  a bad key) fail at once, as with one endpoint.
* **Usage per endpoint** (:meth:`MultiEndpointBackend.endpoint_usage`): requests, failures,
  tokens and times set aside, which ``run.json`` reports under ``generator.endpoints``.

Each endpoint is an :class:`~preflab.llm.openai_compat.OpenAIBackend` with its own retries off
(this layer retries, on the others). The cache identity names every endpoint, sorted, so the
order of the URLs does not matter but the set does.

>>> b = create("http://10.0.0.1:8000/v1|http://10.0.0.2:8000/v1", {"model": "smol"})
>>> b.model_id, b.max_concurrency
('smol@http://10.0.0.1:8000/v1|smol@http://10.0.0.2:8000/v1', 16)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import Any

from pydantic import Field

from preflab.errors import ConfigError
from preflab.llm.base import BackendError, Completion, LogLikelihood, Options
from preflab.llm import openai_compat
from preflab.llm.openai_compat import OpenAIBackend, OpenAIParams
from preflab.llm.spec import check_params
from preflab.records import Message

log = logging.getLogger(__name__)


class MultiParams(OpenAIParams):
    aside: float = Field(10.0, gt=0, description="Seconds a failing endpoint is set aside (doubles while it keeps failing).")


class MultiEndpointBackend:
    """One backend over several endpoints of the same model (see the module doc)."""

    kind = "openai"
    supports_loglikelihood = False

    def __init__(self, urls: list[str], params: MultiParams, *, api_key: str | None = None) -> None:
        if len(urls) < 2 or any(not u.strip() for u in urls):
            raise ConfigError(f"openai: a multi-endpoint spec needs two or more URLs separated by '|', got {'|'.join(urls)!r}")
        one = OpenAIParams(**params.model_dump(exclude={"aside"}) | {"retries": 0})
        self.endpoints = [OpenAIBackend(u.strip(), one, api_key=api_key) for u in urls]
        names = [e.base_url for e in self.endpoints]
        if len(set(names)) != len(names):
            raise ConfigError(f"openai: an endpoint is listed twice in {'|'.join(urls)!r}")
        self.params = params
        self.model_id = "|".join(sorted(e.model_id for e in self.endpoints))
        self.max_concurrency = params.concurrency * len(self.endpoints)
        self.in_flight = [0] * len(self.endpoints)
        self._aside_until = [0.0] * len(self.endpoints)
        self._failing = [0] * len(self.endpoints)
        self._stats = [Counter() for _ in self.endpoints]

    def __repr__(self) -> str:
        return f"MultiEndpointBackend({[e.base_url for e in self.endpoints]!r})"

    async def _pick(self) -> int:
        while True:
            now = time.monotonic()
            ready = [i for i, until in enumerate(self._aside_until) if until <= now]
            if ready:
                return min(ready, key=lambda i: (self.in_flight[i], i))
            await asyncio.sleep(max(0.0, min(self._aside_until) - now))

    def _set_aside(self, i: int, error: BackendError) -> None:
        if self._aside_until[i] > time.monotonic():
            return  # another request in flight there when it failed: the same outage
        self._failing[i] += 1
        seconds = min(self.params.max_backoff, self.params.aside * 2 ** (self._failing[i] - 1))
        self._aside_until[i] = time.monotonic() + seconds
        self._stats[i]["set_aside"] += 1
        log.warning("endpoint %s set aside for %.0f s (%s); its requests go to the others",
                    self.endpoints[i].base_url, seconds, str(error)[:200])

    async def generate(self, messages: list[Message], options: Options, seed: int | None) -> Completion:
        attempts = self.params.retries + 1
        last: BackendError | None = None
        for _ in range(attempts):
            i = await self._pick()
            self.in_flight[i] += 1
            self._stats[i]["requests"] += 1
            try:
                completion = await self.endpoints[i].generate(messages, options, seed)
            except BackendError as exc:
                self._stats[i]["failures"] += 1
                if not getattr(exc, "retryable", False):
                    raise
                self._set_aside(i, exc)
                last = exc
                continue
            finally:
                self.in_flight[i] -= 1
            self._failing[i] = 0
            self._stats[i].update(completed=1, prompt_tokens=completion.prompt_tokens,
                                  completion_tokens=completion.completion_tokens)
            return completion
        raise BackendError(f"{len(self.endpoints)} endpoints: a request failed {attempts} times on them; "
                           f"last error: {last}")

    def endpoint_usage(self) -> dict[str, dict[str, int]]:
        """Per endpoint URL: requests sent, completed, failed, tokens, times set aside."""
        keys = ("requests", "completed", "failures", "prompt_tokens", "completion_tokens", "set_aside")
        return {e.base_url: {k: int(s[k]) for k in keys} for e, s in zip(self.endpoints, self._stats)}

    async def loglikelihood(self, messages: list[Message], responses: list[str]) -> list[LogLikelihood]:
        return await self.endpoints[0].loglikelihood(messages, responses)  # raises: chat APIs cannot score

    async def aclose(self) -> None:
        for endpoint in self.endpoints:
            await endpoint.aclose()


def create(target: str | None, params: dict[str, Any]) -> OpenAIBackend | MultiEndpointBackend:
    """The ``openai`` spec kind: one endpoint, or several separated by ``|``."""
    if target and "|" in target:
        return MultiEndpointBackend(target.split("|"), check_params(MultiParams, "openai", params))
    return openai_compat.create(target, params)
