"""Any OpenAI-compatible chat endpoint: vLLM, llama.cpp's server, TGI, Ollama, OpenAI.

Spec ``openai:URL#model=NAME&key_env=VAR&concurrency=8&timeout=120&retries=6``. Without
``model`` the server's ``/models`` list is asked, and its only model is used. Several replicas:
``openai:URL1|URL2#model=NAME`` (:mod:`preflab.llm.openai_multi`).

Why each behaviour (measured against llama-cpp-python 0.3.36's server; benchmarks/README.md, "LLM backends"):

* **One request per sample.** llama.cpp's server ignores ``n`` without an error, so asking
  once for n choices would silently return fewer; one seeded request per sample is correct
  everywhere and caches per sample.
* **Bounded concurrency** (``concurrency``, enforced by the client): vLLM/TGI batch requests in
  flight; llama.cpp's server serialises them (no gain, no harm).
* **Retries** on 408/409/429/5xx, timeouts, connection resets and truncated or malformed JSON,
  with exponential backoff and full jitter, honouring ``Retry-After``; other 4xx fail at once.
  The last error names the endpoint, the status and what to do. The SDK's own retries are off
  so this policy is the only one.
* **API key** from the environment variable named by ``key_env`` (default ``OPENAI_API_KEY``)
  or an explicit ``api_key`` argument; it is never logged, never part of a cache key or an
  output, and its exact value is masked in every message, log line and run record
  (:func:`preflab.redact.add_secret`: a server may echo it raw, in any shape). Local endpoints
  work without one.
* **Logprobs**: asked with ``top_logprobs=1`` (llama.cpp returns null otherwise). A server that
  refuses (llama.cpp's answers HTTP 500 unless loaded with ``logits_all``) or returns null is
  remembered; later calls go without logprobs and the completion's ``logprobs`` is ``None``,
  with one warning.
* **repeat_penalty** is sent, when not 1.0, as llama.cpp's own body field ``repeat_penalty``,
  which llama.cpp's server and llama-cpp-python's (``python -m llama_cpp.server``) honour; it is
  not mapped to vLLM's ``repetition_penalty`` (that one counts the prompt's tokens too, so it
  would be another sampler under the same cache key). vLLM ignores the unknown field (with a
  warning in its own log), OpenAI refuses the request (HTTP 400, shown with its message).
  llama-cpp-python's server applies 1.1 when the field is absent; requests at 1.0 leave the
  body unchanged so that OpenAI and existing caches keep working.
* **No log-likelihood of a given response**: chat APIs have no prompt logprobs (and
  llama.cpp's ``/v1/completions`` echo is off by one and ~5 s per pair). Scoring raises
  :class:`UnsupportedError` saying to score with ``llamacpp:`` or ``hf:`` on the same weights.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import random
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from preflab.errors import ConfigError, require
from preflab.llm.base import BackendError, Completion, LogLikelihood, Options, UnsupportedError, message_dicts
from preflab.llm.spec import check_params
from preflab.records import Message

log = logging.getLogger(__name__)
OPENAI_URL = "https://api.openai.com/v1"
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524}


class OpenAIParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str | None = None
    key_env: str = "OPENAI_API_KEY"
    concurrency: int = Field(8, ge=1, le=1024)
    timeout: float = Field(120.0, gt=0, description="Seconds per request.")
    retries: int = Field(6, ge=0, le=50, description="Retries after the first try.")
    backoff: float = Field(0.5, gt=0, description="Base of the exponential backoff, seconds.")
    max_backoff: float = Field(60.0, gt=0, description="Longest single wait, Retry-After included.")


def endpoint_model_id(base_url: str, model: str | None) -> str:
    """The backend's cache identity: ``MODEL@scheme://host:port/path`` without user-info or
    query; the bare model name for OpenAI's endpoint.

    Before this, a named model's identity was the bare name for every URL, so cache entries
    made against other endpoints are not hit again (rerun once; ``preflab llm cache clear
    --model NAME`` removes the old entries).

    >>> endpoint_model_id("http://key:secret@10.0.0.5:8080/v1/", "smol")
    'smol@http://10.0.0.5:8080/v1'
    >>> endpoint_model_id(OPENAI_URL, "gpt-4o-mini")
    'gpt-4o-mini'
    """
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    endpoint = f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path.rstrip('/')}"
    if model is None:
        return f"{endpoint}|(server default)"
    return model if base_url.rstrip("/") == OPENAI_URL else f"{model}@{endpoint}"


def _retry_after(response: Any) -> float | None:
    """Seconds from ``Retry-After`` (seconds or HTTP date) or ``retry-after-ms``."""
    if response is None:
        return None
    headers = response.headers
    if headers.get("retry-after-ms"):
        try:
            return float(headers["retry-after-ms"]) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


class OpenAIBackend:
    """Chat completions over HTTP with the ``openai`` SDK (async client)."""

    kind = "openai"
    supports_loglikelihood = False

    def __init__(self, base_url: str | None = None, params: OpenAIParams | None = None, *, api_key: str | None = None) -> None:
        self.params = params or OpenAIParams()
        self.base_url = (base_url or OPENAI_URL).rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            if base_url and "/" not in base_url and self.params.model is None:  # openai:gpt-4o-mini
                self.base_url, self.params = OPENAI_URL, self.params.model_copy(update={"model": base_url})
            else:
                raise ConfigError(f"openai backend: {base_url!r} is not an http(s) URL (e.g. openai:http://127.0.0.1:8080/v1#model=NAME)")
        self._api_key = api_key if api_key is not None else os.environ.get(self.params.key_env)
        from preflab.redact import add_secret

        add_secret(self._api_key)  # a server may echo it in any shape: masked wherever preflab shows it
        if not self._api_key:
            if self.base_url.startswith(OPENAI_URL):
                raise ConfigError(
                    f"no API key for {self.base_url}: set the environment variable {self.params.key_env} "
                    f"or name another one with #key_env=VAR (or pass api_key= in Python)"
                )
            self._api_key = "no-key"  # local servers accept anything; the SDK insists on a value
        self.max_concurrency = self.params.concurrency
        self._model = self.params.model
        # The cache identity names the endpoint: two servers that serve the same model name do
        # not share answers (a misconfigured URL would otherwise be hidden by cache hits).
        # OpenAI's own endpoint is implied by the bare model name.
        self.model_id = endpoint_model_id(self.base_url, self._model)
        self._client: Any = None
        self._logprobs_ok: bool | None = None
        self._model_lock: asyncio.Lock | None = None
        self._last_notice = float("-inf")

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIBackend({self.base_url!r}, model={self._model!r})"

    def _sdk(self) -> Any:
        if self._client is None:
            openai = require("openai", "openai")
            self._client = openai.AsyncOpenAI(base_url=self.base_url, api_key=self._api_key,
                                              timeout=self.params.timeout, max_retries=0)
        return self._client

    async def resolve_model(self) -> str:
        """The model to ask for: from the spec, else the server's only model."""
        if self._model is not None:
            return self._model
        if self._model_lock is None:
            self._model_lock = asyncio.Lock()
        async with self._model_lock:  # many requests start at once: ask the server once
            if self._model is not None:
                return self._model
            page = await self._with_retries(lambda: self._sdk().models.list(), "GET /models")
            names = [m.id for m in page.data]
            if len(names) != 1:
                raise ConfigError(f"{self.base_url} serves {len(names)} models ({', '.join(names[:10]) or 'none'}); "
                                  f"pick one with #model=NAME")
            self._model = names[0]
        return self._model

    async def _with_retries(self, call: Any, what: str) -> Any:
        openai = require("openai", "openai")
        attempts = self.params.retries + 1
        for attempt in range(attempts):
            try:
                return await self._awaited(call, what, attempt, attempts)
            except openai.APIStatusError as exc:
                status, wait = exc.status_code, _retry_after(exc.response)
                if status not in RETRY_STATUS:
                    raise self._final(what, f"HTTP {status}", exc, retryable=False) from None
                reason = f"HTTP {status}"
            except (openai.APIConnectionError, openai.APIResponseValidationError, json.JSONDecodeError, ValueError) as exc:
                wait, reason = None, f"{type(exc).__name__}: {exc}"
            if attempt == attempts - 1:
                raise self._final(what, reason, None, retryable=True, attempts=attempts) from None
            delay = random.uniform(0, min(self.params.max_backoff, self.params.backoff * 2 ** attempt))
            if wait is not None:
                delay = min(self.params.max_backoff, wait)
            log.warning("%s %s failed (%s); retry %d/%d in %.2fs", self.base_url, what, reason, attempt + 1, attempts - 1, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _awaited(self, call: Any, what: str, attempt: int, attempts: int) -> Any:
        """``await call()``, saying what it waits for when a server stays silent (a server that
        accepts the connection and never answers would otherwise keep a run mute for minutes).
        One notice per backend per interval, however many requests are in flight."""
        task = asyncio.ensure_future(call())
        interval = min(15.0, self.params.timeout / 4)
        waited = 0.0
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=interval)
                if done:
                    return task.result()
                waited += interval
                now = time.monotonic()
                if now - self._last_notice >= interval * 0.9:
                    self._last_notice = now
                    then = f"retry {attempt + 1}/{attempts - 1}" if attempt + 1 < attempts else "give up"
                    log.warning("waiting for %s %s: no answer for %.0f s (timeout %.0f s per try, then %s)",
                                self.base_url, what, waited, self.params.timeout, then)
        except asyncio.CancelledError:
            task.cancel()
            raise

    def _final(self, what: str, reason: str, exc: Any, *, retryable: bool, attempts: int = 1) -> BackendError:
        detail = ""
        if exc is not None:
            detail = _error_detail(exc)
        hint = {401: f"check the API key in ${self.params.key_env} (or name another variable with #key_env=VAR)",
                403: f"the key in ${self.params.key_env} may lack access to this model",
                404: "check the URL (it usually ends in /v1) and #model=NAME",
                400: "the server rejected the request; see its message above"}.get(getattr(exc, "status_code", 0), "")
        if retryable:
            hint = f"gave up after {attempts} tries; check that the server is up and not overloaded, or raise #retries= / #timeout="
        from preflab.redact import redact

        reason = reason.rstrip(". ")
        error = BackendError(redact(f"{self.base_url} {what}: {reason}{detail}. {hint}".rstrip(". ") + "."))
        error.retryable = retryable  # another endpoint may succeed (preflab.llm.openai_multi)
        return error

    async def generate(self, messages: list[Message], options: Options, seed: int | None) -> Completion:
        model = await self.resolve_model()
        body: dict[str, Any] = dict(model=model, messages=message_dicts(messages), temperature=options.temperature,
                                    top_p=options.top_p, max_tokens=options.max_tokens)
        if options.stop:
            body["stop"] = options.stop
        if seed is not None:
            body["seed"] = seed
        if options.penalises_repeats:  # only then: OpenAI itself refuses fields it does not know
            body["extra_body"] = {"repeat_penalty": options.repeat_penalty}
        want_logprobs = options.logprobs and self._logprobs_ok is not False
        if want_logprobs:
            body.update(logprobs=True, top_logprobs=1)
        try:
            response = await self._with_retries(lambda: self._sdk().chat.completions.create(**body), "POST /chat/completions")
        except BackendError:
            if not want_logprobs or self._logprobs_ok:
                raise
            body.pop("logprobs"), body.pop("top_logprobs")
            # if the same request without logprobs fails too, the server is the problem: re-raise
            response = await self._with_retries(lambda: self._sdk().chat.completions.create(**body), "POST /chat/completions")
            self._logprobs_unsupported("the request with logprobs failed, the same without them worked")
        return self._completion(response, want_logprobs)

    def _logprobs_unsupported(self, why: str) -> None:
        if self._logprobs_ok is not False:
            log.warning("%s does not return logprobs (%s); continuing without them (Completion.logprobs is None). "
                        "For llama.cpp's server, start it with --logits_all True", self.base_url, why)
        self._logprobs_ok = False

    def _completion(self, response: Any, want_logprobs: bool) -> Completion:
        if not getattr(response, "choices", None):
            raise BackendError(f"{self.base_url} POST /chat/completions: the answer has no choices")
        choice = response.choices[0]
        logprobs = None
        if want_logprobs:
            content = getattr(choice.logprobs, "content", None) if choice.logprobs is not None else None
            if content:
                logprobs = [float(t.logprob) for t in content]
                self._logprobs_ok = True
            else:
                self._logprobs_unsupported("the answer had logprobs: null")
        usage = response.usage
        return Completion(
            text=choice.message.content or "", finish_reason=choice.finish_reason or "stop",
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0, completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            model=response.model or self._model or "", logprobs=logprobs,
        )

    async def loglikelihood(self, messages: list[Message], responses: list[str]) -> list[LogLikelihood]:
        raise UnsupportedError(
            f"the openai backend ({self.base_url}) cannot score a given response: OpenAI-compatible chat APIs return "
            "no prompt log-probabilities. Score with the same weights in-process instead: "
            "--llm llamacpp:/path/model.gguf or --llm hf:/path/model"
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def _error_detail(exc: Any) -> str:
    """The server's own error message, shortened and redacted (a server may echo the key;
    request headers, which hold it, are never shown)."""
    from preflab.redact import redact

    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error")
        message = err.get("message") if isinstance(err, dict) else body.get("message") or err
        if message:
            return f" ({redact(str(message))[:200]})"
    text = getattr(getattr(exc, "response", None), "text", "")
    return f" ({redact(text)[:200]})" if text else ""


def create(target: str | None, params: dict[str, str]) -> OpenAIBackend:
    return OpenAIBackend(target, check_params(OpenAIParams, "openai", params))
