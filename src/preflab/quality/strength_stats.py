"""The arithmetic on an ensemble's (n_pairs × M) matrix of reward differences: μ and σ per
pair, the scale that puts members on one reward model's scale, and the summaries a strength
run reports. Pure numpy; the run that produces the matrix is :mod:`preflab.pipelines.strength`.

**One RM's scale (``calibrate``).** μ < 0 flips a label and a μ-margin becomes a training
margin, so μ must mean the same in every mode: a reward difference of one RM of the recipe,
fitted to the labels as much as one such RM fits them. ``seeds`` members are such RMs; heads on
a fine-tuned trunk and bootstrap members are not, and the pipeline rescales each member's
column to a reference RM's differences with :func:`rms_scale`.

Example: three models give d = [1.2, 0.4, −0.1] for a pair → μ = 0.5, σ = 0.535.

>>> from preflab.records import PreferencePair, text_prompt
>>> pair = PreferencePair(prompt=text_prompt("q"), chosen="a", rejected="b")
>>> [scored] = with_strength([pair], np.array([[1.2, 0.4, -0.1]]), StrengthConfig(members=3))
>>> round(scored.strength_mean, 3), round(scored.strength_std, 3)
(0.5, 0.535)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from preflab.quality.strength import StrengthConfig
from preflab.records import PreferencePair


def rms_scale(diffs: np.ndarray, reference: np.ndarray, fit: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each member's column multiplied by RMS(reference) / RMS(column), both over the pairs
    ``fit`` marks for that member (default: all): the members' differences get one reference
    RM's scale. A positive factor keeps every sign and every member's ranking; RMS rather than
    the standard deviation because 0 (no preference) is a fixed point of a reward difference.

    >>> scaled, factors = rms_scale(np.array([[2.0, 30.0], [-2.0, -30.0]]), np.array([1.0, -1.0]))
    >>> scaled.tolist(), factors.round(4).tolist()
    ([[1.0, 1.0], [-1.0, -1.0]], [0.5, 0.0333])
    """
    fit = np.ones(diffs.shape, dtype=bool) if fit is None else fit
    factors = np.ones(diffs.shape[1])
    for m in range(diffs.shape[1]):
        own = np.sqrt(np.mean(diffs[fit[:, m], m] ** 2))
        ref = np.sqrt(np.mean(reference[fit[:, m]] ** 2))
        factors[m] = ref / own if own > 0 else 1.0
    return diffs * factors, factors


def with_strength(pairs: Sequence[PreferencePair], diffs: np.ndarray, cfg: StrengthConfig) -> list[PreferencePair]:
    """Pairs with μ, σ (population std) and the raw differences in provenance; NaN (a member
    that did not score the pair) is left out of μ and σ and recorded as None."""
    mu = np.nanmean(diffs, axis=1)
    sigma = np.nanstd(diffs, axis=1)  # ddof=0: the paper's population std
    out = []
    for pair, m, s, row in zip(pairs, mu, sigma, diffs):
        raw = [None if np.isnan(v) else float(v) for v in row]
        out.append(pair.model_copy(update={
            "strength_mean": float(m), "strength_std": float(s),
            "provenance": {**pair.provenance, "strength": {"mode": cfg.mode, "recipe": cfg.recipe,
                                                           "members": cfg.members, "diffs": raw}},
        }))
    return out


def mu_summary(scored: Sequence[PreferencePair]) -> dict[str, Any]:
    """How many pairs, how many (and which share) the ensemble disagrees with (μ < 0), mean μ:
    the counts a strength run reports."""
    mu = np.array([p.strength_mean for p in scored])
    return {"pairs": len(scored), "mu_below_zero": int((mu < 0).sum()),
            "fraction_mu_below_zero": float((mu < 0).mean()) if len(mu) else 0.0,
            "mu_mean": float(mu.mean()) if len(mu) else 0.0}


def sigma_by_mu_bins(mu: np.ndarray, sigma: np.ndarray, bins: int = 20) -> list[dict[str, float]]:
    """Mean σ in ``bins`` equal-count bins of μ: the paper's U-shaped curve."""
    order = np.argsort(mu, kind="stable")
    rows = []
    for chunk in np.array_split(order, bins):
        if len(chunk):
            rows.append({"mu_mean": float(mu[chunk].mean()), "sigma_mean": float(sigma[chunk].mean()), "pairs": int(len(chunk))})
    return rows
