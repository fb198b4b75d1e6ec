"""Log-likelihoods of given responses: log π(response | prompt) from the logits at every
response position.

Why it looks so: scoring needs logits at every position, so the model is loaded with
``logits_all=True`` (the buffer exists) and generation switches the flag off
(:func:`~preflab.llm.llamacpp.library.set_logits_all`); scoring switches it on for its own
``eval``. Several responses to one prompt evaluate the prompt once, then each response from
``n_tokens = len(prompt)`` (identical results, much cheaper). The context is reset afterwards:
the next generation must not trust logits of a scoring eval.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from preflab.errors import ConfigError
from preflab.llm.base import LogLikelihood
from preflab.llm.llamacpp.library import set_logits_all


def encode_responses(llama: Any, prompt: list[int], responses: list[str], path: Path) -> list[list[int]]:
    """The responses' tokens (no BOS, no special tokens), refused before any eval when the
    longest prompt + response does not fit the context."""
    encoded = [llama.tokenize(r.encode("utf-8"), add_bos=False, special=False) for r in responses]
    longest = len(prompt) + max((len(e) for e in encoded), default=0)
    if longest > llama.n_ctx():
        raise ConfigError(f"prompt + response is {longest} tokens, more than n_ctx={llama.n_ctx()}; "
                          f"load the model with a larger context: llamacpp:{path}#n_ctx=8192")
    return encoded


def loglikelihoods(llama: Any, prompt: list[int], encoded: list[list[int]]) -> list[LogLikelihood]:
    """One :class:`~preflab.llm.base.LogLikelihood` per encoded response; leaves the context reset."""
    set_logits_all(llama, True)
    try:
        llama.reset()
        llama.eval(prompt)
        out = []
        for ids in encoded:
            if not ids:
                out.append(LogLikelihood.of([]))
                continue
            llama.n_tokens = len(prompt)  # keep the prompt's KV cache, drop the last response
            llama.eval(ids)
            logits = np.asarray(llama.scores[len(prompt) - 1: len(prompt) + len(ids) - 1], dtype=np.float64)
            peak = logits.max(axis=1, keepdims=True)
            logz = peak[:, 0] + np.log(np.exp(logits - peak).sum(axis=1))
            token_lp = logits[np.arange(len(ids)), ids] - logz
            out.append(LogLikelihood.of(token_lp.tolist()))
    finally:
        set_logits_all(llama, False)
        llama.reset()  # the next generation must not trust logits of a scoring eval
    return out
