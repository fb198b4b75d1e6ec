"""Accuracy and its intervals come from preflab.evaluation everywhere: ``preflab eval`` and the
bench give the same numbers for the same pairs, rewards and bootstrap seed."""

from pathlib import Path

import numpy as np
import pytest

import preflab
from preflab.pipelines.bench.run import summarise
from preflab.evaluation import correctness, paired_difference, pairwise_accuracy
from preflab.evaluation.report import evaluate_pairs
from preflab.io import read_pairs

CHECK_SET = Path(__file__).resolve().parents[1] / "src" / "preflab" / "data" / "quickstart_eval.jsonl"
PROMPTS = CHECK_SET.with_name("example_prompts.txt")


def _positioned_pairs():
    from preflab.records import PreferencePair, text_prompt

    return [PreferencePair(prompt=text_prompt(f"q{i}"), chosen=" ".join("w" * (1 + i % 4)), rejected=" ".join("v" * (1 + i % 3)),
                           provenance={"chosen_position": 1 + i % 2 if i % 5 else 1}) for i in range(40)]


@pytest.fixture(scope="module")
def bench_baselines(tmp_path_factory):
    """The null baselines of a real (tiny) bench run, on the check set and on pairs with positions."""
    from preflab.io import write_pairs

    root = tmp_path_factory.mktemp("bench")
    write_pairs(_positioned_pairs(), root / "positioned.jsonl")
    config = {"name": "baselines", "llm": "fake", "prompts": {"path": str(PROMPTS)}, "budget_prompts": 2,
              "methods": [{"name": "random-label"}], "rm": {"recipe": "embed-head", "seeds": [0], "options": {"epochs": 2}},
              "eval": [{"name": "check", "path": str(CHECK_SET)}, {"name": "set", "path": str(root / "positioned.jsonl")}]}
    return preflab.bench(config, run_dir=root / "run", progress=False)["baselines"]


@pytest.mark.parametrize("seed", [0, 7])
def test_bench_and_eval_give_identical_intervals(seed, bench_baselines):
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
    baseline = bench_baselines["longer-response-wins"]["check"]  # the bench's bootstrap: 2000 resamples, seed 0
    reference = evaluate_pairs(pairs, rewards, n_boot=2000, seed=0)["baselines"]["longer_response_wins"]
    assert (baseline["accuracy"], baseline["ci95"]) == (reference["accuracy"], list(reference["ci95"]))


def test_the_interval_depends_on_the_seed_and_averages_seeds_per_pair():
    runs = [np.array([1.0, 0.0, 1.0, 1.0, 0.5, 1.0]), np.array([1.0, 1.0, 0.0, 1.0, 0.5, 0.0])]
    per_seed = [{"eval": {"e": {"correct": list(r)}}} for r in runs]
    a, b = summarise(per_seed, "e", n_boot=300, seed=0), summarise(per_seed, "e", n_boot=300, seed=1)
    assert a["accuracy"] == b["accuracy"] == pytest.approx(np.mean(runs)) and a["ci95"] != b["ci95"]
    assert a["seed_std"] == pytest.approx(np.std([r.mean() for r in runs])) and a["per_seed"] == [r.mean() for r in runs]
    same = paired_difference(runs, runs, n_boot=300)
    assert same["delta"] == 0 and same["ci95"] == [0.0, 0.0]


def test_bench_has_every_null_baseline_of_eval_with_the_same_numbers(bench_baselines):
    pairs = _positioned_pairs()
    evaluated = evaluate_pairs(pairs, [(0.0, 0.0)] * len(pairs), n_boot=2000, seed=0)["baselines"]
    assert list(bench_baselines) == ["longer-response-wins", "first-position-wins"] == [k.replace("_", "-") for k in evaluated]
    for name, r in evaluated.items():
        cell = bench_baselines[name.replace("_", "-")]["set"]
        assert (cell["accuracy"], cell["ci95"], cell["n"]) == (r["accuracy"], list(r["ci95"]), r["n"])
    # a longer-wins Δ of 0 (equal length) is a tie, scored half right like any tie
    ties = sum(len(p.chosen.split()) == len(p.rejected.split()) for p in pairs)
    wins = sum(len(p.chosen.split()) > len(p.rejected.split()) for p in pairs)
    assert ties and evaluated["longer_response_wins"]["accuracy"] == (wins + 0.5 * ties) / len(pairs)
