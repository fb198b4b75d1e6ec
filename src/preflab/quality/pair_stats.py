"""One streaming pass of statistics over preference pairs (what ``preflab data inspect`` shows).

Memory is one integer per record per length column plus one id per record; no step is worse
than sorting the lengths once, so 100k records take about a second.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

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
    categories: Counter = field(default_factory=Counter)
    lengths: dict[str, dict[str, float]] = field(default_factory=dict)


def _summary(values: list[int]) -> dict[str, float]:
    if not values:
        return {}
    arr = np.asarray(values)
    return {
        "mean": float(arr.mean()), "median": float(np.median(arr)),
        "p95": float(np.percentile(arr, 95)), "max": int(arr.max()), "min": int(arr.min()),
    }


def pair_stats(pairs: Iterable[PreferencePair]) -> PairStats:
    """Counts, duplicates and length statistics (characters) in one pass.

    ``duplicate_ids`` counts records whose comparison already appeared in the same order;
    ``duplicate_reversed`` counts ones that appeared with chosen and rejected swapped (a
    contradiction between two labels). ``chosen_longer`` feeds the length-bias check.
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
        lengths["prompt"].append(sum(len(m.content) for m in pair.prompt))
        lengths["chosen"].append(len(pair.chosen))
        lengths["rejected"].append(len(pair.rejected))
        stats.chosen_longer += len(pair.chosen) > len(pair.rejected)
    stats.prompts = len(prompts)
    stats.lengths = {name: _summary(values) for name, values in lengths.items()}
    return stats
