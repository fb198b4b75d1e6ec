"""Take response length out of a reward model's training signal.

Two treatments, the recipes' ``length_debias`` option (read by
:func:`preflab.rm.losses.loss_columns`, the one reading of the pair columns that the trainer,
the embedding head and the strength heads share, so every recipe, bench and strength mode
honours it):

- ``balance``: length-matched resampling, the cheap baseline. The pairs whose label points the
  majority way ("chosen is longer", usually) get weight n_minority / n_majority, so "chosen is
  longer" carries exactly half of the loss: a model cannot lower it by preferring the longer
  answer. ``preflab clean --balance-length`` does the same on a file, dropping or reweighting.
- ``poe``: product of experts with a length-only expert (Clark et al., "Don't Take the Easy Way
  Out", arXiv 1909.03683; for reward-model length bias, Shen et al., "Loose lips sink ships:
  Mitigating Length Bias in RLHF", arXiv 2310.05199). The Bradley–Terry logit of a pair becomes
  Δr + a·x, where x = log2((len chosen + 1) / (len rejected + 1)) and ``a`` is the length
  expert, fitted by maximum likelihood on the training pairs. The reward model only has to
  explain what length does not; at scoring time only Δr is used. In the loss
  −log σ(Δr − m) this is an offset m = −a·x added to the pair's margin (never clipped).

Fitting ``a``: each pair says "chosen wins" with x_i, so the log-likelihood is Σ log σ(a·x_i),
with a small ridge term (``l2``) so that a set where chosen is always longer still gives a
finite expert. A hand-computable case: x = (1, −1, 1) gives 2 log σ(a) + log σ(−a), maximal at
σ(a) = 2/3, i.e. a = ln 2.

>>> round(fit_length_expert([1.0, -1.0, 1.0], l2=0.0), 6)  # ln 2
0.693147
"""

from __future__ import annotations

from typing import Any, Literal, Sequence

import numpy as np

from preflab.errors import ConfigError, InputError
from preflab.evaluation.response_length import length_sides, log2_ratio, pair_lengths, share_chosen_longer
from preflab.records import PreferencePair


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


def length_expert_offsets(pairs: Sequence[PreferencePair], l2: float = 1e-3) -> tuple[np.ndarray, float]:
    """The margin offsets m_i = −a·x_i of the ``poe`` treatment, and the fitted expert a."""
    x = length_features(pairs)
    a = fit_length_expert(x, l2=l2)
    return -a * x, a


def _directions(pairs: Sequence[PreferencePair]) -> tuple[np.ndarray, np.ndarray]:
    longer, shorter, _ = length_sides(*pair_lengths(pairs))
    return longer, shorter


def balance_factors(pairs: Sequence[PreferencePair]) -> np.ndarray:
    """Per-pair weight factors of the ``balance`` treatment: n_minority / n_majority for the
    pairs of the majority direction, 1 for the rest (equal lengths included)."""
    longer, shorter = _directions(pairs)
    n_long, n_short = int(longer.sum()), int(shorter.sum())
    factors = np.ones(len(longer))
    if n_long == n_short:
        return factors
    if min(n_long, n_short) == 0:
        raise InputError(f"length balancing: in all {max(n_long, n_short)} pairs of unequal length the chosen response is "
                         f"{'longer' if n_long else 'shorter'}, so no weighting can balance them; use length_debias poe, "
                         "or add pairs where the other response won")
    majority = longer if n_long > n_short else shorter
    factors[majority] = min(n_long, n_short) / max(n_long, n_short)
    return factors


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
    longer, shorter = _directions(pairs)
    n_long, n_short = int(longer.sum()), int(shorter.sum())
    summary: dict[str, Any] = {"how": how, "pairs_in": len(pairs), "share_chosen_longer_before": _share(n_long, n_short),
                               "dropped": 0, "reweighted": 0}
    factors = balance_factors(pairs) if how == "weight" or min(n_long, n_short) else np.ones(len(pairs))
    majority = longer if n_long > n_short else shorter
    excess = abs(n_long - n_short)
    if excess and how == "drop":
        rng = np.random.default_rng(seed)
        drop = set(rng.choice(np.flatnonzero(majority), size=excess, replace=False).tolist())
        pairs = [p for i, p in enumerate(pairs) if i not in drop]
        summary["dropped"] = excess
        n_long, n_short = min(n_long, n_short), min(n_long, n_short)
    elif excess:
        pairs = [p.model_copy(update={"weight": (p.weight if p.weight is not None else 1.0) * f}) if f != 1 else p
                 for p, f in zip(pairs, factors)]
        summary.update(reweighted=int(majority.sum()), weight_factor=float(factors[majority][0]))
        n_long = n_short = 1
    summary.update(pairs_out=len(pairs), share_chosen_longer_after=_share(n_long, n_short))
    return pairs, summary


def _share(n_long: int, n_short: int) -> float | None:
    share = share_chosen_longer(n_long, n_short)
    return None if share is None else round(share, 4)
