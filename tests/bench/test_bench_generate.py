"""The bench's generation step runs a method the way ``preflab generate`` does (fast, fake LLM)."""

import json

import pytest

from preflab.pipelines.bench.config import load_bench_config
from preflab.pipelines.bench.run import BenchState, _data_step, _generate_step
from preflab.pipelines.bench.steps import Steps
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


def test_generate_step_follows_a_changed_method_default(tmp_path, monkeypatch):
    """Was: the step was keyed on the options written in the bench file, so a run folder kept
    pairs made under an old default (a template version) after preflab changed it."""
    from preflab.methods import get_method

    cfg, root = load_bench_config(data={
        "name": "d", "llm": "fake", "prompts": {"path": str(DATA / "example_prompts.txt")}, "budget_prompts": 2,
        "methods": [{"name": "rlcd", "options": {"max_tokens": 16}}],
        "eval": [{"name": "check", "path": str(DATA / "quickstart_eval.jsonl")}]})
    state = BenchState(cfg, root, tmp_path, Steps(tmp_path), lambda message: None)
    data = _data_step(state)

    def templates():
        by_instruction = fake_llm(default=lambda messages, options, seed: f"{messages[0].content[:30]} {seed}")
        gen = _generate_step(state, data, cfg.methods[0], None, None, by_instruction)
        return gen["folder"], {p.provenance["template"] for p in read_pairs(gen["folder"] / "pairs.jsonl")}

    first, again = templates(), templates()
    assert first == again and first[1] == {"answer_length.v2"}  # unchanged config: the step is reused
    monkeypatch.setitem(get_method("rlcd").defaults, "template_version", "v1")
    changed = templates()
    assert changed[0] != first[0] and changed[1] == {"answer_length.v1"}
