"""Baselines the papers compare against (docs/methods.md#baselines): random pairs labelled by a scorer, and
best-of-N against a random other sample. (Self-training, West-of-N with N = 2, is registered
in :mod:`preflab.methods.west_of_n`.)

- ``random-pair``: two samples; the scorer's higher reward is chosen.
- ``best-vs-random``: N samples; the scorer's best against a seeded random other sample
  (West-of-N's "best-of-N vs random" ablation).
- ``random-label``: two samples and a seeded coin flip for the label — the null method: a
  reward model trained on it can only learn what the generator's own samples share.
"""

from __future__ import annotations

from dataclasses import dataclass

from preflab.config import option
from preflab.errors import Problem, about
from preflab.methods.base import Context, Failure, Outcome, register, rng_for
from preflab.methods.west_of_n import distinct_samples, sigmoid
from preflab.records import PreferencePair, PromptRecord


@dataclass(frozen=True)
class ScoredSamplesConfig:
    n: int = option(2, "Samples per prompt.")
    temperature: float = option(0.7, "Sampling temperature.")
    max_tokens: int = option(256, "Token limit per sample.")

    def problems(self) -> list[Problem]:
        return [about("n", f"must be at least 2, got {self.n}")] if self.n < 2 else []


def _make(name: str, versus_random: bool):
    async def make(prompt: PromptRecord, cfg: ScoredSamplesConfig, ctx: Context) -> Outcome:
        opts = {"temperature": cfg.temperature, "max_tokens": cfg.max_tokens, "seed": ctx.seed, "n": cfg.n}
        texts = [s.text.strip() for s in await ctx.llm.acomplete(prompt.prompt, opts, method=name)]
        idx = distinct_samples(texts)
        if len(idx) < 2:
            return Failure(prompt.id, "too_few_distinct", raw={"samples": texts})
        rng = rng_for(ctx.seed, prompt.id, name)
        if not versus_random:
            idx = rng.sample(idx, 2)
        scores = [float(s) for s in ctx.scorer.score(prompt.prompt, [texts[i] for i in idx])]
        best = max(range(len(idx)), key=lambda k: (scores[k], -k))
        other = rng.choice([k for k in range(len(idx)) if k != best]) if versus_random else 1 - best
        if scores[best] == scores[other]:
            return Failure(prompt.id, "score_tie", raw={"samples": texts, "scores": scores})
        return PreferencePair(
            prompt=prompt.prompt, chosen=texts[idx[best]], rejected=texts[idx[other]], category=prompt.category,
            chosen_score=scores[best], rejected_score=scores[other],
            provenance={"method": name, "n": cfg.n, "scores": dict(zip(map(str, idx), scores)),
                        "confidence": sigmoid(scores[best] - scores[other]),
                        "scorer": getattr(ctx.scorer, "id", type(ctx.scorer).__name__),
                        "generator": ctx.generator(opts), "seed": ctx.seed, "prompt_id": prompt.id,
                        "raw": {"samples": texts}},
        )

    return make


register("random-pair", ScoredSamplesConfig, _make("random-pair", False), needs=("scorer",),
         summary="Two samples labelled by a reward-model scorer.")
register("best-vs-random", ScoredSamplesConfig, _make("best-vs-random", True), needs=("scorer",), defaults={"n": 8},
         summary="The scorer's best of N against a random other sample.")


@dataclass(frozen=True)
class RandomLabelConfig:
    temperature: float = option(0.7, "Sampling temperature.")
    max_tokens: int = option(256, "Token limit per sample.")


async def _random_label(prompt: PromptRecord, cfg: RandomLabelConfig, ctx: Context) -> Outcome:
    opts = {"temperature": cfg.temperature, "max_tokens": cfg.max_tokens, "seed": ctx.seed, "n": 2}
    texts = [s.text.strip() for s in await ctx.llm.acomplete(prompt.prompt, opts, method="random-label")]
    if not all(texts) or texts[0] == texts[1]:
        return Failure(prompt.id, "empty" if not all(texts) else "identical", raw={"samples": texts})
    first_wins = rng_for(ctx.seed, prompt.id, "random-label").random() < 0.5
    chosen, rejected = (texts[0], texts[1]) if first_wins else (texts[1], texts[0])
    return PreferencePair(prompt=prompt.prompt, chosen=chosen, rejected=rejected, category=prompt.category,
                          provenance={"method": "random-label", "generator": ctx.generator(opts), "seed": ctx.seed,
                                      "prompt_id": prompt.id, "raw": {"samples": texts}})


register("random-label", RandomLabelConfig, _random_label,
         summary="Two samples, a seeded coin flip for the label: the null method.")
