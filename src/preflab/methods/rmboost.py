"""RMBoost: preference-conditional, multi-aspect synthetic pairs.

Shen et al., "Boosting Reward Model with Preference-Conditional Multi-Aspect Synthetic Data
Generation", arXiv 2407.16008 (ICLR 2025 SSI-FM); docs/methods.md#rmboost. Instead of sampling two responses
and asking a judge which is better (noisy), pick the label first and make the second response
fit it: the pair is correct by construction, and varying the aspects makes pairs diverse.

For a prompt x (seeded per prompt, independent of prompt order):
  y₁ ~ π(x); label l ∈ {BETTER, WORSE}; k ∈ 1..3 aspects from the domain's list;
  y₂ ~ π(T(x, y₁, l, aspects)) — "rewrite y₁ to be {better|worse} on these aspects", the answer
  between <response> and </response> (strictly parsed; bad output is retried with the next
  sample, then recorded as a failure by reason, never paired);
  l = BETTER → (chosen, rejected) = (y₂, y₁); l = WORSE → (y₁, y₂).

Example (label WORSE, aspects ["completeness"]): y₁ = "Subtract 32, multiply by 5/9: 22.2 °C"
→ y₂ = "It is about 22." → chosen y₁, rejected y₂.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from preflab.config import option, problems_raised
from preflab.errors import Problem
from preflab.llm.base import Request
from preflab.methods.base import (REPEAT_PENALTY_HELP, TRUNCATED_RETRIES_HELP, Context, Failure, Outcome, derived_seed, register,
                                  resample_truncated, retried_seed, rng_for)
from preflab.methods.domains import aspects_for
from preflab.prompting import answer_length, load_template, parse_delimited, render_conversation, with_system
from preflab.records import PreferencePair, PromptRecord

OPEN, CLOSE = "<response>", "</response>"
#: Where a rewrite has ended when the model goes on to write the template's next turn instead
#: of the close tag (SmolLM2: "<response>…\nRewrite the response so that…"): stopping there
#: keeps the finished rewrite, which v1 (close tag only) lost as unparseable or truncated.
ECHO_STOPS = ("\nRewrite the response so that", "\nRequest:")
GUIDANCE = {
    "better": "Fix mistakes, add what is missing and make it clearer.",
    "worse": "Make it realistically worse (less accurate, less complete or less clear) without saying so.",
}


@dataclass(frozen=True)
class RMBoostConfig:
    domain: str = option("general", "Aspect list to draw from: general, summarisation, long-form-qa, harmlessness.")
    aspects: list[str] | None = option(None, "Custom aspect list (overrides the domain's).")
    min_aspects: int = option(1, "Fewest aspects per rewrite.")
    max_aspects: int = option(3, "Most aspects per rewrite.")
    p_better: float = option(0.5, "Probability of the BETTER label.")
    temperature: float = option(0.7, "Sampling temperature of both steps.")
    max_tokens: int = option(256, "Token limit of the first response.")
    rewrite_max_tokens: int = option(384, "Token limit of the rewrite.")
    repeat_penalty: float = option(1.2, REPEAT_PENALTY_HELP)
    max_retries: int = option(2, "Extra rewrite samples after an unusable one.")
    keep_truncated: bool = option(False, "Keep a first response cut off at max_tokens (flagged in provenance) instead of counting a failure.")
    truncated_retries: int = option(1, TRUNCATED_RETRIES_HELP + " The first response's (a cut-off rewrite is one of max_retries).", low=0)
    template_version: str = option("v2", "Version of the templates (preflab/templates): the rewrite and the first answer's length instruction (v1: none).")

    def problems(self) -> list[Problem]:
        """This config's own rules (the fields' ranges are checked by :func:`preflab.config.validate`)."""
        problems = []
        if not 1 <= self.min_aspects <= self.max_aspects:
            problems.append(Problem("need 1 <= {min_aspects} <= {max_aspects}", ("min_aspects", "max_aspects")))
        return problems + problems_raised(lambda: aspects_for(self.domain, self.aspects),
                                          lambda: load_template("rmboost_rewrite", self.template_version),
                                          lambda: answer_length(self.template_version))


async def make(prompt: PromptRecord, cfg: RMBoostConfig, ctx: Context) -> Outcome:
    rng = rng_for(ctx.seed, prompt.id, "rmboost")
    label = "better" if rng.random() < cfg.p_better else "worse"
    pool = aspects_for(cfg.domain, cfg.aspects)
    k = rng.randint(cfg.min_aspects, min(cfg.max_aspects, len(pool)))
    aspects = rng.sample(pool, k)
    base_opts = {"temperature": cfg.temperature, "max_tokens": cfg.max_tokens, "repeat_penalty": cfg.repeat_penalty, "seed": ctx.seed}
    length, answer_template = answer_length(cfg.template_version)
    request = Request(with_system(prompt.prompt, length), base_opts, "rmboost")
    (first,) = await ctx.llm.acomplete(request.messages, base_opts, method="rmboost")
    retries = 0 if cfg.keep_truncated else cfg.truncated_retries  # a kept cut-off answer needs no second sample
    (first,), (first_attempts,) = await resample_truncated(ctx, prompt.id, [request], [first], retries)
    y1 = first.text.strip()
    raw = {"y1": first.text, "y1_finish": first.finish_reason}
    if first_attempts > 1:
        raw["y1_attempts"] = first_attempts
        base_opts = {**base_opts, "seed": retried_seed(ctx, prompt.id, 0, first_attempts)}  # the kept sample's
    if not y1:
        return Failure(prompt.id, "base_empty", raw=raw)
    if first.finish_reason == "length" and not cfg.keep_truncated:
        return Failure(prompt.id, "base_truncated", detail=f"cut off after {first_attempts} samples" if retries else "", raw=raw)
    template = load_template("rmboost_rewrite", cfg.template_version)
    instruction = template.messages(prompt=render_conversation(prompt.prompt), response=y1, direction=label,
                                    aspects=", ".join(aspects), guidance=GUIDANCE[label])
    stops = [CLOSE] if cfg.template_version == "v1" else [CLOSE, *ECHO_STOPS]
    rewrite_opts = {"temperature": cfg.temperature, "max_tokens": cfg.rewrite_max_tokens, "repeat_penalty": cfg.repeat_penalty,
                    "stop": stops}
    reasons = []
    for attempt in range(cfg.max_retries + 1):
        # each attempt has its own seed, so a retry is one new call and a rerun replays all from the cache
        (out,) = await ctx.llm.acomplete(instruction, {**rewrite_opts, "seed": derived_seed(ctx.seed, "rewrite", attempt)},
                                         method="rmboost")
        y2, reason = parse_delimited(out.text, out.finish_reason, OPEN, CLOSE)
        if y2 is not None and y2 == y1:
            y2, reason = None, "identical"
        raw[f"rewrite_{attempt}"] = out.text
        reasons.append(reason)
        if y2 is not None:
            chosen, rejected = (y2, y1) if label == "better" else (y1, y2)
            retried = {**({"base_truncated": first_attempts - 1} if first_attempts > 1 else {}), **Counter(reasons[:-1])}
            return PreferencePair(prompt=prompt.prompt, chosen=chosen, rejected=rejected, category=prompt.category,
                                  provenance={
                                      "method": "rmboost", "label": label, "aspects": aspects,
                                      "generator": ctx.generator({"first": base_opts, "rewrite": {**rewrite_opts, "seed": derived_seed(ctx.seed, "rewrite", attempt)}}),
                                      "seed": ctx.seed, "template": template.ref, "answer_template": answer_template,
                                      "attempts": attempt + 1, "failed_attempts": reasons[:-1],
                                      "base_truncated": first.finish_reason == "length",
                                      "prompt_id": prompt.id, "raw": raw,
                                      **({"retried": retried} if retried else {}),
                                  })
    return Failure(prompt.id, reasons[-1], detail=",".join(reasons), raw=raw)


register("rmboost", RMBoostConfig, make, summary="Pick the label first, rewrite a response better/worse on drawn aspects (docs/methods.md#rmboost).")
