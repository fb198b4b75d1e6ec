"""RLCD: contrastive prompts.

Yang et al., "RLCD: Reinforcement Learning from Contrastive Distillation for Language Model
Alignment", arXiv 2307.12950; docs/methods.md#rlcd. One response is sampled under a positive instruction
("be helpful, harmless, complete"), one under a negative one; the positive one is chosen. The
label comes from how the responses were made, not from a judge.

The instruction is a system message placed before the prompt (merged in front of an existing
system message). Example (domain general): x = "Why do we have leap years?" →
chosen ~ π(positive system + x), rejected ~ π(negative system + x).
"""

from __future__ import annotations

from dataclasses import dataclass

from preflab.config import option, problems_raised
from preflab.errors import Problem
from preflab.llm.base import Request
from preflab.methods.base import (REPEAT_PENALTY_HELP, TRUNCATED_RETRIES_HELP, Context, Failure, Outcome, register,
                                  resample_truncated, retried_seed)
from preflab.methods.domains import rlcd_instructions
from preflab.prompting import answer_length, with_system
from preflab.records import PreferencePair, PromptRecord


@dataclass(frozen=True)
class RLCDConfig:
    domain: str = option("general", "Default instructions: general, summarisation, long-form-qa, harmlessness.")
    positive: str | None = option(None, "Positive instruction (overrides the domain's).")
    negative: str | None = option(None, "Negative instruction (overrides the domain's).")
    temperature: float = option(0.7, "Sampling temperature.")
    max_tokens: int = option(256, "Token limit per response.")
    repeat_penalty: float = option(1.2, REPEAT_PENALTY_HELP)
    keep_truncated: bool = option(False, "Keep responses cut off at max_tokens (flagged in provenance) instead of counting a failure.")
    truncated_retries: int = option(1, TRUNCATED_RETRIES_HELP, low=0)
    template_version: str = option("v2", "Version of the answer-length instruction added to both (preflab/templates/answer_length; v1: none).")

    def problems(self) -> list[Problem]:
        return problems_raised(lambda: rlcd_instructions(self.domain, self.positive, self.negative),
                               lambda: answer_length(self.template_version))


async def make(prompt: PromptRecord, cfg: RLCDConfig, ctx: Context) -> Outcome:
    length, template = answer_length(cfg.template_version)
    positive, negative = (f"{text} {length}".strip() for text in rlcd_instructions(cfg.domain, cfg.positive, cfg.negative))
    opts = {"temperature": cfg.temperature, "max_tokens": cfg.max_tokens, "repeat_penalty": cfg.repeat_penalty, "seed": ctx.seed}
    requests = [Request(with_system(prompt.prompt, positive), opts, "rlcd"), Request(with_system(prompt.prompt, negative), opts, "rlcd")]
    firsts = [out for (out, *_) in await ctx.llm.acomplete_many(requests)]
    retries = 0 if cfg.keep_truncated else cfg.truncated_retries  # a kept cut-off answer needs no second sample
    (pos, neg), attempts = await resample_truncated(ctx, prompt.id, requests, firsts, retries)
    raw = {"positive": pos.text, "negative": neg.text, "finish": [pos.finish_reason, neg.finish_reason]}
    if attempts != [1, 1]:
        raw["attempts"] = attempts
    retried = sum(attempts) - 2
    chosen, rejected = pos.text.strip(), neg.text.strip()
    if not chosen or not rejected:
        return Failure(prompt.id, "empty", raw=raw)
    if chosen == rejected:
        return Failure(prompt.id, "identical", raw=raw)
    if "length" in raw["finish"] and not cfg.keep_truncated:
        cut = [side for side, f in zip(("positive", "negative"), raw["finish"]) if f == "length"]
        return Failure(prompt.id, "truncated", detail=f"{' and '.join(cut)} cut off after {max(attempts)} samples" if retries else "",
                       raw=raw)
    provenance = {"method": "rlcd", "truncated": [f == "length" for f in raw["finish"]],
                  "instructions": {"positive": positive, "negative": negative},
                  "generator": ctx.generator(opts), "seed": ctx.seed, "template": template, "prompt_id": prompt.id, "raw": raw}
    if retried:  # only then: a pair whose samples all ended keeps the provenance it always had
        provenance["retried"] = {"truncated": retried}
        provenance["seeds"] = [retried_seed(ctx, prompt.id, i, n) for i, n in enumerate(attempts)]
    return PreferencePair(prompt=prompt.prompt, chosen=chosen, rejected=rejected, category=prompt.category, provenance=provenance)


register("rlcd", RLCDConfig, make, summary="Positive vs negative system instruction; the positive response is chosen (docs/methods.md#rlcd).")
