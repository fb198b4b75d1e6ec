"""Iterative West-of-N: every round's scorer is the previous round's student."""

from pathlib import Path

import pytest

from preflab.io import read_pairs
from preflab.llm.fake import fake_llm
from preflab.pipelines.west_of_n_rounds import RoundsConfig, run_rounds

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def test_two_rounds_hand_the_student_on(tmp_path, monkeypatch):
    from preflab.rm import loading as scorer_module

    loaded = []
    real_load = scorer_module.load_scorer

    def spy(path, **kw):
        loaded.append(Path(path).parent.name)
        return real_load(path, **kw)
    monkeypatch.setattr(scorer_module, "load_scorer", spy)

    words = "one two three four five six seven".split()

    def answer(messages, options, seed):
        return " ".join(words[: 2 + (seed or 0) % 5]) + f" for {messages[-1].content[:10]}"
    base = list(read_pairs(REPO / "examples" / "pairs_small.jsonl"))
    prompts = tmp_path / "p.txt"
    prompts.write_text("Name a bird.\nName a tree.\nName a river.\n")
    summary = run_rounds(base, prompts, fake_llm(default=answer), RoundsConfig(rounds=2, n=3), tmp_path / "won",
                         eval_pairs=base)
    assert [r["round"] for r in summary["rounds"]] == [0, 1, 2]
    assert all(r["synthetic_pairs"] == 3 and r["train_pairs"] == 6 + 3 for r in summary["rounds"][1:])
    # per round: its scorer, then its evaluation. Round 1 scores with the base model (round0),
    # round 2 with round 1's student.
    assert loaded == ["round0", "round0", "round1", "round1", "round2"]
    assert (tmp_path / "won" / "round2" / "model").exists() and (tmp_path / "won" / "rounds.json").exists()
    assert all(0 <= r["eval_accuracy"] <= 1 for r in summary["rounds"])
