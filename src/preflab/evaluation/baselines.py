"""Null baselines scored like a model, so they sit beside it in every table.

- longer-response-wins: Δ = words(chosen) − words(rejected). Length bias is the strongest cheap
  signal in many preference sets; a reward model that does not beat it learned little else.
- first-position-wins: Δ = +1 if the chosen response was shown first to the annotators, −1 if
  second; needs ``provenance["chosen_position"]`` (1 or 2, PandaLM has it), else unavailable.

>>> from preflab.records import PreferencePair, text_prompt
>>> p = PreferencePair(prompt=text_prompt("q"), chosen="a b c", rejected="d")
>>> longer_response_deltas([p])
[2.0]
"""

from __future__ import annotations

from typing import Sequence

from preflab.records import PreferencePair


def longer_response_deltas(pairs: Sequence[PreferencePair]) -> list[float]:
    return [float(len(p.chosen.split()) - len(p.rejected.split())) for p in pairs]


def first_position_deltas(pairs: Sequence[PreferencePair]) -> list[float] | None:
    """None when any pair lacks the position it was shown in."""
    out = []
    for p in pairs:
        pos = p.provenance.get("chosen_position")
        if pos not in (1, 2):
            return None
        out.append(1.0 if pos == 1 else -1.0)
    return out
