"""Build what a method runs with, from what the caller can offer.

Every caller (``preflab generate``, ``bench``, ``west-of-n-rounds``) hands over the
generator and whatever scorer or judge it *could* provide; the method's own declaration
(:meth:`~preflab.methods.base.Method.needs_for`) decides what is used. A scorer or judge may
be given as a factory wrapped in :class:`Lazy`, called only when the method needs it: a run
never loads a reward model or opens a judge LLM it will not use, and every unmet need is
reported at once, before anything is loaded.

>>> from preflab.llm.fake import fake_llm
>>> from preflab.methods import get_method
>>> from preflab.methods.rlaif import RLAIFConfig
>>> opened = []
>>> ctx = method_context(get_method("rlaif"), RLAIFConfig(), fake_llm(), seed=1,
...                      scorer=Lazy(lambda: opened.append("scorer")), judge=Lazy(lambda: opened.append("judge") or "J"))
>>> ctx.judge, ctx.scorer, opened
('J', None, ['judge'])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from preflab.methods.base import Context, Method, check_needs


@dataclass(frozen=True)
class Lazy:
    """A scorer or judge that is made only if the method needs it: ``Lazy(lambda: load_scorer(path))``."""

    make: Callable[[], Any]


def _provide(given: Any) -> Any:
    return given.make() if isinstance(given, Lazy) else given


def method_context(method: Method, cfg: Any, llm: Any, *, seed: int = 0, scorer: Any = None,
                   judge: Any = None) -> Context:
    """The :class:`~preflab.methods.base.Context` for ``method`` under ``cfg``: the generator
    ``llm`` and, if the method needs them, the scorer and the judge (objects, or :class:`Lazy` factories).
    Raises :class:`~preflab.errors.ConfigError` naming every unmet need and how to meet it
    (:func:`~preflab.methods.base.check_needs`), before any factory is called."""
    check_needs(method, cfg, llm=llm, scorer=scorer, judge=judge)
    needs = method.needs_for(cfg)
    return Context(llm=llm, seed=seed, scorer=_provide(scorer) if "scorer" in needs else None,
                   judge=_provide(judge) if "judge" in needs else None)
