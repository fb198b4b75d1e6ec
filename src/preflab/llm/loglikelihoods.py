"""Log-likelihoods of given responses through the client: cached, counted and bounded like
samples (the same :class:`~preflab.llm.ledger.Ledger` path).

Why by response: each response to a prompt is its own cache entry (a rerun scores only the
new ones), while the responses still missing go to the backend in one call, so it can
evaluate the prompt once.
"""

from __future__ import annotations

import asyncio

from preflab.llm.base import Backend, LogLikelihood
from preflab.llm.ledger import LOGLIKELIHOOD, Ledger
from preflab.records import Message


async def score_responses(backend: Backend, ledger: Ledger, slots: asyncio.Semaphore, messages: list[Message],
                          responses: list[str], method: str | None) -> list[LogLikelihood]:
    """log π(response | messages) per response, in order; cache hits count as cached calls,
    each response scored counts as one call of its tokens."""
    requests = [ledger.loglikelihood_request(messages, r) for r in responses]
    found = [ledger.lookup(r, LOGLIKELIHOOD, method) for r in requests]
    out: list[LogLikelihood | None] = [hit for _, hit in found]
    missing = [i for i, value in enumerate(out) if value is None]
    if missing:
        ledger.usage.check_budget()
        async with slots:
            scored = await backend.loglikelihood(messages, [responses[i] for i in missing])
        for i, value in zip(missing, scored):
            out[i] = value
            ledger.store(found[i][0], requests[i], value, LOGLIKELIHOOD, method)
    return out  # type: ignore[return-value]
