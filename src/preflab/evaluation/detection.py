"""How well a score finds a known set of pairs (e.g. −μ finding labels flipped on purpose,
:func:`preflab.quality.noise.flip_labels`): the ROC AUC, P(score of a positive > score of a
negative), ties counted half, with a seeded bootstrap interval. numpy only.

The interval resamples positives and negatives separately (a stratified bootstrap), so every
replicate has the same number of each, as the data has. Over several runs (training seeds,
each with its own flips) the AUC is the mean of the runs' AUCs and a replicate resamples every
run on its own: the interval is that of the mean over runs.

>>> auc([3.0, 2.0, 1.0, 0.0], [True, False, True, False])
0.75
>>> detection_auc([([3.0, 2.0, 1.0, 0.0], [True, True, False, False])], n_boot=100)["auc"]
1.0
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from preflab.evaluation.metrics import percentile_interval


def _auc_sorted(pos: np.ndarray, neg_sorted: np.ndarray) -> float:
    below = np.searchsorted(neg_sorted, pos, side="left")
    equal = np.searchsorted(neg_sorted, pos, side="right") - below
    return float((below + 0.5 * equal).sum() / (len(pos) * len(neg_sorted)))


def auc(scores: Sequence[float], positive: Sequence[bool]) -> float:
    """ROC AUC of ``scores`` for ``positive`` (ties half); NaN without both classes.

    >>> auc([1.0, 1.0], [True, False])
    0.5
    """
    s, y = np.asarray(scores, dtype=np.float64), np.asarray(positive, dtype=bool)
    if y.all() or not y.any():
        return float("nan")
    return _auc_sorted(s[y], np.sort(s[~y]))


def _replicates(s: np.ndarray, y: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    pos, neg = s[y], s[~y]
    pi = rng.integers(0, len(pos), size=(n_boot, len(pos)))
    ni = rng.integers(0, len(neg), size=(n_boot, len(neg)))
    return np.array([_auc_sorted(pos[a], np.sort(neg[b])) for a, b in zip(pi, ni)])


def detection_auc(runs: Sequence[tuple[Sequence[float], Sequence[bool]]], n_boot: int = 2000, seed: int = 0,
                  level: float = 0.95) -> dict[str, Any]:
    """AUC over one or more runs, each ``(scores, positive)``: the mean AUC, the seed std, each
    run's AUC, pairs and positives, and the stratified bootstrap ``level`` interval of the mean (seeded)."""
    data = [(np.asarray(s, dtype=np.float64), np.asarray(y, dtype=bool)) for s, y in runs]
    if not data or any(y.all() or not y.any() for _, y in data):
        return {"auc": float("nan"), "ci95": [float("nan"), float("nan")], "runs": len(data)}
    rng = np.random.default_rng(seed)
    per_run = [auc(s, y) for s, y in data]
    lo, hi = percentile_interval(np.mean([_replicates(s, y, n_boot, rng) for s, y in data], axis=0), level)
    return {"auc": float(np.mean(per_run)), "seed_std": float(np.std(per_run)), "ci95": [lo, hi], "runs": len(data),
            "per_run": per_run, "n": [int(len(y)) for _, y in data], "positives": [int(y.sum()) for _, y in data]}
