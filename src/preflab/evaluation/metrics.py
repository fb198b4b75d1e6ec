"""Pairwise metrics on reward gaps Δ = r(chosen) − r(rejected), numpy only. The one place a
number about accuracy is computed: ``preflab eval``, ``bench`` and ``west-of-n-rounds`` all
call these functions, so the same data and seed give the same interval everywhere.

Accuracy counts Δ > 0 as right and a tie (Δ = 0) as half right, so a model that cannot tell
two responses apart scores 50%, like a coin. The 95% interval is a seeded percentile
bootstrap over pairs; two models on the same pairs are compared by a paired bootstrap of
the per-pair difference. Over several training seeds, the interval is that of the
seed-averaged correctness per pair (the data's uncertainty, seeds averaged out).
Calibration reads σ(Δ) as the model's probability that the chosen response wins: ECE bins
the confidence of the predicted winner, max(σ(Δ), 1 − σ(Δ)).

>>> pairwise_accuracy([1.0, 0.0, -2.0, 3.0])
0.625
>>> round(calibration([0.0, 0.0])["ece"], 3)
0.0
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def correctness(deltas: Sequence[float]) -> np.ndarray:
    """Per pair: 1 ranked right (Δ > 0), 0.5 tie, 0 wrong.

    >>> correctness([2.0, 0.0, -1.0]).tolist()
    [1.0, 0.5, 0.0]
    """
    d = np.asarray(deltas, dtype=np.float64)
    return (d > 0).astype(np.float64) + 0.5 * (d == 0)


def pairwise_accuracy(deltas: Sequence[float]) -> float:
    """Share of pairs ranked right (ties count half)."""
    if len(deltas) == 0:
        return float("nan")
    return float(correctness(deltas).mean())


def bootstrap_means(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """The means of ``n_boot`` resamples (with replacement) of ``values``: the replicates every
    interval here is read from, and that a score built from several strata combines."""
    values = np.asarray(values, dtype=np.float64)
    idx = rng.integers(0, len(values), size=(n_boot, len(values)))
    return values[idx].mean(axis=1)


def percentile_interval(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` interval of bootstrap replicates."""
    lo, hi = np.quantile(np.asarray(replicates, dtype=np.float64), [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def bootstrap_ci(values: np.ndarray, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (seeded)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return float("nan"), float("nan")
    return percentile_interval(bootstrap_means(values, n_boot, np.random.default_rng(seed)), level)


def seed_summary(runs: Sequence[np.ndarray], n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Accuracy of one recipe trained with several seeds, each run a per-pair correctness on
    the same pairs: mean over seeds, seed std, and the bootstrap interval of the seed-averaged
    correctness. With one run this is exactly :func:`evaluate_deltas`' accuracy and interval.

    >>> seed_summary([np.array([1., 0., 1., 1.]), np.array([1., 1., 1., 0.])], n_boot=100)["accuracy"]
    0.75
    """
    if not runs:
        return {"n": 0}
    accs = [float(np.mean(r)) for r in runs]
    lo, hi = bootstrap_ci(np.mean(runs, axis=0), n_boot, seed)
    return {"accuracy": float(np.mean(accs)), "seed_std": float(np.std(accs)), "ci95": [lo, hi],
            "seeds": len(runs), "per_seed": accs, "n": int(len(runs[0]))}


def paired_difference(row_runs: Sequence[np.ndarray], base_runs: Sequence[np.ndarray], n_boot: int = 2000,
                      seed: int = 0) -> dict[str, Any]:
    """Accuracy of a row minus a base's on the SAME pairs (seed-averaged correctness per pair),
    with a paired bootstrap 95% interval: far tighter than comparing two unpaired intervals,
    because most pairs are right (or wrong) for both models.

    >>> r = paired_difference([np.array([1., 1., 0., 1.])], [np.array([1., 0., 0., 1.])])
    >>> r["delta"]
    0.25
    """
    if not row_runs or not base_runs:
        return {}
    diff = np.mean(row_runs, axis=0) - np.mean(base_runs, axis=0)
    lo, hi = bootstrap_ci(diff, n_boot, seed)
    return {"delta": float(diff.mean()), "ci95": [lo, hi], "n": int(len(diff))}


def calibration(deltas: Sequence[float], n_bins: int = 10) -> dict[str, Any]:
    """ECE and reliability-diagram bins of the predicted winner's confidence."""
    d = np.asarray(deltas, dtype=np.float64)
    p = 1 / (1 + np.exp(-d))
    conf = np.maximum(p, 1 - p)
    correct = correctness(d)
    edges = np.linspace(0.5, 1.0, n_bins + 1)
    bins, ece = [], 0.0
    for i in range(n_bins):
        upper = conf <= edges[i + 1] if i == n_bins - 1 else conf < edges[i + 1]
        m = (conf >= edges[i]) & upper
        if m.any():
            acc, c = float(correct[m].mean()), float(conf[m].mean())
            ece += m.sum() / len(d) * abs(acc - c)
            bins.append({"lo": float(edges[i]), "hi": float(edges[i + 1]), "count": int(m.sum()), "accuracy": acc, "confidence": c})
    return {"ece": float(ece), "bins": bins}


def gap_stats(deltas: Sequence[float]) -> dict[str, float]:
    d = np.asarray(deltas, dtype=np.float64)
    q = np.quantile(d, [0.05, 0.25, 0.5, 0.75, 0.95])
    return {"mean": float(d.mean()), "std": float(d.std()), "p05": float(q[0]), "p25": float(q[1]),
            "median": float(q[2]), "p75": float(q[3]), "p95": float(q[4]), "share_negative": float((d < 0).mean())}


def evaluate_deltas(deltas: Sequence[float], *, categories: Sequence[str | None] | None = None,
                    high_confidence: Sequence[bool] | None = None, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Every metric for one set of gaps; per category and on the high-confidence subset."""
    d = np.asarray(deltas, dtype=np.float64)
    correct = correctness(d)
    out: dict[str, Any] = {"n": int(len(d)), "accuracy": float(correct.mean()) if len(d) else float("nan"),
                           "ci95": bootstrap_ci(correct, n_boot, seed)}
    out["calibration"] = calibration(d)
    out["gap"] = gap_stats(d) if len(d) else {}
    if categories is not None:
        cats: dict[str, list[int]] = {}
        for i, c in enumerate(categories):
            cats.setdefault(c or "(none)", []).append(i)
        out["by_category"] = {c: {"n": len(ix), "accuracy": float(correct[ix].mean()),
                                  "ci95": bootstrap_ci(correct[ix], n_boot, seed)} for c, ix in sorted(cats.items())}
    if high_confidence is not None:
        m = np.asarray(high_confidence, dtype=bool)
        out["high_confidence"] = {"n": int(m.sum()), "accuracy": float(correct[m].mean()) if m.any() else float("nan"),
                                  "ci95": bootstrap_ci(correct[m], n_boot, seed)}
    return out
