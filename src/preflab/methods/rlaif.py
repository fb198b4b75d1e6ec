"""RLAIF: two samples, labelled by an LLM judge asked in both orders.

Bai et al. 2022 / Lee et al., "RLAIF", arXiv 2309.00267; docs/methods.md#rlaif. The baseline RMBoost and
West-of-N are compared against. Two responses are sampled for the prompt; the judge compares
them as (A, B) and as (B, A). A consistent verdict labels the pair; an order-inconsistent one
is flagged and, by option, dropped (default), kept with the first order's label (flagged in
provenance, so it can be filtered later) or treated as a tie (no pair).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from preflab.config import option
from preflab.methods.base import Context, Failure, Outcome, register
from preflab.records import PreferencePair, PromptRecord


@dataclass(frozen=True)
class RLAIFConfig:
    temperature: float = option(0.7, "Sampling temperature of the two responses.")
    max_tokens: int = option(256, "Token limit per response.")
    inconsistent: Literal["drop", "keep", "tie"] = option("drop", "Order-inconsistent verdicts: drop the pair, keep it with the first order's label (flagged), or count it as a tie.")


async def make(prompt: PromptRecord, cfg: RLAIFConfig, ctx: Context) -> Outcome:
    opts = {"temperature": cfg.temperature, "max_tokens": cfg.max_tokens, "seed": ctx.seed, "n": 2}
    a, b = await ctx.llm.acomplete(prompt.prompt, opts, method="rlaif")
    raw = {"samples": [a.text, b.text]}
    first, second = a.text.strip(), b.text.strip()
    if not first or not second:
        return Failure(prompt.id, "empty", raw=raw)
    if first == second:
        return Failure(prompt.id, "identical", raw=raw)
    verdict = await ctx.judge.compare(prompt.prompt, first, second, method="rlaif")
    raw["judge"] = list(verdict.raw)
    flagged = False
    if verdict.winner == "unparseable":
        return Failure(prompt.id, "judge_unparseable", detail=str(verdict.votes), raw=raw)
    if verdict.winner == "tie":
        return Failure(prompt.id, "judge_tie", raw=raw)
    winner = verdict.winner
    if winner == "inconsistent":
        if cfg.inconsistent != "keep":
            return Failure(prompt.id, "judge_inconsistent" if cfg.inconsistent == "drop" else "judge_tie",
                           detail=str(verdict.votes), raw=raw)
        winner, flagged = (0 if verdict.votes[0] == "A" else 1), True
    chosen, rejected = (first, second) if winner == 0 else (second, first)
    return PreferencePair(prompt=prompt.prompt, chosen=chosen, rejected=rejected, category=prompt.category,
                          provenance={"method": "rlaif", "generator": ctx.generator(opts), "judge": ctx.judge.id,
                                      "votes": list(verdict.votes), "p_first": verdict.p_first,
                                      "order_consistent": not flagged, "seed": ctx.seed,
                                      "prompt_id": prompt.id, "raw": raw})


register("rlaif", RLAIFConfig, make, needs=("judge",), summary="Two samples labelled by an LLM judge asked in both orders (docs/methods.md#rlaif).")
