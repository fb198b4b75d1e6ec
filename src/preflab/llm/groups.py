"""Group scheduling: whole groups of samples to a backend whose samples depend on their batch
companions (:class:`~preflab.llm.base.GroupBackend`).

Why whole groups: a padded batch rounds differently from a single row, so a sample is only
reproducible when decoded with the very companions it had. The backend plans the groups from
every sample of one call (a pure function of them), and a group with any sample missing from
the cache is decoded whole, so a resumed run decodes each sample in the very group an
uninterrupted run did; the cached samples of such a group keep their cached answers.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from preflab.llm.base import Completion, GenItem, GroupBackend, Options
from preflab.llm.ledger import SAMPLE, Ledger
from preflab.records import Message

#: One prompt of a call: its messages, options and the method its usage counts under.
Job = tuple[list[Message], Options, str | None]


async def complete_grouped(backend: GroupBackend, ledger: Ledger, slots: asyncio.Semaphore,
                           jobs: list[Job]) -> list[Any]:
    """Per job its completions, or its first error (the whole group failed: a budget stop, a
    crash). ``slots`` bounds the groups in flight."""
    samples = [(j, i) for j, (_, opts, _) in enumerate(jobs) for i in range(opts.n)]
    requests = [ledger.sample_request(jobs[j][0], jobs[j][1], i) for j, i in samples]
    found = [ledger.lookup(r, SAMPLE, jobs[j][2], record=False) for r, (j, _) in zip(requests, samples)]
    out: list[Completion | BaseException | None] = [hit for _, hit in found]
    items = [GenItem(jobs[j][0], jobs[j][1], r["seed"]) for r, (j, _) in zip(requests, samples)]
    groups = await backend.plan(items)

    async def run(group: list[int]) -> None:
        try:
            ledger.usage.check_budget()
            async with slots:
                ledger.usage.check_budget()
                started = time.perf_counter()
                results = await backend.generate_group([items[k] for k in group])
        except Exception as exc:  # the whole group failed (a budget stop, a crash)
            results = [exc] * len(group)
        for k, result in zip(group, results):
            if out[k] is not None:
                continue  # cached: re-decoded only to keep its companions' arithmetic
            out[k] = result if isinstance(result, BaseException) else \
                ledger.store_sample(found[k][0], requests[k], result, started, jobs[samples[k][0]][2])

    for k, hit in enumerate(out):
        if hit is not None:
            ledger.count(hit, SAMPLE, jobs[samples[k][0]][2], cached=True)
    await asyncio.gather(*(run(g) for g in groups if any(out[k] is None for k in g)))
    per_job: list[Any] = [[] for _ in jobs]
    for (j, _), result in zip(samples, out):
        if isinstance(per_job[j], list):
            per_job[j] = result if isinstance(result, BaseException) else per_job[j] + [result]
    return per_job
