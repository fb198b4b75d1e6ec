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
from preflab.methods.base import REPEAT_PENALTY_HELP, Context, Failure, Outcome, register
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
    template_version: str = option("v2", "Version of the answer-length instruction added to both (preflab/templates/answer_length; v1: none).")

    def problems(self) -> list[Problem]:
        return problems_raised(lambda: rlcd_instructions(self.domain, self.positive, self.negative),
                               lambda: answer_length(self.template_version))


async def make(prompt: PromptRecord, cfg: RLCDConfig, ctx: Context) -> Outcome:
    length, template = answer_length(cfg.template_version)
    positive, negative = (f"{text} {length}".strip() for text in rlcd_instructions(cfg.domain, cfg.positive, cfg.negative))
    opts = {"temperature": cfg.temperature, "max_tokens": cfg.max_tokens, "repeat_penalty": cfg.repeat_penalty, "seed": ctx.seed}
    (pos,), (neg,) = await ctx.llm.acomplete_many([Request(with_system(prompt.prompt, positive), opts, "rlcd"),
                                                    Request(with_system(prompt.prompt, negative), opts, "rlcd")])
    raw = {"positive": pos.text, "negative": neg.text, "finish": [pos.finish_reason, neg.finish_reason]}
    chosen, rejected = pos.text.strip(), neg.text.strip()
    if not chosen or not rejected:
        return Failure(prompt.id, "empty", raw=raw)
    if chosen == rejected:
        return Failure(prompt.id, "identical", raw=raw)
    if "length" in raw["finish"] and not cfg.keep_truncated:
        return Failure(prompt.id, "truncated", raw=raw)
    return PreferencePair(prompt=prompt.prompt, chosen=chosen, rejected=rejected, category=prompt.category,
                          provenance={"method": "rlcd", "truncated": [f == "length" for f in raw["finish"]],
                                      "instructions": {"positive": positive, "negative": negative},
                                      "generator": ctx.generator(opts), "seed": ctx.seed, "template": template, "prompt_id": prompt.id,
                                      "raw": raw})


register("rlcd", RLCDConfig, make, summary="Positive vs negative system instruction; the positive response is chosen (docs/methods.md#rlcd).")
