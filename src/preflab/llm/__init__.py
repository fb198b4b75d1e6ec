"""LLM backends behind one small interface, with a call cache, usage accounting and budgets.

Start with :func:`open_llm` and a spec string (grammar in :mod:`preflab.llm.spec`)::

    from preflab.llm import open_llm
    with open_llm("llamacpp", cache=True) as llm:           # embedded SmolLM2, offline
        [c.text for c in llm.complete("Say hi.", n=2, temperature=0.8)]
        llm.loglikelihood("Say hi.", "Hello!")              # (sum, mean, n_tokens)

Modules: ``base`` (Protocol, Options, Completion), ``spec`` (spec strings, registry),
``client`` (LLM, the one face callers use) with its parts ``loop`` (the private event loop),
``ledger`` (cache keys, lookups, stores, usage counts), ``groups`` (whole groups for
batch-dependent backends), ``failures`` (a batch's errors as one) and ``loglikelihoods``;
``cache`` (SQLite), ``usage`` (tokens, cost, budgets), ``embedded`` (where the embedded model
lives), one module or package per backend (``llamacpp``, ``openai_compat``, ``openai_multi``,
``transformers_backend``, ``fake``, ``ray_backend``) and ``on_executor`` (an LLM on the local or
the Ray executor). Importing this package imports no model library.
"""

from preflab.llm.base import (
    Backend,
    BackendError,
    Completion,
    LogLikelihood,
    Options,
    Request,
    UnsupportedError,
    sample_seed,
)
from preflab.llm.cache import CallCache, default_cache_path
from preflab.llm.client import LLM, open_llm
from preflab.llm.spec import SPEC_HELP, BackendSpec, parse_spec, register_backend
from preflab.llm.usage import BudgetExceeded, PriceTable, Usage

__all__ = [
    "Backend", "BackendError", "BackendSpec", "BudgetExceeded", "CallCache", "Completion", "LLM",
    "LogLikelihood", "Options", "PriceTable", "Request", "SPEC_HELP", "UnsupportedError", "Usage",
    "default_cache_path", "open_llm", "parse_spec", "register_backend", "sample_seed",
]
