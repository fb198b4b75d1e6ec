"""What every generation method shares: the outcome types, the registry, seeded draws,
the check of what a method needs, and the driver that runs a method over many prompts with
several in flight.

A method is one module (no base class; docs/architecture.md#one-method-one-file): a frozen
config dataclass and one coroutine ``make(prompt, cfg, ctx) -> PreferencePair | Failure``
registered by name. The driver (:func:`stream_outcomes`) streams outcomes in prompt order, so the same prompts, config and
seed give the same pairs whether the run was interrupted or not.

A method declares what it needs besides the generator (``needs``: names from :data:`NEEDS`,
or a function of its config) and the run-level filters applied to its finished pairs
(``post_filters``). Callers never test a method by name: they hand what they can offer to
:func:`preflab.methods.context.method_context`, and the generation run applies
:meth:`Method.post_filter`. :func:`check_needs` is the one check of those needs: the context
builder runs it before it loads anything, the driver before the first call. A new method is
one file that calls :func:`register`.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Awaitable, Callable, Iterable, Iterator

from preflab.errors import ConfigError
from preflab.llm.base import REPEAT_LAST_N
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


#: Help of the ``repeat_penalty`` option of the methods that sample free answers (RMBoost, RLCD).
REPEAT_PENALTY_HELP = (f"llama.cpp-style repeat penalty of every sample (1.0 = off): tokens among the last {REPEAT_LAST_N} generated "
                       "are penalised, which stops the small model's repetition loops that never reach a natural end.")


def derived_seed(seed: int, *parts: object) -> int:
    """A seed for one sub-step (e.g. retry 2 of a rewrite): distinct, stable, order-free."""
    digest = hashlib.sha256("/".join(map(str, (seed, *parts))).encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


#: What a method may need besides the generator, and where a run gets it from.
NEEDS: dict[str, str] = {
    "scorer": "a reward model that scores responses (preflab generate: --scorer DIR; bench: scorer)",
    "judge": "a pairwise LLM judge (preflab generate: --judge-llm, default the generator; bench: judge_llm)",
    "loglikelihood": "a generator that scores log-likelihoods (the llamacpp or hf backend)",
}

Needs = tuple[str, ...] | Callable[[Any], tuple[str, ...]]
#: A run-level filter over a method's finished pairs: ``(pairs, cfg) -> (kept, info)``; ``info``
#: goes into the run record (empty when the filter is off for this config).
PostFilter = Callable[[list[PreferencePair], Any], tuple[list[PreferencePair], dict[str, Any]]]


@dataclass(frozen=True)
class Method:
    name: str
    config: type
    make: Maker
    needs: Needs = ()
    summary: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    post_filters: tuple[PostFilter, ...] = ()
    needs_help: str = ""

    def needs_for(self, cfg: Any) -> tuple[str, ...]:
        """What this method needs under ``cfg`` (e.g. West-of-N: a judge in pairwise mode)."""
        return _known_needs(self.name, self.needs(cfg) if callable(self.needs) else self.needs)

    def describe_needs(self) -> str:
        """For ``preflab methods``: the declared needs, or their help when they depend on the config."""
        if callable(self.needs):
            return self.needs_help or "depends on the options"
        return ", ".join(self.needs) or "—"

    def post_filter(self, pairs: list[PreferencePair], cfg: Any) -> tuple[list[PreferencePair], dict[str, Any]]:
        """Apply the declared post-filters in order; their run-record notes are merged."""
        info: dict[str, Any] = {}
        for keep in self.post_filters:
            pairs, note = keep(pairs, cfg)
            info.update(note)
        return pairs, info


_REGISTRY: dict[str, Method] = {}


def register(name: str, config: type, make: Maker, *, needs: Needs = (), summary: str = "",
             defaults: dict[str, Any] | None = None, post_filters: tuple[PostFilter, ...] = (),
             needs_help: str = "") -> None:
    """Add a method. ``needs``: names from :data:`NEEDS`, or a function of the config giving
    them (``needs_help`` then says in words what it depends on). ``post_filters`` run over
    the finished pairs of a run. ``defaults`` override the config's defaults (one config,
    several named settings: self-training is West-of-N with n = 2). Outside packages register
    through the ``preflab.methods`` entry point group (its object is called with no
    arguments and must call this)."""
    if not callable(needs):
        needs = _known_needs(name, needs)  # a misspelt need fails at registration, not mid-run
    _REGISTRY[name] = Method(name, config, make, needs, summary, dict(defaults or {}), tuple(post_filters), needs_help)


def _known_needs(method: str, needs: Iterable[str]) -> tuple[str, ...]:
    needs = tuple(needs)
    unknown = [n for n in needs if n not in NEEDS]
    if unknown:
        raise ConfigError(f"method {method} declares unknown needs {unknown}; known: {', '.join(NEEDS)}")
    return needs


def check_needs(method: Method, cfg: Any, *, llm: Any, scorer: Any, judge: Any) -> None:
    """Raise :class:`~preflab.errors.ConfigError` naming every need of ``method`` under ``cfg``
    that neither the given scorer/judge (objects or factories) nor the generator ``llm`` meet,
    each with how to meet it."""
    offered = {"scorer": scorer is not None, "judge": judge is not None,
               "loglikelihood": bool(getattr(getattr(llm, "backend", None), "supports_loglikelihood", False))}
    unmet = [f"a {need}: {NEEDS[need]}" for need in method.needs_for(cfg) if not offered[need]]
    if unmet:
        raise ConfigError(f"method {method.name} needs " + "; and ".join(unmet))


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


def stream_outcomes(prompts: Iterable[PromptRecord], method: str | Method, cfg: Any, ctx: Context, *,
                    in_flight: int = 8) -> Iterator[tuple[PromptRecord, Outcome]]:
    """Run ``method`` over ``prompts`` with ``in_flight`` prompts under way at once, yielding
    ``(prompt, outcome)`` in prompt order. Unmet needs are reported before any call.

    The window slides: a new prompt starts as soon as any prompt finishes, not when the slowest
    of a fixed window does, so a batched backend always has work for its free slots. Outcomes
    still come out in prompt order (a finished prompt waits for the ones before it), and what a
    prompt's calls decode together is fixed by that prompt alone, so outputs do not depend on
    timing."""
    method = get_method(method) if isinstance(method, str) else method
    check_needs(method, cfg, llm=ctx.llm, scorer=ctx.scorer, judge=ctx.judge)
    loop = asyncio.new_event_loop()
    pending = iter(prompts)
    started: list[tuple[PromptRecord, asyncio.Task]] = []  # under way or finished, not yet yielded
    stopping = False

    def start_next(_: Any = None) -> None:
        prompt = None if stopping else next(pending, None)
        if prompt is not None:
            task = loop.create_task(method.make(prompt, cfg, ctx))
            task.add_done_callback(start_next)  # slide the window as soon as this prompt ends
            started.append((prompt, task))

    try:
        for _ in range(max(1, in_flight)):
            start_next()
        while started:
            prompt, task = started[0]  # kept in started until done: an interrupt while it runs cancels it too
            outcome = loop.run_until_complete(task)
            started.pop(0)
            yield prompt, outcome
    finally:  # an error, or a caller that stopped reading: cancel what is under way, start nothing
        stopping = True
        for _, task in started:
            task.cancel()
        if started:
            loop.run_until_complete(asyncio.gather(*(t for _, t in started), return_exceptions=True))
        loop.close()

