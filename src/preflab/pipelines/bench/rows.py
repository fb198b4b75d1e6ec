"""The training sets of a bench's rows (docs/bench.md#rows).

With labelled base data: ``base-only``; per mix ratio R and method (or pairs file) M,
``base+M``: the base pairs plus R × |base| of M's pairs, a seeded draw, or all of them when M
made fewer (the row is then *capped*: it says how many it added of how many it was asked for,
never silently fewer); and, with ``base_human``, ``base+human``: the base pairs plus as many
human pairs of the generation prompts as the largest base+M row of that ratio added, so every
method is compared with at least as much human data as it added (a smaller method row meets
more human data than it brought). Several ratios name their rows ``base+M ×R``.

Draws are nested: each source's pairs are put in one seeded order and a row takes its first
k, so a larger ratio's row holds the smaller one's pairs and the scaling curve is not noise
from redrawing. A row's fingerprint is what decides its pairs (its sources' fingerprints and
k), so two ratios that draw the same pairs share one trained model.
"""

from __future__ import annotations

import random
from typing import Any

from preflab.records import PreferencePair


def draw(pairs: list[PreferencePair], k: int, seed: int) -> list[PreferencePair]:
    """The first ``k`` of ``pairs`` in one seeded order (all of them when ``k`` reaches their number)."""
    if k >= len(pairs):
        return list(pairs)
    order = random.Random(seed).sample(range(len(pairs)), len(pairs))
    return [pairs[i] for i in order[:k]]


def row_name(source: str, ratio: float, several: bool) -> str:
    return f"base+{source}" + (f" ×{ratio:g}" if several else "")


def _row(base: list[PreferencePair], added: list[PreferencePair], fps: list[str], asked: int, ratio: float,
         source: str) -> dict[str, Any]:
    mix = {"ratio": ratio, "from": source, "added": len(added), "asked": asked, "capped": len(added) < asked}
    return {"pairs": base + added, "fp": {"parts": fps, "added": len(added)}, "synthetic": len(added), "mix": mix}


def build_rows(base: list[PreferencePair], data_fp: str, sources: dict[str, tuple[list[PreferencePair], str]],
               ratios: list[float], seed: int, human: tuple[list[PreferencePair], str] | None = None
               ) -> dict[str, dict[str, Any]]:
    """Every row's training pairs: ``sources`` maps a method's key to (its pairs, their
    fingerprint); ``human`` is (the human pool, its fingerprint) for the base+human rows."""
    if not base:
        return {key: {"pairs": pairs, "fp": [fp], "synthetic": len(pairs)} for key, (pairs, fp) in sources.items()}
    rows: dict[str, dict[str, Any]] = {"base-only": {"pairs": base, "fp": [data_fp]}}
    several = len(ratios) > 1
    for ratio in ratios:
        asked = round(ratio * len(base))
        largest = 0
        for key, (pairs, fp) in sources.items():
            added = draw(pairs, asked, seed)
            rows[row_name(key, ratio, several)] = _row(base, added, [data_fp, fp], asked, ratio, key)
            largest = max(largest, len(added))
        if human is not None:
            pool, fp = human
            rows[row_name("human", ratio, several)] = _row(base, draw(pool, largest, seed), [data_fp, fp], largest, ratio,
                                                           "human")
    return rows
