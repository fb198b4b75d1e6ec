"""``preflab.check_llm``, ``preflab.llm_cache_stats`` and ``preflab.clear_llm_cache``: one
request to a backend, measured, and the call cache inspected or cleared (``preflab llm check``,
``preflab llm cache stats|clear``).

>>> import preflab
>>> measured = preflab.check_llm(llm="fake:probe#answer=all good", max_tokens=8)
>>> measured.model, measured.reply.text, measured.reply.cached
('probe', 'all good', False)
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Callable, Optional

from preflab.api.options import CACHE_FILE_HELP, LLMOptions, is_llm, signed
from preflab.api.preflight import Preflight
from preflab.config import option, parse


@dataclasses.dataclass(frozen=True)
class CheckOptions:
    """``preflab llm check``'s own options (besides which LLM and its cache)."""

    prompt: str = option("Reply with one short sentence: what is a reward model?", "The message to send.")
    max_tokens: int = option(64, "Most tokens to generate.")


@dataclasses.dataclass(frozen=True)
class LLMCheck:
    """What one request to an LLM showed: the backend, the model, how long loading and the
    request took, and the reply (tokens, finish reason, whether it came from the cache)."""

    spec: str
    backend: str
    model: str
    load_s: float
    request_s: float
    reply: Any
    loglikelihood: bool

    @property
    def tokens_per_s(self) -> float:
        """Completion tokens per second of the backend's own latency (NaN when it measured none)."""
        latency = self.reply.latency_s
        return self.reply.completion_tokens / latency if latency > 0 else float("nan")


#: ``llm check`` measures the backend, so it answers from the call cache only when asked.
CHECK_DEFAULTS = {"cache": False}


@signed(CheckOptions, LLMOptions)
def check_llm(**options: Any) -> LLMCheck:
    """Send one greedy request and measure it; model loading (in-process backends) is timed
    apart from the request. Unlike the other functions it does not use the call cache unless
    ``cache=True``."""
    check = Preflight()
    parsed = check.options(options, CheckOptions, LLMOptions, defaults=CHECK_DEFAULTS)
    own, llm_options = parsed[CheckOptions], parsed[LLMOptions]
    check.llm(llm_options.llm, budget=llm_options)
    check.done()
    llm = llm_options.open()
    try:
        started = time.perf_counter()
        if hasattr(llm.backend, "load"):  # in-process backends: report loading apart
            llm.backend.load()
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        reply = llm.complete(own.prompt, temperature=0.0, max_tokens=own.max_tokens)[0]
        request_s = time.perf_counter() - started
    finally:
        if not is_llm(llm_options.llm):
            llm.close()
    spec = llm_options.llm if isinstance(llm_options.llm, str) else llm.spec
    return LLMCheck(spec, llm.kind, reply.model or llm.model_id, load_s, request_s, reply,
                    llm.backend.supports_loglikelihood)


@dataclasses.dataclass(frozen=True)
class CacheFileOptions:
    """Which call cache file."""

    cache_path: Optional[Path] = option(None, CACHE_FILE_HELP, flag=("--cache", "--cache-path"))


@dataclasses.dataclass(frozen=True)
class CacheClearOptions:
    """``preflab llm cache clear``'s own options: which entries, and whether to ask first."""

    backend: Optional[str] = option(None, "Only entries of this backend kind.")
    model: Optional[str] = option(None, "Only entries of this model id (see 'cache stats').")
    yes: bool = option(False, "Do not ask for confirmation.", flag=("--yes", "-y"))


@dataclasses.dataclass(frozen=True)
class CacheClearing:
    """What ``clear_llm_cache`` deleted: how many calls, which (``what``), from which file."""

    deleted: int
    what: str
    path: Path


def _open_cache(cache_path: Optional[Path]):
    from preflab.llm import CallCache, default_cache_path

    return CallCache(cache_path or default_cache_path())


@signed(CacheFileOptions)
def llm_cache_stats(**options: Any) -> dict[str, Any]:
    """Entries and tokens per backend and model of the call cache: ``{"path", "entries",
    "bytes", "schema_version", "groups": [{"kind", "backend", "model", "entries",
    "prompt_tokens", "completion_tokens"}, ...]}``."""
    cache_path = parse(options, CacheFileOptions)[CacheFileOptions].cache_path
    with _open_cache(cache_path) as cache:
        return cache.stats()


@signed(CacheFileOptions, CacheClearOptions)
def clear_llm_cache(*, confirm: Callable[[str], bool] | None = None, **options: Any) -> CacheClearing | None:
    """Delete cached calls: all, or one backend's / model's. ``confirm`` (the CLI's prompt) is
    asked the question before anything is deleted, unless ``yes``; when it says no, nothing is
    deleted and the result is None. Without ``confirm`` nothing is asked."""
    parsed = parse(options, CacheFileOptions, CacheClearOptions)
    own = parsed[CacheClearOptions]
    with _open_cache(parsed[CacheFileOptions].cache_path) as cache:
        what = " and ".join(x for x in [own.backend and f"backend {own.backend}", own.model and f"model {own.model}"]
                            if x) or "all entries"
        if not own.yes and confirm is not None and not confirm(f"Delete {what} from {cache.path}?"):
            return None
        return CacheClearing(cache.clear(backend=own.backend, model=own.model), what, cache.path)
