"""Take response length out of a reward model's training signal.

Two treatments of training pairs, each a plain function over records so that every recipe,
bench and strength mode gets them by transforming its data before training:

- ``balance``: length-matched resampling, the cheap baseline. Pairs whose chosen response is
  longer are dropped (seeded) until "chosen is longer" holds for half of the pairs of unequal
  length, or, with ``how="weight"``, the majority direction is down-weighted instead so no pair
  is lost. A model trained on the result cannot lower its loss by preferring the longer answer.
- ``poe``: product of experts with a length-only expert (Clark et al., "Don't Take the Easy Way
  Out", arXiv 1909.03683; applied to RM length bias by Shen et al., "Loose lips sink ships:
  Mitigating Length Bias in RLHF", arXiv 2310.05199). The Bradley–Terry logit of a pair becomes
  Δr + a·x, where x = log2((len chosen + 1) / (len rejected + 1)) and ``a`` is the length expert,
  fitted by maximum likelihood on the training pairs themselves. The reward model then only has
  to explain what length does not, and at scoring time only Δr is used. With the trainer's
  per-pair margin (loss −log σ(Δr − m)) this is exactly m = −a·x, so both the fine-tuned and the
  embedding-head recipes honour it without new loss code.

Fitting ``a``: each pair says "chosen wins" with x_i, so the log-likelihood is Σ log σ(a·x_i),
with a small ridge term (``l2``) so that a set where chosen is always longer still gives a
finite expert. A hand-computable case: x = (1, −1, 1) gives 2 log σ(a) + log σ(−a), maximal at
σ(a) = 2/3, i.e. a = ln 2.

>>> round(fit_length_expert([1.0, -1.0, 1.0], l2=0.0), 6) == round(math.log(2), 6)
True
"""

from __future__ import annotations

import math
from typing import Any, Literal, Sequence

import numpy as np

from preflab.errors import ConfigError
from preflab.evaluate.length import log2_ratio, pair_lengths
from preflab.records import PreferencePair

LengthDebias = Literal["none", "balance", "poe"]
LENGTH_DEBIAS_CHOICES = ("none", "balance", "poe")


def length_features(pairs: Sequence[PreferencePair]) -> np.ndarray:
    """x_i = log2((len chosen + 1) / (len rejected + 1)) in words, per pair."""
    chosen, rejected = pair_lengths(pairs)
    return log2_ratio(chosen, rejected)


def fit_length_expert(x: Sequence[float], l2: float = 1e-3, iters: int = 50) -> float:
    """Maximum-likelihood a of P(chosen wins) = σ(a·x), by Newton's method (concave, 1-D)."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) == 0 or not np.any(x):
        return 0.0
    a = 0.0
    for _ in range(iters):
        s = 1.0 / (1.0 + np.exp(-a * x))
        grad = float(((1.0 - s) * x).sum()) - l2 * len(x) * a
        hess = -float((s * (1.0 - s) * x * x).sum()) - l2 * len(x)
        if hess == 0.0:
            break
        step = grad / hess
        a -= step
        if abs(step) < 1e-10:
            break
    return float(a)


def poe_margins(pairs: Sequence[PreferencePair], l2: float = 1e-3) -> tuple[list[PreferencePair], dict[str, Any]]:
    """Pairs with the length expert folded into their margin (m = old margin − a·x)."""
    x = length_features(pairs)
    a = fit_length_expert(x, l2=l2)
    out = [p.model_copy(update={"margin": float((p.margin or 0.0) - a * xi)}) for p, xi in zip(pairs, x)]
    return out, {"length_debias": "poe", "length_expert": a, "pairs": len(out)}


def balance_length(pairs: Sequence[PreferencePair], *, how: Literal["drop", "weight"] = "drop", seed: int = 0,
                   ) -> tuple[list[PreferencePair], dict[str, Any]]:
    """Make "chosen is longer" hold for half of the unequal-length pairs, by dropping or weighting.

    Dropping removes a seeded random subset of the majority direction, keeping input order;
    weighting multiplies the majority direction's weights by n_minority / n_majority. Pairs of
    equal length are untouched. The summary says what was removed or reweighted.

    >>> from preflab.records import text_prompt
    >>> ps = [PreferencePair(prompt=text_prompt(f"q{i}"), chosen=c, rejected=r) for i, (c, r) in
    ...       enumerate([("a b", "c"), ("a b", "c"), ("a b", "c"), ("a", "b c")])]
    >>> kept, s = balance_length(ps)
    >>> s["dropped"], s["share_chosen_longer_before"], s["share_chosen_longer_after"]
    (2, 0.75, 0.5)
    """
    if how not in ("drop", "weight"):
        raise ConfigError(f"balance_length: how must be 'drop' or 'weight', got {how!r}")
    pairs = list(pairs)
    chosen, rejected = pair_lengths(pairs)
    longer = np.array([c > r for c, r in zip(chosen, rejected)], dtype=bool)
    shorter = np.array([c < r for c, r in zip(chosen, rejected)], dtype=bool)
    n_long, n_short = int(longer.sum()), int(shorter.sum())
    summary: dict[str, Any] = {"length_debias": "balance", "how": how, "pairs_in": len(pairs),
                               "share_chosen_longer_before": _share(n_long, n_short), "dropped": 0, "reweighted": 0}
    majority = longer if n_long > n_short else shorter
    excess = abs(n_long - n_short)
    if excess == 0:
        summary.update(pairs_out=len(pairs), share_chosen_longer_after=summary["share_chosen_longer_before"])
        return pairs, summary
    if how == "weight" and min(n_long, n_short) == 0:
        raise ConfigError("balance_length: every unequal-length pair points the same way, so no weighting can "
                          "balance them; drop instead, or use the 'poe' treatment")
    if how == "drop":
        rng = np.random.default_rng(seed)
        drop = set(rng.choice(np.flatnonzero(majority), size=excess, replace=False).tolist())
        pairs = [p for i, p in enumerate(pairs) if i not in drop]
        summary["dropped"] = excess
        remaining_long = n_long - (excess if majority is longer else 0)
        remaining_short = n_short - (excess if majority is shorter else 0)
        summary["share_chosen_longer_after"] = _share(remaining_long, remaining_short)
    else:
        factor = min(n_long, n_short) / max(n_long, n_short)
        pairs = [p.model_copy(update={"weight": (p.weight if p.weight is not None else 1.0) * factor}) if majority[i] else p
                 for i, p in enumerate(pairs)]
        summary["reweighted"] = int(majority.sum())
        summary["weight_factor"] = factor
        summary["share_chosen_longer_after"] = 0.5
    summary["pairs_out"] = len(pairs)
    return pairs, summary


def _share(n_long: int, n_short: int) -> float | None:
    return None if n_long + n_short == 0 else round(n_long / (n_long + n_short), 4)


def debias_length(pairs: Sequence[PreferencePair], mode: str, seed: int = 0) -> tuple[list[PreferencePair], dict[str, Any]]:
    """The one entry point the recipes call: ``none``, ``balance`` (drop) or ``poe``."""
    if mode == "none":
        return list(pairs), {"length_debias": "none"}
    if mode == "balance":
        return balance_length(pairs, how="drop", seed=seed)
    if mode == "poe":
        return poe_margins(pairs)
    raise ConfigError(f"length_debias must be one of {', '.join(LENGTH_DEBIAS_CHOICES)}, got {mode!r}")
