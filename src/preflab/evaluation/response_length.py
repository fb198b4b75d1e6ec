"""Response length and the "chosen is longer" rule: the one definition every length measure uses.

The unit is whitespace-separated words (:data:`UNIT`): the generation summary, ``data
inspect``, the length-controlled metrics, the "longer response wins" null baseline, length
debiasing and the embedding head's length feature all count with :func:`response_length`, so
"longer" means the same thing in every table.

A pair has one of three sides: the chosen response is longer, shorter, or the two have the same
length. Same length is a side of its own, never "not longer": a share of "chosen is longer"
(:func:`share_chosen_longer`) is taken over the pairs of unequal length, and the pairs of equal
length are counted apart.

>>> longer, shorter, same = length_sides([3, 1, 2], [1, 3, 2])
>>> longer.tolist(), shorter.tolist(), same.tolist()
([True, False, False], [False, True, False], [False, False, True])
>>> share_chosen_longer(int(longer.sum()), int(shorter.sum()))
0.5
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

#: The unit of :func:`response_length`, as the outputs name it.
UNIT = "words"


def response_length(text: str) -> int:
    """The length of a response (or of any text) in :data:`UNIT`.

    >>> response_length("  two\\nwords ")
    2
    """
    return len(text.split())


def pair_lengths(pairs: Sequence[Any]) -> tuple[list[int], list[int]]:
    """(chosen lengths, rejected lengths), for records with ``chosen`` / ``rejected``."""
    return [response_length(p.chosen) for p in pairs], [response_length(p.rejected) for p in pairs]


def length_sides(chosen_len: Sequence[float], rejected_len: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pair: (chosen is longer, chosen is shorter, same length), three masks of which
    exactly one holds."""
    c = np.asarray(chosen_len, dtype=np.float64)
    r = np.asarray(rejected_len, dtype=np.float64)
    return c > r, c < r, c == r


def share_chosen_longer(n_longer: int, n_shorter: int) -> float | None:
    """The share of pairs of unequal length where chosen is the longer response; None when
    every pair has the same length on both sides (or there are none)."""
    unequal = n_longer + n_shorter
    return None if unequal == 0 else n_longer / unequal


def log2_ratio(chosen_len: Sequence[float], rejected_len: Sequence[float]) -> np.ndarray:
    """log2((len chosen + 1) / (len rejected + 1)): defined for empty responses too."""
    c = np.asarray(chosen_len, dtype=np.float64)
    r = np.asarray(rejected_len, dtype=np.float64)
    return np.log2((c + 1.0) / (r + 1.0))
