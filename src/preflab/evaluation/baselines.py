"""Null baselines scored like a model, so they sit beside it in every table. The one place
they are computed: ``preflab eval`` (:func:`preflab.evaluation.report.evaluate_pairs`) and the
bench both call :func:`null_baselines`, so the same pairs and seed give the same numbers.

- longer-response-wins: Δ = len(chosen) − len(rejected) in the unit of
  :mod:`preflab.evaluation.response_length` (words); same length is Δ = 0, a tie. Length bias
  is the strongest cheap signal in many preference sets; a reward model that does not beat
  it learned little else.
- first-position-wins: Δ = +1 if the chosen response was shown first to the annotators, −1 if
  second; needs ``provenance["chosen_position"]`` (1 or 2, PandaLM has it), else unavailable.

Each is scored by :func:`preflab.evaluation.metrics.evaluate_deltas`: accuracy with its
bootstrap interval (the resampling every accuracy in preflab uses), calibration and gaps.

Rows with any number of responses (RewardBench's two completions, RewardBench 2's four) take
the baselines as a score per response (:data:`NULL_RESPONSE_SCORES`), scored by the
benchmark's own rules (:mod:`preflab.evaluation.rewardbench`):

- longer-response-wins: each response scores its length, so the longest wins;
- all-tied: every response scores 0, the scorer that cannot tell responses apart (chance).

The first-position baseline needs the position a response was shown in, which rows of
independently scored responses do not have.

>>> from preflab.records import PreferencePair, text_prompt
>>> p = PreferencePair(prompt=text_prompt("q"), chosen="a b c", rejected="d")
>>> longer_response_deltas([p])
[2.0]
>>> null_baselines([p], n_boot=10)["longer_response_wins"]["accuracy"]
1.0
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from preflab.evaluation.metrics import evaluate_deltas
from preflab.evaluation.response_length import pair_lengths, response_length
from preflab.records import PreferencePair


def longer_response_scores(responses: Sequence[str]) -> list[float]:
    """The longer-response-wins score of each response: its length (the unit of
    :mod:`preflab.evaluation.response_length`).

    >>> longer_response_scores(["a b", "c d e", ""])
    [2.0, 3.0, 0.0]
    """
    return [float(response_length(r)) for r in responses]


def all_tied_scores(responses: Sequence[str]) -> list[float]:
    """The same score for every response: the null scorer that cannot tell them apart."""
    return [0.0] * len(responses)


#: The null baselines as a score per response, by name, for rows of any number of responses.
NULL_RESPONSE_SCORES: dict[str, Callable[[Sequence[str]], list[float]]] = {
    "longer_response_wins": longer_response_scores,
    "all_tied": all_tied_scores,
}


def longer_response_deltas(pairs: Sequence[PreferencePair]) -> list[float]:
    chosen, rejected = pair_lengths(pairs)
    return [float(c - r) for c, r in zip(chosen, rejected)]


def first_position_deltas(pairs: Sequence[PreferencePair]) -> list[float] | None:
    """None when any pair lacks the position it was shown in."""
    out = []
    for p in pairs:
        pos = p.provenance.get("chosen_position")
        if pos not in (1, 2):
            return None
        out.append(1.0 if pos == 1 else -1.0)
    return out


#: Every null baseline by name, with its Δ per pair (None when the pairs lack what it needs).
NULL_BASELINES: dict[str, Callable[[Sequence[PreferencePair]], list[float] | None]] = {
    "longer_response_wins": longer_response_deltas,
    "first_position_wins": first_position_deltas,
}


def null_baselines(pairs: Sequence[PreferencePair], *, high_confidence: Sequence[bool] | None = None,
                   n_boot: int = 2000, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Every baseline available on ``pairs``, by name, scored with
    :func:`~preflab.evaluation.metrics.evaluate_deltas` (``high_confidence`` as there)."""
    out = {}
    for name, deltas_of in NULL_BASELINES.items():
        deltas = deltas_of(pairs)
        if deltas is not None:
            out[name] = evaluate_deltas(deltas, high_confidence=high_confidence, n_boot=n_boot, seed=seed)
    return out
