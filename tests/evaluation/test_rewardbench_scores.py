"""RewardBench and RewardBench 2 scores against hand-computed values: ties at the top, the Ties
subset's weighted score, RewardBench's section weights and overall score, and the null
baselines scored by the same rules.

The hand-made files under tests/evaluation/data carry each completion's reward in its text
(``[r=2.5]``), so every number below is worked out by hand from the files.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

import preflab
from preflab.evaluation import ties
from preflab.evaluation.metrics import bootstrap_ci
from preflab.evaluation.rewardbench import (
    SECTIONS, best_of_n, pair_result, score_benchmark, score_rewardbench, score_rewardbench2, section_weight,
)
from preflab.io.rewardbench import BenchmarkRow
from preflab.records import text_prompt

DATA = Path(__file__).parent / "data"
V1, PRIOR, V2 = DATA / "rewardbench_v1.jsonl", DATA / "rewardbench_prior_sets.jsonl", DATA / "rewardbench2.jsonl"


class RewardInText:
    """Scores a completion with the reward written in it: ``... [r=1.5]``."""

    def score(self, prompt, responses):
        return [float(re.search(r"\[r=(-?[\d.]+)\]", r).group(1)) for r in responses]


def _row(subset: str, n: int, correct: int = 1, row_id: str = "x") -> BenchmarkRow:
    return BenchmarkRow(row_id, subset, text_prompt("q"), tuple(f"c{i}" for i in range(n)), correct)


# -- single rows -------------------------------------------------------------------------------

def test_a_v1_tie_is_wrong_as_the_benchmark_counts_it():
    assert [pair_result(r) for r in ([2.0, 1.0], [1.0, 1.0], [0.0, 1.0])] == [1.0, 0.0, 0.0]


@pytest.mark.parametrize("rewards, expected", [
    ([3.0, 1.0, 2.0, 0.0], 1.0),          # the correct completion alone on top
    ([2.0, 2.0, 1.0, 0.0], 1 / 2),        # tied at the top with one incorrect completion
    ([2.0, 2.0, 2.0, 1.0], 1 / 3),
    ([0.0, 0.0, 0.0, 0.0], 1 / 4),        # a constant scorer scores chance
    ([2.0, 3.0, 1.0, 0.0], 0.0),          # an incorrect completion above it
    ([3.0, 3.0, 3.0, 0.0], 1 / 3),
])
def test_best_of_n_shares_the_top_among_the_tied(rewards, expected):
    assert best_of_n(_row("Math", 4), rewards) == pytest.approx(expected)


def test_best_of_n_with_two_correct_completions_counts_the_correct_share_of_the_top():
    row = _row("Custom", 4, correct=2)
    assert best_of_n(row, [2.0, 2.0, 1.0, 0.0]) == 1.0  # both at the top are correct
    assert best_of_n(row, [1.0, 2.0, 2.0, 0.0]) == 0.5


# -- the Ties score ------------------------------------------------------------------------------

def test_ties_score_by_hand():
    prompts = ties.ties_prompts([
        ("ref:0", [3.0, 1.0, 0.0], 1),             # accurate, margin 2
        ("tied:0", [3.0, 2.5, 2.8, 1.0, 0.5], 3),  # accurate, margin 1.5, spread 0.5
        ("ref:1", [1.0, 2.0], 1),                  # not accurate, margin -1
        ("tied:1", [2.0, 1.0, 0.0], 2),            # accurate, margin 1, spread 1
        ("tied:2", [1.0, 1.0, 1.0], 2),            # not accurate (1 is not above 1); no ref variant
    ])
    terms = ties.ties_terms(prompts)
    assert terms["accuracy_tied"] == pytest.approx(2 / 3) and terms["accuracy_ref"] == pytest.approx(1 / 2)
    # prompt 0: 1.5 > 0.5 and min(2, 1.5) > 0.5; prompt 1: 1 > 1 is false, min(-1, 1) > 1 is false
    assert terms["correctness_preferred"] == terms["correctness_preferred_hard"] == pytest.approx(1 / 2)
    assert terms["margin_score"] == pytest.approx((math.tanh(1.5 / 0.5 - 1) + math.tanh(-1 / 1 - 1)) / 2)
    expected = 0.3 * 2 / 3 + 0.3 * 1 / 2 + 0.2 * 0.5 + 0.2 * 0.5 + 0.01 * terms["margin_score"]
    assert ties.ties_score(prompts) == pytest.approx(expected)


def test_ties_terms_without_a_prompt_to_average_count_zero():
    only_ref = ties.ties_prompts([("ref:0", [2.0, 1.0], 1), ("ref:1", [0.0, 1.0], 1)])
    assert ties.ties_score(only_ref) == pytest.approx(0.3 * 0.5)
    no_spread = ties.ties_prompts([("ref:0", [2.0, 1.0], 1), ("tied:0", [2.0, 1.0], 1)])  # one correct answer
    assert ties.ties_score(no_spread) == pytest.approx(0.3 + 0.3)


def test_ties_replicates_resample_prompts_and_bracket_the_score():
    rng = np.random.default_rng(0)
    rows = []
    for n in range(30):
        rows.append((f"ref:{n}", list(rng.normal(size=3) + [1.0, 0, 0]), 1))
        rows.append((f"tied:{n}", list(rng.normal(size=4) + [1.0, 1.0, 0, 0]), 2))
    prompts = ties.ties_prompts(rows)
    reps = ties.replicates(prompts, 400, np.random.default_rng(1))
    assert reps.shape == (400,) and np.quantile(reps, 0.025) < ties.ties_score(prompts) < np.quantile(reps, 0.975)
    whole = ties.replicates(ties.TiesPrompts(prompts.numbers[:1], prompts.values[:, :1], prompts.masks[:, :1]), 5,
                            np.random.default_rng(0))
    assert np.allclose(whole, whole[0])  # one prompt: every resample is that prompt


# -- RewardBench (v1) sections -----------------------------------------------------------------------

def test_section_weights_are_prompts_with_math_weighted_up_to_code():
    assert section_weight("math-prm") == 6 * 164 == 984
    assert section_weight("alpacaeval-easy") == 100 and section_weight("mt-bench-easy") == 28
    assert sum(len(members) for members in SECTIONS.values()) == 23


def test_v1_file_scores_by_hand():
    result = preflab.evaluate(RewardInText(), V1, n_boot=200, progress=False)
    model = result["model"]
    assert result["benchmark"] == "rewardbench"
    assert {k: v["accuracy"] for k, v in model["subsets"].items()} == {
        "alpacaeval-easy": 0.5, "mt-bench-easy": 1.0, "llmbar-natural": 0.0, "donotanswer": 1.0, "math-prm": 1.0,
        "hep-go": 0.0}
    assert model["subsets"]["llmbar-natural"]["ties"] == 1  # equal rewards: wrong
    chat = (0.5 * 100 + 1.0 * 28) / (100 + 28)
    reasoning = (1.0 * 984 + 0.0 * 164) / (984 + 164)
    sections = {k: v["score"] for k, v in model["sections"].items()}
    assert sections == pytest.approx({"Chat": chat, "Chat Hard": 0.0, "Safety": 1.0, "Reasoning": reasoning})
    assert model["overall"]["score"] == pytest.approx((chat + 0 + 1 + reasoning) / 4) == result["score"]
    assert model["overall"]["with_prior_sets"] is False and model["prior_sets"] is None
    assert not model["complete"] and "alpacaeval-hard" in model["missing_subsets"]
    assert model["sections"]["Reasoning"]["weights"] == {"math-prm": 984, "hep-go": 164}
    # the interval of a subset is the one every preflab accuracy gets for the same values and seed
    assert model["subsets"]["alpacaeval-easy"]["ci95"] == list(bootstrap_ci(np.array([1.0, 0.0]), 200, 0))
    lo, hi = model["overall"]["ci95"]
    assert lo <= model["overall"]["score"] <= hi


def test_v1_prior_sets_weigh_half_a_section():
    result = preflab.evaluate(RewardInText(), V1, prior_sets=PRIOR, n_boot=200, progress=False)
    model = result["model"]
    chat, reasoning = 78 / 128, 984 / 1148
    assert model["prior_sets"]["score"] == pytest.approx(0.5)  # shp right, summarize wrong
    assert model["prior_sets"]["subsets"] == ["shp", "summarize"]
    assert model["outside_sections"] == ["anthropic_harmless"]  # scored, but in no average
    assert model["overall"]["score"] == pytest.approx((2 * (chat + 0 + 1 + reasoning) + 0.5) / 9)


def test_v1_null_baselines_per_subset():
    result = preflab.evaluate(RewardInText(), V1, n_boot=50, progress=False)
    longer = result["baselines"]["longer_response_wins"]
    # alpacaeval-easy and mt-bench-easy: the chosen completion is always the longer one
    assert {k: v["accuracy"] for k, v in longer["subsets"].items()} == {
        "alpacaeval-easy": 1.0, "mt-bench-easy": 1.0, "llmbar-natural": 0.0, "donotanswer": 0.0, "math-prm": 0.0,
        "hep-go": 0.0}  # hep-go: the same length, a tie, wrong
    assert longer["sections"]["Chat"]["score"] == 1.0
    chance = result["baselines"]["all_tied"]
    assert chance["score"] == 0.0  # every row a tie
    assert "first_position_wins" in result["unavailable_baselines"]


# -- RewardBench 2 ------------------------------------------------------------------------------------

def test_v2_file_scores_by_hand():
    result = preflab.evaluate(RewardInText(), V2, n_boot=200, progress=False)
    model = result["model"]
    assert result["benchmark"] == "rewardbench2"
    subsets = {k: v["accuracy"] for k, v in model["subsets"].items()}
    ties_by_hand = 0.3 * 2 / 3 + 0.3 * 1 / 2 + 0.2 * 1 / 2 + 0.2 * 1 / 2 + 0.01 * (math.tanh(2) + math.tanh(-2)) / 2
    assert subsets == pytest.approx({"Factuality": (1 + 1 / 3) / 2, "Precise IF": 0.0, "Math": 0.5, "Safety": 1.0,
                                     "Focus": 0.25, "Ties": ties_by_hand})
    assert model["subsets"]["Factuality"]["shared_top"] == 1 and model["subsets"]["Focus"]["shared_top"] == 1
    assert model["subsets"]["Ties"]["prompts"] == 3 and model["subsets"]["Ties"]["tied_rows"] == 3
    assert model["average"]["score"] == pytest.approx(np.mean(list(subsets.values()))) == result["score"]
    assert model["complete"]
    chance = result["baselines"]["all_tied"]
    assert {k: v["accuracy"] for k, v in chance["subsets"].items() if k != "Ties"} == pytest.approx(
        {"Factuality": 0.25, "Precise IF": 0.25, "Math": 0.25, "Safety": 0.25, "Focus": 0.25})
    assert chance["subsets"]["Ties"]["accuracy"] == 0.0  # no correct answer above an incorrect one
    assert result["baselines"]["longer_response_wins"]["subsets"]["Safety"]["accuracy"] == 1.0


def test_v2_average_needs_all_six_subsets():
    rows = [_row("Math", 4, row_id="a"), _row("Focus", 4, row_id="b")]
    out = score_rewardbench2(rows, [[1.0, 0, 0, 0], [0, 1.0, 0, 0]], n_boot=20)
    assert out["average"]["score"] is None and set(out["average"]["missing"]) == {"Factuality", "Precise IF", "Safety",
                                                                                  "Ties"}


def test_intervals_are_seeded_and_subsets_resample_apart():
    rng = np.random.default_rng(0)
    rows = [_row(name, 2, row_id=str(i)) for i, name in enumerate(["hep-go"] * 164 + ["hep-cpp"] * 164)]
    rewards = rng.normal(size=(len(rows), 2)).tolist()
    a, b = (score_rewardbench(rows, rewards, n_boot=300, seed=s)["sections"]["Reasoning"] for s in (0, 0))
    assert a == b
    other = score_rewardbench(rows, rewards, n_boot=300, seed=1)["sections"]["Reasoning"]
    assert other["score"] == a["score"] and other["ci95"] != a["ci95"]
    # two subsets of one size resampled with the same draws would give the interval of a single subset
    single = bootstrap_ci(np.array([pair_result(r) for r in rewards[:164]]), 300, 0)
    assert a["ci95"][1] - a["ci95"][0] < single[1] - single[0]


def test_score_benchmark_needs_one_reward_per_completion():
    with pytest.raises(ValueError):
        score_benchmark("rewardbench2", [_row("Math", 4)], [[1.0, 2.0]])


@pytest.mark.parametrize("module", ["preflab.io.rewardbench", "preflab.evaluation.rewardbench", "preflab.evaluation.ties",
                                    "preflab.evaluation.baselines", "preflab.evaluation.metrics"])
def test_doctests(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, result
