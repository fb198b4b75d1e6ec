"""Operations on a set of pairs that every command shares: the distinct prompts of some pairs,
and the train/test split that keeps each prompt on one side."""

from __future__ import annotations

import random
from typing import Iterable, Iterator

from preflab.errors import ConfigError
from preflab.records import PreferencePair, PromptRecord, prompt_id


def prompts_of(pairs: Iterable[PreferencePair]) -> Iterator[PromptRecord]:
    """The distinct prompts of some pairs, first occurrence first."""
    seen: set[str] = set()
    for pair in pairs:
        pid = prompt_id(pair.prompt)
        if pid not in seen:
            seen.add(pid)
            yield PromptRecord(id=pid, prompt=pair.prompt, category=pair.category,
                               provenance={"from_pair": pair.id})


def split_pairs(pairs: Iterable[PreferencePair], test_fraction: float, seed: int) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """Seeded train/test split that keeps every prompt's pairs on one side (no prompt leaks
    from train into test). The test side gets ``round(test_fraction × prompts)`` prompts."""
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"test fraction must lie strictly between 0 and 1, got {test_fraction}")
    groups: dict[str, list[PreferencePair]] = {}
    for pair in pairs:
        groups.setdefault(prompt_id(pair.prompt), []).append(pair)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    n_test = round(test_fraction * len(keys))
    test_keys = set(keys[:n_test])
    train = [p for k in groups if k not in test_keys for p in groups[k]]
    test = [p for k in groups if k in test_keys for p in groups[k]]
    return train, test
