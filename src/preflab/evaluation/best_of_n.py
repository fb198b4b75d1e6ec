"""Best-of-N from scores: which sample each reward model picks out of nested, seeded subsets of
the N drawn, the gold score of those picks beside a random and an oracle pick, and the win rate
of one model's picks over another's (docs/reward-models.md#best-of-n).

Every prompt has ``n`` samples, a proxy score per sample from each RM under test and a gold
score per sample. For each prompt and each of ``draws`` seeded orders of its samples, the
subset for best-of-k is the first k of that order, so the subsets are nested (best-of-2 sees
what best-of-1 saw and one more) and the same for every RM (paired). An RM picks its
highest-scoring sample of the subset (a tie goes to the earlier sample in the order, a random
choice among the tied). The **random** pick's gold score is its expectation, the mean gold score
of the subset; the **oracle** pick is the subset's best gold score. Numbers per prompt are
averaged over the draws, and intervals are percentile bootstraps over prompts
(:func:`preflab.evaluation.metrics.bootstrap_ci`), paired where two picks on the same prompts
are compared (:func:`preflab.evaluation.metrics.paired_difference`).

Example: samples with gold [0.1, 0.9, 0.4] and proxy [2, 1, 3], order (0, 1, 2): best-of-1
picks sample 0 (gold 0.1); best-of-2 picks sample 0 again (proxy 2 > 1), while the oracle has
0.9 and the random pick 0.5; best-of-3 picks sample 2 (gold 0.4).

>>> orders = np.array([[[0, 1, 2]]])
>>> gold, proxy = np.array([[0.1, 0.9, 0.4]]), np.array([[2.0, 1.0, 3.0]])
>>> [int(best_of(proxy, orders, k)[0, 0]) for k in (1, 2, 3)]
[0, 0, 2]
>>> float(random_gold(gold, orders, 2)[0, 0]), float(oracle_gold(gold, orders, 2)[0, 0])
(0.5, 0.9)
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, Sequence

import numpy as np

from preflab.evaluation.metrics import bootstrap_ci, paired_difference


def default_ns(n: int) -> list[int]:
    """The N values reported when none are asked for: 1, 2, 4, ... up to ``n``, and ``n``.

    >>> default_ns(16), default_ns(12)
    ([1, 2, 4, 8, 16], [1, 2, 4, 8, 12])
    """
    ks = [2 ** i for i in range(n.bit_length()) if 2 ** i <= n]
    return ks + ([n] if ks[-1] != n else [])


def kl_best_of_n(k: int) -> float:
    """The analytic KL divergence (nats) of best-of-k sampling from the policy, log k − (k − 1)/k:
    the x axis of the Gao et al. (2022) over-optimisation curves."""
    return math.log(k) - (k - 1) / k


def subset_orders(prompt_ids: Sequence[str], n: int, draws: int, seed: int) -> np.ndarray:
    """``[prompts, draws, n]``: one seeded order of the n samples per prompt and draw, drawn
    from (seed, prompt id, draw) alone, so it does not depend on the order of the prompts."""
    out = np.empty((len(prompt_ids), draws, n), dtype=np.int64)
    for p, pid in enumerate(prompt_ids):
        for d in range(draws):
            digest = hashlib.sha256(f"preflab-bon/{seed}/{pid}/{d}".encode()).digest()
            out[p, d] = np.random.default_rng(int.from_bytes(digest[:8], "little")).permutation(n)
    return out


def _subset(values: np.ndarray, orders: np.ndarray, k: int) -> np.ndarray:
    """``[prompts, draws, k]``: the values of the first k samples of each order."""
    return np.take_along_axis(np.asarray(values, dtype=np.float64)[:, None, :], orders[:, :, :k], axis=2)


def best_of(scores: np.ndarray, orders: np.ndarray, k: int) -> np.ndarray:
    """``[prompts, draws]``: the sample index a scorer picks from each best-of-k subset."""
    position = np.argmax(_subset(scores, orders, k), axis=2)  # the first maximum: the earlier sample in the order
    return np.take_along_axis(orders[:, :, :k], position[..., None], axis=2)[..., 0]


def gold_of(gold: np.ndarray, picks: np.ndarray) -> np.ndarray:
    """``[prompts, draws]``: the gold score of each picked sample."""
    return np.take_along_axis(np.asarray(gold, dtype=np.float64), picks, axis=1)


def random_gold(gold: np.ndarray, orders: np.ndarray, k: int) -> np.ndarray:
    """The expected gold score of a uniformly random pick from each subset (its mean)."""
    return _subset(gold, orders, k).mean(axis=2)


def oracle_gold(gold: np.ndarray, orders: np.ndarray, k: int) -> np.ndarray:
    """The gold scorer's own best of each subset."""
    return _subset(gold, orders, k).max(axis=2)


def gold_wins(gold: np.ndarray, picks_a: np.ndarray, picks_b: np.ndarray) -> np.ndarray:
    """``[prompts, draws]``: 1 where A's pick has the higher gold score, 0 where B's does, 0.5
    on a tie (the same sample, or equal scores)."""
    a, b = gold_of(gold, picks_a), gold_of(gold, picks_b)
    return (a > b).astype(np.float64) + 0.5 * (a == b)


def mean_summary(runs: Sequence[np.ndarray], n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """The mean of per-prompt values (``[prompts]`` or ``[prompts, draws]``, draws averaged)
    over one or more runs (RM seeds) of the same prompts: the mean over runs, their std, and
    the bootstrap interval of the run-averaged value per prompt."""
    per_prompt = [_per_prompt(r) for r in runs]
    if not per_prompt or not len(per_prompt[0]):
        return {"n": 0}
    means = [float(v.mean()) for v in per_prompt]
    lo, hi = bootstrap_ci(np.mean(per_prompt, axis=0), n_boot, seed)
    return {"mean": float(np.mean(means)), "seed_std": float(np.std(means)), "ci95": [lo, hi],
            "seeds": len(per_prompt), "n": int(len(per_prompt[0]))}


def win_summary(runs: Sequence[np.ndarray], n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Win rate of A's picks over B's from per-(prompt, draw) wins in [0, 1] (one array per
    run, e.g. per pair of RM seeds): the mean, its bootstrap interval over prompts (paired: both
    picks come from the same subsets of the same prompts) and the share of exact ties."""
    out = mean_summary(runs, n_boot, seed)
    if out["n"]:
        out["win_rate"] = out.pop("mean")
        out["ties"] = float(np.mean([np.mean(np.asarray(r) == 0.5) for r in runs]))
    return out


def _per_prompt(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return values.mean(axis=1) if values.ndim == 2 else values


def bon_curves(gold: np.ndarray, proxies: dict[str, Sequence[np.ndarray]], orders: np.ndarray, ks: Sequence[int],
               n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """The gold score of each RM's pick at every k (``proxies``: label → one ``[prompts, n]``
    score array per run), of the random pick and of the oracle pick, with intervals; each RM's
    gain over the random pick (paired interval); the mean proxy score of its picks (rising proxy
    with flat gold is over-optimisation). Keys of k are strings, as results.json stores them."""
    curves: dict[str, Any] = {}
    randoms = {k: random_gold(gold, orders, k) for k in ks}
    for label, runs in proxies.items():
        curves[label] = {}
        for k in ks:
            picks = [best_of(r, orders, k) for r in runs]
            values = [gold_of(gold, p) for p in picks]
            cell = mean_summary(values, n_boot, seed)
            cell["vs_random"] = paired_difference([_per_prompt(v) for v in values], [_per_prompt(randoms[k])],
                                                  n_boot, seed)
            cell["proxy"] = float(np.mean([gold_of(r, p).mean() for r, p in zip(runs, picks)]))
            curves[label][str(k)] = cell
    return {"curves": curves,
            "random": {str(k): mean_summary([randoms[k]], n_boot, seed) for k in ks},
            "oracle": {str(k): mean_summary([oracle_gold(gold, orders, k)], n_boot, seed) for k in ks},
            "kl_nats": {str(k): kl_best_of_n(k) for k in ks}}
