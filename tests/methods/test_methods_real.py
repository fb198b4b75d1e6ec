"""Every method end to end on the embedded SmolLM2: in process (llama.cpp) and through the
OpenAI-compatible backend against a real llama.cpp server on 127.0.0.1. A 135M model is weak,
so these tests check that each method runs and records what happened, not that it is good."""

from pathlib import Path

import pytest

from preflab.io import read_pairs
from preflab.judges import JudgeConfig, PairwiseJudge
from preflab.methods import Context, Failure, stream_outcomes, methods
from preflab.records import PreferencePair, PromptRecord, text_prompt

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
PROMPTS = [PromptRecord(prompt=text_prompt("Name two colours of the rainbow.")),
           PromptRecord(prompt=text_prompt("Give one tip for drinking more water."))]
SHORT = {"max_tokens": 24}
OPTIONS = {
    "rmboost": {"max_tokens": 40, "rewrite_max_tokens": 60, "max_retries": 1, "keep_truncated": True},
    "west-of-n": {"n": 3, **SHORT}, "self-training": SHORT, "random-pair": SHORT,
    "best-vs-random": {"n": 3, **SHORT}, "rlaif": SHORT, "rlcd": {**SHORT, "keep_truncated": True}, "random-label": SHORT,
}
ALWAYS_PAIRS = {"rlcd", "random-label", "west-of-n", "self-training", "random-pair", "best-vs-random"}


@pytest.fixture(scope="module")
def scorer():
    from preflab.rm.embed_head import EmbedHeadConfig, train_embed_head

    return train_embed_head(list(read_pairs(REPO / "examples" / "pairs_small.jsonl")), EmbedHeadConfig(epochs=20))


def _run_all(llm, scorer, prompts):
    from preflab.config import parse

    results = {}
    for name, method in methods().items():
        cfg = parse(OPTIONS[name], method.config, defaults=method.defaults)[method.config]
        ctx = Context(llm=llm, seed=0, scorer=scorer, judge=PairwiseJudge(llm, JudgeConfig(max_tokens=8)))
        results[name] = [o for _, o in stream_outcomes(prompts, method, cfg, ctx, in_flight=2)]
    return results


def _check(results, model_id):
    assert set(results) == set(OPTIONS)
    for name, outcomes in results.items():
        assert all(isinstance(o, (PreferencePair, Failure)) for o in outcomes), name
        pairs = [o for o in outcomes if isinstance(o, PreferencePair)]
        for pair in pairs:
            assert pair.chosen != pair.rejected and pair.provenance["generator"]["model"] == model_id
        for failure in (o for o in outcomes if isinstance(o, Failure)):
            assert failure.reason  # counted by reason, never paired
        if name in ALWAYS_PAIRS:
            assert pairs, f"{name} made no pair: {[o.reason for o in outcomes]}"


def test_every_method_in_process(scorer):
    from preflab.llm.client import open_llm

    with open_llm("llamacpp", cache=False) as llm:
        results = _run_all(llm, scorer, PROMPTS)
        _check(results, llm.model_id)
    rmboost = [o for o in results["rmboost"] if isinstance(o, PreferencePair)]
    for pair in rmboost:
        assert pair.provenance["label"] in ("better", "worse") and pair.provenance["aspects"]


def test_every_method_through_a_real_llama_cpp_server(scorer, llama_server):
    from preflab.llm.client import open_llm

    with open_llm(f"openai:{llama_server}#model=smollm2&concurrency=2", cache=False) as llm:
        _check(_run_all(llm, scorer, PROMPTS[:1]), llm.model_id)


def test_generate_cli_on_the_embedded_model(tmp_path):
    import json
    import subprocess
    import sys

    prompts = tmp_path / "p.txt"
    prompts.write_text("Name a fruit.\nName a city.\n")
    out = tmp_path / "rlcd.jsonl"
    result = subprocess.run([sys.executable, "-m", "preflab", "generate", "rlcd", "--prompts", str(prompts), "--out", str(out),
                             "--max-tokens", "32", "--cache-path", str(tmp_path / "c.sqlite")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    run = json.loads(Path(str(out) + ".run.json").read_text())
    assert run["generator"]["backend"] == "llamacpp" and run["counts"]["prompts"] == 2
    assert len(list(read_pairs(out))) + sum(1 for _ in open(str(out) + ".failures.jsonl")) == 2
