"""Known label noise: a seeded, recorded flip of a fraction of the labels."""

import numpy as np
import pytest

from preflab.errors import ConfigError
from preflab.quality.noise import flip_labels
from preflab.records import PreferencePair, text_prompt


def _pairs(n):
    return [PreferencePair(prompt=text_prompt(f"q{i}"), chosen=f"c{i}", rejected=f"r{i}", chosen_score=1.0,
                           rejected_score=0.0, provenance={"source": "test"}) for i in range(n)]


def test_flips_exactly_the_recorded_pairs_and_keeps_ids():
    pairs = _pairs(40)
    noisy, flipped = flip_labels(pairs, 0.25, seed=3)
    assert flipped.dtype == bool and flipped.sum() == 10
    for before, after, f in zip(pairs, noisy, flipped):
        assert after.id == before.id and after.flipped is False
        assert (after.chosen, after.rejected) == ((before.rejected, before.chosen) if f else (before.chosen, before.rejected))
        assert (after.chosen_score, after.rejected_score) == ((0.0, 1.0) if f else (1.0, 0.0))
        assert after.provenance == {"source": "test", "noise": {"flipped": bool(f), "fraction": 0.25, "seed": 3}}


def test_seeded_nested_and_rounded():
    pairs = _pairs(50)
    _, a = flip_labels(pairs, 0.1, seed=1)
    _, b = flip_labels(pairs, 0.4, seed=1)
    _, again = flip_labels(pairs, 0.1, seed=1)
    _, other = flip_labels(pairs, 0.1, seed=2)
    assert (a == again).all() and not (a == other).all()
    assert a.sum() == 5 and b.sum() == 20 and (b[a]).all()  # the 10% set is inside the 40% set
    assert flip_labels(_pairs(7), 0.25, seed=0)[1].sum() == 2  # round(1.75)
    assert flip_labels(pairs, 0.0)[1].sum() == 0 and flip_labels(pairs, 1.0)[1].all()


def test_a_fraction_outside_zero_one_is_refused():
    with pytest.raises(ConfigError, match="fraction must lie in"):
        flip_labels(_pairs(3), 1.5)


def test_nested_over_the_three_levels_and_the_input_is_untouched():
    pairs = _pairs(200)
    masks = [flip_labels(pairs, f, seed=7)[1] for f in (0.1, 0.25, 0.4)]
    assert [int(m.sum()) for m in masks] == [20, 50, 80]
    assert masks[1][masks[0]].all() and masks[2][masks[1]].all()
    noisy, flipped = flip_labels(pairs, 0.25, seed=7)
    assert all(p.chosen == f"c{i}" and "noise" not in p.provenance for i, p in enumerate(pairs))
    back, again = flip_labels(noisy, 0.25, seed=7)  # the same draw flips the same pairs back
    assert (again == flipped).all() and [(p.chosen, p.rejected) for p in back] == [(p.chosen, p.rejected) for p in pairs]


def test_nan_fraction_is_refused():
    with pytest.raises(ConfigError, match="fraction"):
        flip_labels(_pairs(3), float("nan"))
