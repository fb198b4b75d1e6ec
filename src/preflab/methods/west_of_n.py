"""West-of-N: the best and the worst of N samples under a base preference model.

Pace et al., "West-of-N: Synthetic Preferences for Self-Improving Reward Models",
arXiv 2401.12086; docs/methods.md#west-of-n. Sample N responses per prompt (paper: N = 64, temperature 0.7;
N = 2 is plain self-training, registered as ``self-training``), then:

- pointwise: score all N with a reward model; y⁺ = argmax, y⁻ = argmin (ties broken by the
  lowest sample index, and recorded);
- pairwise: a knockout tournament with an LLM judge, each comparison in both orders, for the
  best and for the worst (N − 1 comparisons each).

Optional filters: confidence P(y⁺ ≻ y⁻) = σ(Δ) at least ``min_confidence`` (the run-level
quantile filter, :func:`confidence_filter`, is the method's declared post-filter), and
in-distribution: the generator's mean per-token log-likelihood of both responses at least
``min_mean_logprob`` (then the method needs a generator that scores log-likelihoods). All N
scores stay in provenance. Example: N = 4, rewards [0.3, 1.2, −0.8, 1.2] → chosen = sample 1 (tie with 3,
lowest index), rejected = sample 2, confidence σ(2.0) = 0.88.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from preflab.config import option
from preflab.errors import Problem, about
from preflab.methods.base import Context, Failure, Outcome, register
from preflab.records import PreferencePair, PromptRecord


@dataclass(frozen=True)
class WestOfNConfig:
    n: int = option(8, "Samples per prompt (the paper uses 64; 2 is self-training).")
    temperature: float = option(0.7, "Sampling temperature.")
    max_tokens: int = option(256, "Token limit per sample.")
    mode: Literal["pointwise", "pairwise"] = option("pointwise", "pointwise: a reward-model scorer picks best/worst; pairwise: knockout tournaments with an LLM judge.")
    min_confidence: float | None = option(None, "Keep pairs with σ(r⁺ − r⁻) at least this (pointwise) or judge P(y⁺ ≻ y⁻) at least this (pairwise).")
    confidence_quantile: float | None = option(None, "After the run, keep pairs whose confidence lies above this quantile of all pairs (e.g. 0.25).")
    min_mean_logprob: float | None = option(None, "In-distribution filter: the generator's mean per-token log-likelihood of both responses must be at least this.")

    def problems(self) -> list[Problem]:
        """This config's own rules (the fields' ranges are checked by :func:`preflab.config.validate`)."""
        problems = []
        if self.n < 2:
            problems.append(about("n", f"must be at least 2, got {self.n}"))
        if self.min_confidence is not None and not 0.0 <= self.min_confidence <= 1.0:
            problems.append(about("min_confidence", f"must lie in [0, 1], got {self.min_confidence}"))
        if self.confidence_quantile is not None and not 0.0 < self.confidence_quantile < 1.0:
            problems.append(about("confidence_quantile", f"must lie strictly between 0 and 1, got {self.confidence_quantile}"))
        return problems


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def distinct_samples(texts: list[str]) -> list[int]:
    """Indices of the first occurrence of each distinct non-empty text."""
    seen, keep = set(), []
    for i, text in enumerate(texts):
        if text and text not in seen:
            seen.add(text)
            keep.append(i)
    return keep


async def _pointwise(prompt: PromptRecord, texts: list[str], idx: list[int], ctx: Context) -> tuple[int, int, float, dict]:
    scores = [float(s) for s in ctx.scorer.score(prompt.prompt, [texts[i] for i in idx])]
    arr = np.asarray(scores)
    best_pos, worst_pos = int(np.argmax(arr)), int(np.argmin(arr))  # argmax/argmin take the lowest index
    detail = {"scores": dict(zip(map(str, idx), scores)),
              "best_ties": int((arr == arr.max()).sum()) - 1, "worst_ties": int((arr == arr.min()).sum()) - 1}
    return idx[best_pos], idx[worst_pos], sigmoid(scores[best_pos] - scores[worst_pos]), detail


async def _pairwise(prompt: PromptRecord, texts: list[str], idx: list[int], ctx: Context) -> tuple[int, int, float, dict]:
    candidates = [texts[i] for i in idx]
    best, best_log = await ctx.judge.knockout(prompt.prompt, candidates, best=True, method="west-of-n")
    worst, worst_log = await ctx.judge.knockout(prompt.prompt, candidates, best=False, method="west-of-n")
    confidence = 0.5
    if best != worst:
        confidence = (await ctx.judge.compare(prompt.prompt, candidates[best], candidates[worst], method="west-of-n")).p_first
    return idx[best], idx[worst], confidence, {"tournament": {"best": best_log, "worst": worst_log}}


async def make(prompt: PromptRecord, cfg: WestOfNConfig, ctx: Context) -> Outcome:
    opts = {"temperature": cfg.temperature, "max_tokens": cfg.max_tokens, "seed": ctx.seed, "n": cfg.n}
    samples = await ctx.llm.acomplete(prompt.prompt, opts, method="west-of-n")
    texts = [s.text.strip() for s in samples]
    idx = distinct_samples(texts)
    raw = {"samples": texts}
    if len(idx) < 2:
        return Failure(prompt.id, "too_few_distinct", detail=f"{len(idx)} distinct of {cfg.n}", raw=raw)
    pick = _pointwise if cfg.mode == "pointwise" else _pairwise
    best, worst, confidence, detail = await pick(prompt, texts, idx, ctx)
    if best == worst:
        return Failure(prompt.id, "no_best_worst_gap", raw={**raw, **detail})
    if cfg.min_confidence is not None and confidence < cfg.min_confidence:
        return Failure(prompt.id, "low_confidence", detail=f"{confidence:.3f}", raw={**raw, **detail})
    provenance = {"method": "west-of-n", "mode": cfg.mode, "n": cfg.n, "best_index": best, "worst_index": worst,
                  "confidence": confidence, **detail, "generator": ctx.generator(opts), "seed": ctx.seed,
                  "prompt_id": prompt.id, "raw": raw}
    if cfg.mode == "pointwise":
        provenance["scorer"] = getattr(ctx.scorer, "id", type(ctx.scorer).__name__)
    else:
        provenance["judge"] = ctx.judge.id
    if cfg.min_mean_logprob is not None:
        lls = await ctx.llm.aloglikelihoods(prompt.prompt, [texts[best], texts[worst]], method="west-of-n")
        provenance["mean_logprob"] = [ll.mean for ll in lls]
        if not all(ll.mean >= cfg.min_mean_logprob for ll in lls):
            return Failure(prompt.id, "out_of_distribution", detail=str(provenance["mean_logprob"]), raw=raw)
    scores = detail.get("scores", {})
    return PreferencePair(prompt=prompt.prompt, chosen=texts[best], rejected=texts[worst], category=prompt.category,
                          chosen_score=scores.get(str(best)), rejected_score=scores.get(str(worst)),
                          provenance=provenance)


def keep_confident(pairs: list[PreferencePair], quantile: float) -> tuple[list[PreferencePair], float]:
    """The run-level confidence filter: keep pairs whose confidence is above the quantile."""
    if not pairs:
        return [], float("nan")
    cut = float(np.quantile([p.provenance["confidence"] for p in pairs], quantile))
    return [p for p in pairs if p.provenance["confidence"] > cut], cut


def confidence_filter(pairs: list[PreferencePair], cfg: WestOfNConfig) -> tuple[list[PreferencePair], dict]:
    """The post-filter West-of-N declares: :func:`keep_confident` at ``confidence_quantile``."""
    if cfg.confidence_quantile is None:
        return pairs, {}
    kept, cut = keep_confident(pairs, cfg.confidence_quantile)
    return kept, {"confidence_quantile": cfg.confidence_quantile, "confidence_cut": cut}


def _needs(cfg: WestOfNConfig) -> tuple[str, ...]:
    judge = ("scorer",) if cfg.mode == "pointwise" else ("judge",)
    return judge + (("loglikelihood",) if cfg.min_mean_logprob is not None else ())


_DECLARED = {"needs": _needs, "post_filters": (confidence_filter,),
             "needs_help": "scorer (mode pointwise) or judge (mode pairwise); loglikelihood with min_mean_logprob"}
register("west-of-n", WestOfNConfig, make, **_DECLARED,
         summary="Best vs worst of N samples under a reward model or a judge tournament (docs/methods.md#west-of-n).")
register("self-training", WestOfNConfig, make, **_DECLARED, defaults={"n": 2},
         summary="West-of-N with N = 2: the two samples ordered by the base model (docs/methods.md#baselines).")
