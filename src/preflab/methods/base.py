"""What every generation method shares: the outcome types, the registry, seeded draws,
and the driver that runs a
method over many prompts with several in flight.

A method is one module (DESIGN §2, no base class): a frozen config dataclass and one
coroutine ``make(prompt, cfg, ctx) -> PreferencePair | Failure`` registered by name. The
driver (:func:`generate`) streams outcomes in prompt order, so the same prompts, config and
seed give the same pairs whether the run was interrupted or not.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Awaitable, Callable, Iterable, Iterator

from preflab.errors import ConfigError
from preflab.records import PreferencePair, PromptRecord


@dataclass(frozen=True)
class Failure:
    """A prompt that yielded no pair, and why (reasons are counted in the run summary)."""

    prompt_id: str
    reason: str
    detail: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


Outcome = PreferencePair | Failure


@dataclass
class Context:
    """What a method may use besides its config: the generator LLM (a
    :class:`preflab.llm.client.LLM`), an optional scorer (``score(prompt, responses)``), an
    optional pairwise judge, and the run's seed."""

    llm: Any
    seed: int = 0
    scorer: Any = None
    judge: Any = None

    def generator(self, options: dict[str, Any]) -> dict[str, Any]:
        return {"backend": self.llm.kind, "model": self.llm.model_id, "options": options}


Maker = Callable[[PromptRecord, Any, Context], Awaitable[Outcome]]


def derived_seed(seed: int, *parts: object) -> int:
    """A seed for one sub-step (e.g. retry 2 of a rewrite): distinct, stable, order-free."""
    digest = hashlib.sha256("/".join(map(str, (seed, *parts))).encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


@dataclass(frozen=True)
class Method:
    name: str
    config: type
    make: Maker
    needs: tuple[str, ...] | Callable[[Any], tuple[str, ...]] = ()
    summary: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)


_REGISTRY: dict[str, Method] = {}


def register(name: str, config: type, make: Maker, *, needs: tuple[str, ...] | Callable[[Any], tuple[str, ...]] = (),
             summary: str = "",
             defaults: dict[str, Any] | None = None) -> None:
    """Add a method. ``defaults`` override the config's defaults (one config, several named
    settings: self-training is West-of-N with n = 2). Outside packages register through the
    ``preflab.methods`` entry point group (its object is called with no arguments and must
    call this)."""
    _REGISTRY[name] = Method(name, config, make, needs, summary, dict(defaults or {}))


def _load_entry_points() -> None:
    for ep in metadata.entry_points(group="preflab.methods"):
        ep.load()()


def methods() -> dict[str, Method]:
    """Every registered method: the built-in ones (their package ``preflab.methods`` is always
    imported before this module) and those of installed plugins."""
    if not getattr(methods, "_plugins_loaded", False):
        _load_entry_points()
        methods._plugins_loaded = True  # type: ignore[attr-defined]
    return dict(_REGISTRY)


def get_method(name: str) -> Method:
    found = methods()
    if name not in found:
        raise ConfigError(f"unknown method {name!r}; choose one of {', '.join(sorted(found))} (preflab methods lists them)")
    return found[name]


def rng_for(seed: int, prompt_id: str, purpose: str) -> random.Random:
    """A random stream for one prompt and one purpose, independent of prompt order."""
    digest = hashlib.sha256(f"{seed}/{prompt_id}/{purpose}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "little"))


async def _window(prompts: list[tuple[int, PromptRecord]], method: Method, cfg: Any, ctx: Context) -> list[Outcome]:
    return list(await asyncio.gather(*(method.make(p, cfg, ctx) for _, p in prompts)))


def generate(prompts: Iterable[PromptRecord], method: str | Method, cfg: Any, ctx: Context, *,
             in_flight: int = 8) -> Iterator[tuple[PromptRecord, Outcome]]:
    """Run ``method`` over ``prompts``, ``in_flight`` prompts at a time, yielding
    ``(prompt, outcome)`` in prompt order. Missing scorer/judge are reported before any call."""
    method = get_method(method) if isinstance(method, str) else method
    needs = method.needs(cfg) if callable(method.needs) else method.needs
    for need in needs:
        if getattr(ctx, need) is None:
            raise ConfigError(f"method {method.name} needs a {need} (see preflab generate {method.name} --help)")
    batch: list[tuple[int, PromptRecord]] = []
    for index, prompt in enumerate(prompts):
        batch.append((index, prompt))
        if len(batch) >= in_flight:
            yield from zip((p for _, p in batch), asyncio.run(_window(batch, method, cfg, ctx)))
            batch = []
    if batch:
        yield from zip((p for _, p in batch), asyncio.run(_window(batch, method, cfg, ctx)))

