"""How much of a reward model's accuracy is response length: length-controlled metrics.

Length is the best-known shortcut a reward model can learn (Singhal et al., "A Long Way to Go:
Investigating Length Correlations in RLHF", arXiv 2310.03716; ODIN, arXiv 2402.07319). A plain
accuracy cannot tell a model that judges quality from one that prefers the longer answer on a
set where the longer answer usually won. These metrics can:

- ``matched``: accuracy on pairs whose two responses have nearly the same length (they differ by
  at most ``match_tolerance`` of the longer one, 10% by default): length cannot help there.
- ``by_ratio``: accuracy in bins of log2(len chosen / len rejected), with n per bin, for the
  report's accuracy-against-length-ratio plot.
- ``against_length`` / ``with_length``: accuracy where the longer response was rejected, and
  where it was chosen. A length-following model is good on the second and bad on the first.
- ``length_controlled``: the mean of those two, i.e. accuracy re-weighted so that "chosen is
  longer" holds for exactly half of the pairs. It equals plain accuracy when the model is
  blind to length and the set is balanced, and it exposes a model whose accuracy comes from a
  set's length skew.
- ``length_agreement``: how often the model prefers the longer response (pairs of unequal
  length), beside ``human_length_agreement``, how often the human label does. A model far
  above the labels' own rate has learned length beyond what the labels justify.

Lengths and the "chosen is longer" rule are those of :mod:`preflab.evaluation.response_length`
(words; a pair of equal length is neither with nor against length). Every rate comes with the
one bootstrap interval of :mod:`preflab.evaluation.metrics`; a stratum without pairs has
``n = 0`` and no accuracy or interval.

>>> out = length_metrics([1.0, 0.0, 1.0, 1.0], [10, 10, 5, 20], [10, 20, 20, 5], n_boot=200)
>>> out["matched"]["n"], out["against_length"]["n"], out["with_length"]["n"]
(1, 2, 1)
>>> out["against_length"]["accuracy"], out["with_length"]["accuracy"], out["length_controlled"]["accuracy"]
(0.5, 1.0, 0.75)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from preflab.evaluation.metrics import bootstrap_ci
from preflab.evaluation.response_length import UNIT, length_sides, log2_ratio

#: Edges of the log2 length-ratio bins (chosen over rejected); the middle bin holds the
#: near-equal pairs, the outer ones the pairs where one response is over twice the other.
RATIO_EDGES = (-np.inf, -1.0, -0.5, -0.15, 0.15, 0.5, 1.0, np.inf)


def _rate(values: np.ndarray, n_boot: int, seed: int) -> dict[str, Any]:
    """n, mean and 95% interval of 0/0.5/1 values; n = 0 gives no estimate and no interval."""
    if len(values) == 0:
        return {"n": 0, "accuracy": None, "ci95": None}
    return {"n": int(len(values)), "accuracy": float(values.mean()), "ci95": bootstrap_ci(values, n_boot, seed)}


def length_metrics(correct: Sequence[float], chosen_len: Sequence[float], rejected_len: Sequence[float], *,
                   match_tolerance: float = 0.10, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Every length-controlled metric of per-pair correctness (1 right, 0.5 tie, 0 wrong, or a
    seed average of those; :func:`preflab.evaluation.metrics.correctness` makes it from Δ)."""
    correct = np.asarray(correct, dtype=np.float64)
    c = np.asarray(chosen_len, dtype=np.float64)
    r = np.asarray(rejected_len, dtype=np.float64)
    if not (len(correct) == len(c) == len(r)):
        raise ValueError(f"correctness ({len(correct)}), chosen lengths ({len(c)}) and rejected lengths ({len(r)}) "
                         "differ in size")
    longer = np.maximum(c, r)
    matched = np.abs(c - r) <= match_tolerance * longer
    with_, against, same = length_sides(c, r)
    out: dict[str, Any] = {
        "unit": UNIT, "match_tolerance": match_tolerance, "n": int(len(correct)),
        "matched": _rate(correct[matched], n_boot, seed),
        "against_length": _rate(correct[against], n_boot, seed),
        "with_length": _rate(correct[with_], n_boot, seed),
    }
    out["length_controlled"] = _balanced(correct, against, with_, n_boot, seed)
    unequal = ~same
    model_prefers_longer = np.where(with_, correct, 1.0 - correct)  # a tie (0.5) stays 0.5
    out["length_agreement"] = _rate(model_prefers_longer[unequal], n_boot, seed)
    out["human_length_agreement"] = _rate(with_[unequal].astype(np.float64), n_boot, seed)
    ratio = log2_ratio(c, r)
    out["by_ratio"] = [{"lo": float(lo), "hi": float(hi), **_rate(correct[(ratio >= lo) & (ratio < hi)], n_boot, seed)}
                       for lo, hi in zip(RATIO_EDGES[:-1], RATIO_EDGES[1:])]
    return out


def _balanced(correct: np.ndarray, against: np.ndarray, with_: np.ndarray, n_boot: int, seed: int) -> dict[str, Any]:
    """Mean of the against- and with-length accuracies, with its interval.

    Each pair of unequal length gets the weight that makes the two directions count equally
    (n / (2 n_direction)); the weighted values' mean is the balanced accuracy, so the one
    bootstrap of means gives its interval. Undefined (n = 0) unless both directions occur."""
    n_a, n_w = int(against.sum()), int(with_.sum())
    if n_a == 0 or n_w == 0:
        return {"n": n_a + n_w, "accuracy": None, "ci95": None}
    n = n_a + n_w
    weight = np.where(against, n / (2 * n_a), n / (2 * n_w))
    values = (correct * weight)[against | with_]
    return {"n": n, "accuracy": float(values.mean()), "ci95": bootstrap_ci(values, n_boot, seed)}
