"""Known label noise: flip a seeded fraction of the labels and record which.

Why: preference strength (docs/reward-models.md#preference-strength) is meant to find wrong
labels, and on real data nobody knows which labels are wrong. Flipping a known set of labels
in data you trust gives a ground truth to measure an ensemble against (the AUC of −μ for "was
flipped", :func:`preflab.evaluation.detection_auc`) and a clean twin to measure a repair
against.

The flipped pairs are a seeded draw of exactly ``round(fraction × n)`` pairs. For one seed the
draw is a prefix of one permutation, so the sets are nested: the pairs flipped at 10% are
among those flipped at 25%. Each output pair records ``provenance["noise"]`` (flipped or not,
the fraction and the seed); the pair's ``id`` does not change (it hashes the two responses as
an unordered set) and ``flipped`` stays as it was, because it records a *repair*
(:func:`preflab.quality.treatments.flip`), not noise.

>>> from preflab.records import PreferencePair, text_prompt
>>> pairs = [PreferencePair(prompt=text_prompt(f"q{i}"), chosen="good", rejected="bad") for i in range(4)]
>>> noisy, flipped = flip_labels(pairs, 0.5, seed=0)
>>> int(flipped.sum()), [p.chosen for p in noisy] == ["bad" if f else "good" for f in flipped]
(2, True)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from preflab.errors import ConfigError, about
from preflab.records import PreferencePair


def flip_labels(pairs: Sequence[PreferencePair], fraction: float, seed: int = 0) -> tuple[list[PreferencePair], np.ndarray]:
    """The pairs with a seeded ``fraction`` of them swapped (chosen ↔ rejected, and their
    scores), and the boolean mask of the swapped ones, in the order of ``pairs``."""
    if not 0.0 <= fraction <= 1.0:
        raise ConfigError(about("fraction", f"must lie in [0, 1], got {fraction}"))
    pairs = list(pairs)
    order = np.random.default_rng(seed).permutation(len(pairs))
    flipped = np.zeros(len(pairs), dtype=bool)
    flipped[order[:int(round(fraction * len(pairs)))]] = True
    out = []
    for pair, swap in zip(pairs, flipped):
        update = {"provenance": {**pair.provenance, "noise": {"flipped": bool(swap), "fraction": fraction, "seed": seed}}}
        if swap:
            update.update(chosen=pair.rejected, rejected=pair.chosen,
                          chosen_score=pair.rejected_score, rejected_score=pair.chosen_score)
        out.append(pair.model_copy(update=update))
    return out, flipped
