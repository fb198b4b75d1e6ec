"""Take response length out of a reward model's training signal.

Two treatments, the recipes' ``length_debias`` option (read by
:func:`preflab.rm.losses.loss_columns`, the one reading of the pair columns that the trainer,
the embedding head and the strength heads share, so every recipe, bench and strength mode
honours it):

- ``balance``: length-matched weighting, the cheap baseline. The pairs whose label points the
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

from typing import Sequence

import numpy as np

from preflab.errors import InputError
from preflab.evaluation.response_length import length_sides, log2_ratio, pair_lengths
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


def length_directions(pairs: Sequence[PreferencePair]) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: is the chosen response longer, is it shorter (both false: equal lengths).
    The two directions the ``balance`` treatment, here and on a file, evens out."""
    longer, shorter, _ = length_sides(*pair_lengths(pairs))
    return longer, shorter


def balance_factors(pairs: Sequence[PreferencePair]) -> np.ndarray:
    """Per-pair weight factors of the ``balance`` treatment: n_minority / n_majority for the
    pairs of the majority direction, 1 for the rest (equal lengths included)."""
    longer, shorter = length_directions(pairs)
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
