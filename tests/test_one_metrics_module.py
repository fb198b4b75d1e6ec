"""Accuracy and its intervals come from preflab.evaluation everywhere: ``preflab eval`` and the
bench give the same numbers for the same pairs, rewards and bootstrap seed."""

from pathlib import Path

import numpy as np
import pytest

from preflab.pipelines.bench.run import _baselines, summarise
from preflab.evaluation import correctness, paired_difference, pairwise_accuracy
from preflab.evaluation.report import evaluate_pairs
from preflab.io import read_pairs

CHECK_SET = Path(__file__).resolve().parents[1] / "src" / "preflab" / "data" / "quickstart_eval.jsonl"


@pytest.mark.parametrize("seed", [0, 7])
def test_bench_and_eval_give_identical_intervals(seed):
    pairs = list(read_pairs(CHECK_SET))
    rng = np.random.default_rng(3)
    rewards = [(float(c), float(r)) for c, r in rng.normal(size=(len(pairs), 2)).round(1)]  # some exact ties
    assert any(c == r for c, r in rewards)
    evaluated = evaluate_pairs(pairs, rewards, n_boot=500, seed=seed)
    # the bench keeps per-pair correctness per RM seed, then summarises: here one RM seed
    per_seed = [{"eval": {"check": {"correct": correctness([c - r for c, r in rewards]).tolist()}}}]
    cell = summarise(per_seed, "check", n_boot=500, seed=seed)
    assert cell["accuracy"] == evaluated["model"]["accuracy"] == pairwise_accuracy([c - r for c, r in rewards])
    assert cell["ci95"] == list(evaluated["model"]["ci95"])
    baseline = _baselines({"check": pairs}, n_boot=500, seed=seed)["longer-response-wins"]["check"]
    assert baseline["ci95"] == list(evaluated["baselines"]["longer_response_wins"]["ci95"])
    assert baseline["accuracy"] == evaluated["baselines"]["longer_response_wins"]["accuracy"]


def test_the_interval_depends_on_the_seed_and_averages_seeds_per_pair():
    runs = [np.array([1.0, 0.0, 1.0, 1.0, 0.5, 1.0]), np.array([1.0, 1.0, 0.0, 1.0, 0.5, 0.0])]
    per_seed = [{"eval": {"e": {"correct": list(r)}}} for r in runs]
    a, b = summarise(per_seed, "e", n_boot=300, seed=0), summarise(per_seed, "e", n_boot=300, seed=1)
    assert a["accuracy"] == b["accuracy"] == pytest.approx(np.mean(runs)) and a["ci95"] != b["ci95"]
    assert a["seed_std"] == pytest.approx(np.std([r.mean() for r in runs])) and a["per_seed"] == [r.mean() for r in runs]
    same = paired_difference(runs, runs, n_boot=300)
    assert same["delta"] == 0 and same["ci95"] == [0.0, 0.0]


def test_bench_has_every_null_baseline_of_eval_with_the_same_numbers():
    from preflab.records import PreferencePair, text_prompt

    pairs = [PreferencePair(prompt=text_prompt(f"q{i}"), chosen=" ".join("w" * (1 + i % 4)), rejected=" ".join("v" * (1 + i % 3)),
                            provenance={"chosen_position": 1 + i % 2 if i % 5 else 1}) for i in range(40)]
    evaluated = evaluate_pairs(pairs, [(0.0, 0.0)] * len(pairs), n_boot=200, seed=3)["baselines"]
    bench = _baselines({"set": pairs}, n_boot=200, seed=3)
    assert list(bench) == ["longer-response-wins", "first-position-wins"] == [k.replace("_", "-") for k in evaluated]
    for name, r in evaluated.items():
        cell = bench[name.replace("_", "-")]["set"]
        assert (cell["accuracy"], cell["ci95"], cell["n"]) == (r["accuracy"], list(r["ci95"]), r["n"])
    # a longer-wins Δ of 0 (equal length) is a tie, scored half right like any tie
    ties = sum(len(p.chosen.split()) == len(p.rejected.split()) for p in pairs)
    wins = sum(len(p.chosen.split()) > len(p.rejected.split()) for p in pairs)
    assert ties and evaluated["longer_response_wins"]["accuracy"] == (wins + 0.5 * ties) / len(pairs)
