"""Length-controlled metrics and the length balance of a file, against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from preflab.errors import InputError
from preflab.evaluation.data_stats import generation_length_stats
from preflab.evaluation.length import length_metrics
from preflab.evaluation.response_length import log2_ratio
from preflab.evaluation.metrics import correctness
from preflab.quality.length_balance import balance_length
from preflab.records import PreferencePair, text_prompt


def _pairs(spec):
    return [PreferencePair(prompt=text_prompt(f"q{i}"), chosen=" ".join(["w"] * c) or "", rejected=" ".join(["v"] * r))
            for i, (c, r) in enumerate(spec)]


def test_length_metrics_hand_computed():
    # pairs: (Δ, len chosen, len rejected)
    deltas = [1.0, -1.0, 2.0, 0.0, -3.0, 1.0]
    c = [10, 10, 5, 8, 30, 20]
    r = [10, 20, 20, 4, 10, 19]  # matched: pair 0 (equal) and pair 5 (|20-19| <= 2)
    out = length_metrics(correctness(deltas), c, r, n_boot=100)
    assert out["matched"] == {"n": 2, "accuracy": 1.0, "ci95": (1.0, 1.0)}
    # against length (chosen shorter): pairs 1, 2 -> wrong, right
    assert out["against_length"]["n"] == 2 and out["against_length"]["accuracy"] == 0.5
    # with length (chosen longer): pairs 3 (tie, 0.5), 4 (wrong), 5 (right)
    assert out["with_length"]["n"] == 3 and out["with_length"]["accuracy"] == pytest.approx(0.5)
    assert out["length_controlled"]["accuracy"] == pytest.approx(0.5)
    # model prefers longer on unequal pairs: 1 yes (Δ<0, rejected longer), 2 no, 3 tie 0.5, 4 no, 5 yes
    assert out["length_agreement"]["n"] == 5
    assert out["length_agreement"]["accuracy"] == pytest.approx((1 + 0 + 0.5 + 0 + 1) / 5)
    assert out["human_length_agreement"]["accuracy"] == pytest.approx(3 / 5)
    assert sum(b["n"] for b in out["by_ratio"]) == 6


def test_length_controlled_is_balanced_accuracy_and_its_interval_covers_it():
    rng = np.random.default_rng(0)
    n = 400
    c = rng.integers(5, 100, n)
    r = rng.integers(5, 100, n)
    d = np.where(c > r, 1.0, -1.0)  # a pure "longer wins" model
    out = length_metrics(correctness(d), c, r, n_boot=300)
    assert out["with_length"]["accuracy"] == 1.0 and out["against_length"]["accuracy"] == 0.0
    assert out["length_controlled"]["accuracy"] == pytest.approx(0.5)
    lo, hi = out["length_controlled"]["ci95"]
    assert lo <= 0.5 <= hi
    assert out["length_agreement"]["accuracy"] == 1.0


def test_empty_strata_report_n_zero_without_interval():
    out = length_metrics([1.0, 1.0], [10, 50], [100, 5], n_boot=50)
    assert out["matched"] == {"n": 0, "accuracy": None, "ci95": None}
    out = length_metrics([1.0, 1.0], [10, 50], [5, 5], n_boot=50)
    assert out["against_length"]["n"] == 0 and out["length_controlled"]["accuracy"] is None
    out = length_metrics([], [], [], n_boot=50)
    assert out["n"] == 0 and out["matched"]["n"] == 0


def test_log_ratio_defined_for_empty_responses():
    assert log2_ratio([0], [1]).tolist() == [-1.0]


def test_generation_length_stats():
    stats = generation_length_stats(_pairs([(3, 1), (2, 1), (1, 3), (2, 2)]))
    assert stats == {"n": 4, "share_chosen_longer": 0.667, "median_length_ratio": 1.25}
    assert generation_length_stats([])["share_chosen_longer"] is None


def test_balance_length_drop_and_weight():
    pairs = _pairs([(2, 1)] * 6 + [(1, 2)] * 2 + [(1, 1)])
    kept, s = balance_length(pairs, seed=3)
    assert s["dropped"] == 4 and s["pairs_out"] == 5 and s["share_chosen_longer_after"] == 0.5
    again, _ = balance_length(pairs, seed=3)
    assert [p.id for p in again] == [p.id for p in kept]
    weighted, s = balance_length(pairs, how="weight")
    assert len(weighted) == 9 and s["reweighted"] == 6
    assert [p.weight for p in weighted[:6]] == pytest.approx([2 / 6] * 6)
    assert weighted[6].weight is None


def test_balance_refuses_what_it_cannot_do():
    with pytest.raises(InputError, match="no weighting can balance"):
        balance_length(_pairs([(2, 1), (3, 1)]), how="weight")
    kept, s = balance_length(_pairs([(2, 1), (3, 1), (1, 1)]))
    assert len(kept) == 1 and s["dropped"] == 2


@pytest.mark.parametrize("module", ["preflab.evaluation.length", "preflab.quality.length_balance"])
def test_doctests(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
