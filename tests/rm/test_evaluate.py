"""Evaluation metrics against hand-computed values, baselines, and the written report."""

import json

import numpy as np
import pytest

from preflab.evaluation import bootstrap_ci, calibration, evaluate_deltas, first_position_deltas, gap_stats, longer_response_deltas, pairwise_accuracy
from preflab.evaluation.report import evaluate_pairs, table_rows, write_report
from preflab.records import PreferencePair, text_prompt


def test_accuracy_counts_ties_half():
    assert pairwise_accuracy([1, -1, 0, 2]) == pytest.approx(0.625)


def test_bootstrap_ci_brackets_and_narrows():
    rng = np.random.default_rng(0)
    small = (rng.random(50) < 0.7).astype(float)
    big = (rng.random(2000) < 0.7).astype(float)
    lo, hi = bootstrap_ci(small, seed=1)
    assert lo < small.mean() < hi
    blo, bhi = bootstrap_ci(big, seed=1)
    assert bhi - blo < hi - lo
    assert bootstrap_ci(small, seed=1) == (lo, hi)


def test_ece_hand_value():
    # Δ = ln 3 → σ = 0.75 for all four pairs, three right: conf 0.75, acc 0.75 → ECE 0
    assert calibration([np.log(3)] * 3 + [-np.log(3)])["ece"] == pytest.approx(0.0, abs=1e-9)
    # all four right at confidence 0.75 → |1 - 0.75| = 0.25
    assert calibration([np.log(3)] * 4)["ece"] == pytest.approx(0.25)


def test_gap_stats():
    g = gap_stats([-1.0, 1.0, 2.0, 2.0])
    assert g["mean"] == pytest.approx(1.0) and g["share_negative"] == pytest.approx(0.25)


def _pair(c, r, pos=None, agreement=None, cat=None):
    prov = {k: v for k, v in {"chosen_position": pos, "agreement": agreement}.items() if v is not None}
    return PreferencePair(prompt=text_prompt("q"), chosen=c, rejected=r, provenance=prov, category=cat)


def test_baselines():
    pairs = [_pair("a b", "c", 1), _pair("a", "b c d", 2)]
    assert longer_response_deltas(pairs) == [1.0, -2.0]
    assert first_position_deltas(pairs) == [1.0, -1.0]
    assert first_position_deltas([_pair("a", "b")]) is None


def test_report_per_category_high_confidence_and_files(tmp_path):
    pairs = [_pair("a b", "c", 1, "unanimous", "x"), _pair("a", "b c", 2, "majority", "y"),
             _pair("d e f", "g", 1, "unanimous", "x")]
    rewards = [(1.0, 0.0), (0.0, 1.0), (2.0, 0.5)]
    res = evaluate_pairs(pairs, rewards, n_boot=100)
    m = res["model"]
    assert m["accuracy"] == pytest.approx(2 / 3)
    assert m["by_category"]["x"]["accuracy"] == 1.0 and m["by_category"]["y"]["accuracy"] == 0.0
    assert m["high_confidence"] == {"n": 2, "accuracy": 1.0, "ci95": (1.0, 1.0)}
    assert set(res["baselines"]) == {"longer_response_wins", "first_position_wins"}
    files = write_report(res, tmp_path)
    assert json.loads(open(files["json"]).read())["model"]["n"] == 3
    assert open(files["png"], "rb").read(4) == b"\x89PNG"
    assert [r[0] for r in table_rows(res)] == ["model", "longer_response_wins", "first_position_wins"]


def test_evaluate_deltas_empty_subset_is_nan():
    out = evaluate_deltas([1.0], high_confidence=[False], n_boot=10)
    assert out["high_confidence"]["n"] == 0 and np.isnan(out["high_confidence"]["accuracy"])
