"""The bench's generation step runs a method the way ``preflab generate`` does (fast, fake LLM)."""

import json

import pytest

from preflab.benchmarking.config import load_bench_config
from preflab.benchmarking.run import BenchState, _data_step, _generate_step
from preflab.benchmarking.steps import Steps
from preflab.io import read_pairs
from preflab.llm.fake import fake_llm

DATA = __import__("pathlib").Path(__file__).resolve().parents[2] / "src" / "preflab" / "data"


class LengthScorer:
    id = "length-scorer"

    def score(self, prompt, responses):
        return [len(r) / 20 for r in responses]  # gaps of a few words: confidences spread below 1


def _answer(messages, options, seed):
    text = messages[-1].content
    return "word " * (1 + ((seed or 0) + sum(map(ord, text))) % 9) + text[:12]  # lengths vary by prompt and sample


@pytest.mark.parametrize("quantile", [None, 0.5])
def test_bench_applies_west_of_n_confidence_quantile(tmp_path, quantile):
    """Was: bench generated West-of-N pairs and never applied ``confidence_quantile``."""
    options = {"n": 4, "max_tokens": 16, **({"confidence_quantile": quantile} if quantile else {})}
    cfg, root = load_bench_config(data={
        "name": "q", "llm": "fake", "prompts": {"path": str(DATA / "example_prompts.txt")}, "budget_prompts": 8,
        "scorer": "a-reward-model-folder", "methods": [{"name": "west-of-n", "options": options}],
        "eval": [{"name": "check", "path": str(DATA / "quickstart_eval.jsonl")}]})
    state = BenchState(cfg, root, tmp_path, Steps(tmp_path), lambda message: None)
    gen = _generate_step(state, _data_step(state), cfg.methods[0], LengthScorer(), {"fp": "x"},
                         fake_llm(default=_answer))
    pairs = list(read_pairs(gen["folder"] / "pairs.jsonl"))
    confidences = sorted(p.provenance["confidence"] for p in pairs)
    run = json.loads((gen["folder"] / "pairs.jsonl.run.json").read_text())
    if quantile is None:
        assert gen["pairs"] == gen["prompts"] == 8 and run["post_filter"] == {}
    else:
        cut = run["post_filter"]["confidence_cut"]
        assert run["post_filter"]["confidence_quantile"] == 0.5
        assert 0 < gen["pairs"] < 8 and all(c > cut for c in confidences)
        assert gen["failures"]["filtered_after_run"] == 8 - gen["pairs"]
