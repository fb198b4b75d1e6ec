"""RewardBench 2's Ties score: does a reward model prefer every correct answer to every
incorrect one, by more than it separates the correct answers from each other?

The Ties subset asks questions with several equally correct answers ("name a prime number").
Each prompt comes in up to two variants, with ids ``ref:N`` and ``tied:N`` (N the prompt). A
variant's completions are its correct ones, then its incorrect ones. Per variant, with r the
rewards:

- accurate: the worst correct reward is above the best incorrect one (strictly);
- correct–incorrect margin: worst correct − best incorrect;
- correct spread: best correct − worst correct (only with two or more correct answers).

The score (what the benchmark reports, and what preflab's cross-check holds it to) weighs five
terms, each a mean over prompts:

    0.30 · accuracy over the ``tied`` variants + 0.30 · accuracy over the ``ref`` variants
  + 0.20 · [tied margin > tied spread] + 0.20 · [min(ref margin, tied margin) > tied spread]
  + 0.01 · tanh(min(ref margin, tied margin) / tied spread − 1)

The last three are taken over the prompts that have both variants and a tied spread (the
tanh term only where the spread is above 0). A term with no prompt to average over counts 0
(the reference gives 0 when no prompt has both variants, and NaN when none of those has a
spread; preflab says 0 in both cases).

Its interval resamples prompts (both variants of a prompt together), so :func:`replicates`
gives one score per bootstrap replicate, vectorised over all of them.

>>> prompts = ties_prompts([("ref:1", [2.0, 0.0], 1), ("tied:1", [3.0, 2.5, 1.0], 2)])
>>> round(ties_score(prompts), 4)   # 0.3 + 0.3 + 0.2 + 0.2 + 0.01 * tanh(1.5 / 0.5 - 1)
1.0096
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

#: The weights of the five terms, in the order of :data:`TERMS`.
WEIGHTS = (0.3, 0.3, 0.2, 0.2, 0.01)
TERMS = ("accuracy_tied", "accuracy_ref", "correctness_preferred", "correctness_preferred_hard", "margin_score")


@dataclass(frozen=True)
class TiesPrompts:
    """Per prompt (one entry per prompt number), the values and the masks of each term."""

    numbers: np.ndarray
    values: np.ndarray  # (5, prompts)
    masks: np.ndarray  # (5, prompts), bool


def _variant(rewards: Sequence[float], num_correct: int) -> tuple[bool, float, float | None]:
    """(accurate, correct–incorrect margin, correct spread or None)."""
    correct, incorrect = list(rewards[:num_correct]), list(rewards[num_correct:])
    worst, best_incorrect = min(correct), max(incorrect)
    spread = max(correct) - worst if len(correct) > 1 else None
    return worst > best_incorrect, worst - best_incorrect, spread


def ties_prompts(rows: Sequence[tuple[str, Sequence[float], int]]) -> TiesPrompts:
    """The per-prompt terms of Ties rows, each ``(id, rewards, num_correct)`` with the id
    ``ref:N`` or ``tied:N`` and ``1 <= num_correct < len(rewards)`` (as the reader checks)."""
    variants: dict[str, dict[int, tuple[bool, float, float | None]]] = {"ref": {}, "tied": {}}
    for row_id, rewards, num_correct in rows:
        kind, number = row_id.split(":")
        variants[kind][int(number)] = _variant(rewards, num_correct)
    numbers = sorted(set(variants["ref"]) | set(variants["tied"]))
    values = np.zeros((len(TERMS), len(numbers)))
    masks = np.zeros((len(TERMS), len(numbers)), dtype=bool)
    for j, number in enumerate(numbers):
        ref, tied = variants["ref"].get(number), variants["tied"].get(number)
        if tied is not None:
            values[0, j], masks[0, j] = tied[0], True
        if ref is not None:
            values[1, j], masks[1, j] = ref[0], True
        if ref is None or tied is None or tied[2] is None:
            continue
        spread, margin = tied[2], min(ref[1], tied[1])
        values[2, j], values[3, j] = tied[1] > spread, margin > spread
        masks[2, j] = masks[3, j] = True
        if spread > 0:
            values[4, j], masks[4, j] = np.tanh(margin / spread - 1), True
    return TiesPrompts(np.asarray(numbers), values, masks)


def _score(values: np.ndarray, masks: np.ndarray, axis: int) -> np.ndarray:
    """The weighted score from per-term sums over (resampled) prompts; an empty term is 0."""
    totals = (values * masks).sum(axis=axis)
    counts = masks.sum(axis=axis)
    means = np.divide(totals, counts, out=np.zeros_like(totals, dtype=np.float64), where=counts > 0)
    return np.tensordot(np.asarray(WEIGHTS), means, axes=1)


def ties_terms(prompts: TiesPrompts) -> dict[str, float | None]:
    """Each term's mean (None where no prompt has it), and how many prompts of each kind."""
    out: dict[str, float | None] = {}
    for name, values, mask in zip(TERMS, prompts.values, prompts.masks):
        out[name] = float(values[mask].mean()) if mask.any() else None
    return out


def ties_score(prompts: TiesPrompts) -> float:
    """The weighted Ties score (see the module's docstring)."""
    return float(_score(prompts.values, prompts.masks, axis=1))


def replicates(prompts: TiesPrompts, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """The Ties score of ``n_boot`` bootstrap resamples of the prompts."""
    n = len(prompts.numbers)
    if n == 0:
        return np.zeros(n_boot)
    idx = rng.integers(0, n, size=(n_boot, n))
    values = prompts.values[:, idx]  # (5, n_boot, n)
    masks = prompts.masks[:, idx]
    return _score(values, masks, axis=2)
