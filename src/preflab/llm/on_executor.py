"""Opening an LLM on an executor: the one place commands and the bench ask for one.

>>> from preflab.executor.config import Executor
>>> with open_llm_on(Executor(), "fake", cache=False) as llm:   # local: plain open_llm
...     llm.spec, llm.kind
('fake', 'fake')
"""

from __future__ import annotations

from typing import Any

from preflab.config import validate
from preflab.executor.config import Executor
from preflab.llm.client import LLM, open_llm


def open_llm_on(executor: Executor | None, spec: str | dict, **kwargs: Any) -> LLM:
    """:func:`preflab.llm.open_llm` for ``spec``; with a Ray executor its backend is a proxy of
    actors that each build ``spec`` (:mod:`preflab.llm.ray_backend`; the cache, usage and
    budgets stay here)."""
    if executor is None or not executor.is_ray:
        return open_llm(spec, **kwargs)
    from preflab.llm.ray_backend import ray_backend

    validate(executor, "executor")
    llm = open_llm(ray_backend(spec, executor), **kwargs)
    llm.spec = spec if isinstance(spec, str) else llm.spec
    return llm
