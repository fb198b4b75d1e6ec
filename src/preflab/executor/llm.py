"""Opening an LLM or a scorer on an executor: the one place commands and the bench ask for one.

>>> from preflab.executor.config import Executor
>>> with open_llm_on(Executor(), "fake", cache=False) as llm:   # local: plain open_llm
...     llm.spec, llm.kind
('fake', 'fake')
"""

from __future__ import annotations

from typing import Any

from preflab.config import validate
from preflab.executor.config import Executor
from preflab.executor.local import load_scorer_here


def open_llm_on(executor: Executor | None, spec: str | dict, **kwargs: Any):
    """:func:`preflab.llm.open_llm` for ``spec``; with a Ray executor its backend is a proxy of
    actors that each build ``spec`` (the cache, usage and budgets stay here)."""
    from preflab.llm.client import open_llm

    if executor is None or not executor.is_ray:
        return open_llm(spec, **kwargs)
    from preflab.executor.ray import ray_backend

    validate(executor, "executor")
    llm = open_llm(ray_backend(spec, executor), **kwargs)
    llm.spec = spec if isinstance(spec, str) else llm.spec
    return llm


def load_scorer_on(executor: Executor | None, model: str, *, batch_size: int = 16, normalize: bool = False,
                   sort: bool = True):
    """A reward-model scorer for the folder ``model``: loaded here, or held by each Ray actor
    (``score_many`` splits its items into one shard per actor)."""
    if executor is not None and executor.is_ray:
        from preflab.executor.ray import RayScorer

        return RayScorer(model, validate(executor, "executor"), batch_size=batch_size, normalize=normalize, sort=sort)
    return load_scorer_here(model, batch_size, normalize, sort)
