"""AUC of a score for a known set of pairs, with its bootstrap interval."""

import numpy as np
import pytest

from preflab.evaluation import auc, detection_auc


def _brute(scores, positive):
    pos = [s for s, y in zip(scores, positive) if y]
    neg = [s for s, y in zip(scores, positive) if not y]
    return np.mean([1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg])


def test_auc_matches_the_pairwise_definition_with_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, size=60).astype(float)  # many ties
    positive = rng.random(60) < 0.3
    assert auc(scores, positive) == pytest.approx(_brute(scores, positive))
    assert auc([0.0, 1.0, 2.0], [False, False, True]) == 1.0 and auc([0.0, 1.0, 2.0], [True, False, False]) == 0.0
    assert np.isnan(auc([1.0, 2.0], [True, True]))


def test_interval_covers_the_estimate_and_narrows_with_data():
    rng = np.random.default_rng(1)

    def run(n):
        y = rng.random(n) < 0.25
        return rng.normal(size=n) + 0.8 * y, y

    small, large = detection_auc([run(80)], n_boot=500), detection_auc([run(4000)], n_boot=500)
    for r in (small, large):
        assert r["ci95"][0] < r["auc"] < r["ci95"][1]
    assert large["ci95"][1] - large["ci95"][0] < (small["ci95"][1] - small["ci95"][0]) / 3
    assert 0.66 < large["auc"] < 0.77  # Φ(0.8 / √2) ≈ 0.71


def test_several_runs_average_and_keep_their_own_counts():
    runs = [([3.0, 2.0, 1.0, 0.0], [True, True, False, False]), ([3.0, 2.0, 1.0, 0.0, 5.0], [False, True, False, True, False])]
    r = detection_auc(runs, n_boot=200, seed=4)
    assert r["per_run"] == [1.0, auc(*runs[1])] and r["auc"] == pytest.approx(np.mean(r["per_run"]))
    assert r["positives"] == [2, 2] and r["n"] == [4, 5] and r["runs"] == 2
    assert detection_auc(runs, n_boot=200, seed=4) == r
    rng = np.random.default_rng(2)
    y = rng.random(300) < 0.3
    noisy = [(rng.normal(size=300) + y, y)]
    assert detection_auc(noisy, n_boot=200, seed=5)["ci95"] != detection_auc(noisy, n_boot=200, seed=6)["ci95"]
    assert np.isnan(detection_auc([([1.0], [True])])["auc"])


def test_hand_computed_case_counts_ties_half():
    # positives 2 and 1, negatives 1 and 0: (2>1) + (2>0) + (1=1: ½) + (1>0) = 3.5 of 4 pairs
    assert auc([2.0, 1.0, 1.0, 0.0], [True, True, False, False]) == 0.875
    assert auc([1.0] * 5, [True, False, True, False, False]) == 0.5  # a constant score finds nothing
    rng = np.random.default_rng(3)
    scores, positive = rng.integers(0, 3, size=40).astype(float), rng.random(40) < 0.4
    assert auc(-scores, positive) == pytest.approx(1 - auc(scores, positive))  # ties half keep the symmetry


def test_bootstrap_is_stratified():
    # resampling positives and negatives apart keeps both in every replicate: a perfect ranking
    # stays perfect (a plain bootstrap would draw replicates without a positive)
    r = detection_auc([([3.0, 2.0, 1.0, 0.0], [True, False, False, False])], n_boot=300)
    assert r["auc"] == 1.0 and r["ci95"] == [1.0, 1.0]
