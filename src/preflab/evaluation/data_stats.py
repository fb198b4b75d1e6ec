"""Statistics of a set of preference pairs: the one streaming pass that ``preflab data inspect``
shows, and the length diagnostics of a generated set that the generation summary records.

Lengths, and which side is longer, come from :mod:`preflab.evaluation.response_length`
(words; a pair of equal length counts apart, never as "not longer"). Memory is one integer per
record per length column plus one id per record; no step is worse than sorting the lengths
once, so 100k records take about a second.

>>> from preflab.records import text_prompt
>>> ps = [PreferencePair(prompt=text_prompt("q"), chosen=c, rejected=r) for c, r in
...       [("a b c", "d"), ("a b", "c d"), ("a", "b c d")]]
>>> s = pair_stats(ps)
>>> s.chosen_longer, s.chosen_shorter, s.same_length, s.share_chosen_longer
(1, 1, 1, 0.5)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from preflab.evaluation.response_length import length_sides, pair_lengths, response_length, share_chosen_longer
from preflab.records import PreferencePair, prompt_id


@dataclass
class PairStats:
    records: int = 0
    prompts: int = 0
    duplicate_ids: int = 0
    duplicate_reversed: int = 0
    multi_turn: int = 0
    flipped: int = 0
    score_ties: int = 0
    with_margin: int = 0
    chosen_longer: int = 0
    chosen_shorter: int = 0
    same_length: int = 0
    categories: Counter = field(default_factory=Counter)
    lengths: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def share_chosen_longer(self) -> float | None:
        """Of the pairs of unequal length, the share where chosen is longer (None if none)."""
        return share_chosen_longer(self.chosen_longer, self.chosen_shorter)


def _summary(values: list[int]) -> dict[str, float]:
    if not values:
        return {}
    arr = np.asarray(values)
    return {
        "mean": float(arr.mean()), "median": float(np.median(arr)),
        "p95": float(np.percentile(arr, 95)), "max": int(arr.max()), "min": int(arr.min()),
    }


def pair_stats(pairs: Iterable[PreferencePair]) -> PairStats:
    """Counts, duplicates, lengths and the sides of the length comparison, in one pass.

    ``duplicate_ids`` counts records whose comparison already appeared in the same order;
    ``duplicate_reversed`` counts ones that appeared with chosen and rejected swapped (a
    contradiction between two labels). ``chosen_longer`` / ``chosen_shorter`` / ``same_length``
    feed the length-bias check. A prompt's length is the sum over its messages.
    """
    stats = PairStats()
    seen: dict[str, str] = {}
    prompts: set[str] = set()
    lengths: dict[str, list[int]] = {"prompt": [], "chosen": [], "rejected": []}
    for pair in pairs:
        stats.records += 1
        previous = seen.get(pair.id)
        if previous is None:
            seen[pair.id] = pair.chosen
        elif previous == pair.chosen:
            stats.duplicate_ids += 1
        else:
            stats.duplicate_reversed += 1
        prompts.add(prompt_id(pair.prompt))
        stats.multi_turn += len(pair.prompt) > 1
        stats.flipped += pair.flipped
        stats.with_margin += pair.margin is not None
        if pair.chosen_score is not None and pair.chosen_score == pair.rejected_score:
            stats.score_ties += 1
        if pair.category is not None:
            stats.categories[pair.category] += 1
        lengths["prompt"].append(sum(response_length(m.content) for m in pair.prompt))
        lengths["chosen"].append(response_length(pair.chosen))
        lengths["rejected"].append(response_length(pair.rejected))
    longer, shorter, same = length_sides(lengths["chosen"], lengths["rejected"])
    stats.chosen_longer, stats.chosen_shorter, stats.same_length = int(longer.sum()), int(shorter.sum()), int(same.sum())
    stats.prompts = len(prompts)
    stats.lengths = {name: _summary(values) for name, values in lengths.items()}
    return stats


def generation_length_stats(pairs: Sequence[Any]) -> dict[str, Any]:
    """Length diagnostics of a synthetic pair set: does its label mostly say "longer wins"?

    ``share_chosen_longer`` is taken over the pairs of unequal length; ``median_length_ratio``
    is the median of len(chosen) / len(rejected) (+1 each, so empty responses count).

    >>> from preflab.records import text_prompt
    >>> ps = [PreferencePair(prompt=text_prompt("q"), chosen=c, rejected=r) for c, r in
    ...       [("a b c", "d"), ("a b", "c"), ("a", "b c d")]]
    >>> generation_length_stats(ps)
    {'n': 3, 'share_chosen_longer': 0.667, 'median_length_ratio': 1.5}
    """
    chosen, rejected = pair_lengths(pairs)
    if not pairs:
        return {"n": 0, "share_chosen_longer": None, "median_length_ratio": None}
    longer, shorter, _ = length_sides(chosen, rejected)
    share = share_chosen_longer(int(longer.sum()), int(shorter.sum()))
    c, r = np.asarray(chosen, dtype=np.float64), np.asarray(rejected, dtype=np.float64)
    return {"n": len(pairs), "share_chosen_longer": None if share is None else round(share, 3),
            "median_length_ratio": round(float(np.median((c + 1) / (r + 1))), 3)}
