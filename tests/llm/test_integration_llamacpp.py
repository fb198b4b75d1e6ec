"""The embedded backend with the real SmolLM2 GGUF, in-process: generation, seeds, logprobs,
scoring (checked against an independent computation), cache reruns."""

from __future__ import annotations

import math

import numpy as np
import pytest

from preflab.llm import open_llm

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def llm(smollm2_gguf):
    with open_llm(f"llamacpp:{smollm2_gguf}#n_ctx=2048", cache=False) as llm:
        yield llm


def test_default_spec_finds_the_embedded_model(smollm2_gguf):
    from preflab.llm.spec import create_backend

    backend = create_backend("llamacpp")
    assert backend.path == smollm2_gguf and backend.model_id.startswith("SmolLM2-135M-Instruct.Q4_1.gguf@")


def test_greedy_answer_is_sensible_and_reproducible(llm):
    a = llm.complete("What is the capital of France? Answer in one word.", temperature=0, max_tokens=12)[0]
    b = llm.complete("What is the capital of France? Answer in one word.", temperature=0, max_tokens=12)[0]
    assert "Paris" in a.text and a.text == b.text
    assert a.prompt_tokens > 10 and 0 < a.completion_tokens <= 12 and a.finish_reason in {"stop", "length"}


def test_samples_are_distinct_yet_reproducible(llm):
    first = llm.complete("Name an animal.", n=3, temperature=1.0, max_tokens=10, seed=1)
    again = llm.complete("Name an animal.", n=3, temperature=1.0, max_tokens=10, seed=1)
    assert [c.text for c in first] == [c.text for c in again]
    assert len({c.text for c in first}) >= 2


def test_max_tokens_and_stop(llm):
    out = llm.complete("Count from 1 to 50, separated by commas.", temperature=0, max_tokens=5)[0]
    assert out.finish_reason == "length" and out.completion_tokens == 5
    stopped = llm.complete("Count from 1 to 50, separated by commas.", temperature=0, max_tokens=40, stop=["5"])[0]
    assert "5" not in stopped.text and stopped.finish_reason == "stop"


def test_loglikelihood_matches_an_independent_computation(llm, smollm2_gguf):
    """Score with our backend, then recompute from scratch with a separate Llama (logits_all,
    one full eval of prompt + response); the per-token mean must agree."""
    from llama_cpp import Llama

    messages = [{"role": "user", "content": "Say hello."}]
    response = "Hello! How can I help you today?"
    ours = llm.loglikelihood(messages, response)
    ref = Llama(str(smollm2_gguf), n_ctx=2048, n_threads=2, logits_all=True, verbose=False)
    prompt_text = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
                   "<|im_start|>user\nSay hello.<|im_end|>\n<|im_start|>assistant\n")
    prompt = ref.tokenize(prompt_text.encode(), add_bos=False, special=True)
    ids = ref.tokenize(response.encode(), add_bos=False, special=False)
    ref.eval(prompt + ids)
    logits = np.asarray(ref.scores[len(prompt) - 1: len(prompt) + len(ids) - 1], dtype=np.float64)
    logz = np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1)) + logits.max(1)
    expected = float((logits[np.arange(len(ids)), ids] - logz).sum())
    ref.close()
    assert ours.n_tokens == len(ids)
    assert ours.sum == pytest.approx(expected, abs=1e-3)


def test_shared_prompt_scoring_equals_one_by_one(llm):
    responses = ["Paris.", "The capital of France is Paris.", "I like turtles.", ""]
    together = llm.loglikelihoods("What is the capital of France?", responses)
    alone = [llm.loglikelihood("What is the capital of France?", r) for r in responses]
    for t, a in zip(together[:3], alone[:3]):
        assert t.n_tokens == a.n_tokens and t.sum == pytest.approx(a.sum, abs=1e-3)
    assert together[0].mean > together[2].mean  # the right answer is likelier than a non sequitur
    assert together[3].n_tokens == 0 and math.isnan(together[3].mean)


def test_logprobs_of_a_greedy_reply_match_its_score(llm):
    out = llm.complete("Say hello.", temperature=0, max_tokens=8, logprobs=True)[0]
    assert out.logprobs is not None and len(out.logprobs) == out.completion_tokens
    score = llm.loglikelihood("Say hello.", out.text)
    if score.n_tokens == len(out.logprobs):  # re-tokenising the text gave the same tokens
        # Scoring evaluates the response in one batch, generation one token at a time; the
        # quantised kernels differ slightly between the two (measured: first token identical,
        # later ones within ~0.1 nat), so compare the sums loosely.
        assert score.sum == pytest.approx(sum(out.logprobs), rel=0.05)
    # generation after scoring still works (scoring leaves the context clean)
    again = llm.complete("Say hello.", temperature=0, max_tokens=8)[0]
    assert again.text == out.text


def test_cached_rerun_costs_no_backend_call(smollm2_gguf, tmp_path):
    path = tmp_path / "c.sqlite3"
    with open_llm(f"llamacpp:{smollm2_gguf}#n_ctx=1024", cache=path) as first:
        a = first.complete("Name a fruit.", n=2, temperature=0.9, max_tokens=8)
    with open_llm(f"llamacpp:{smollm2_gguf}#n_ctx=1024", cache=path) as second:
        b = second.complete("Name a fruit.", n=2, temperature=0.9, max_tokens=8)
        assert second.backend._llama is None  # the model was never even loaded
    assert [x.text for x in a] == [x.text for x in b] and all(x.cached for x in b)


def test_a_sample_does_not_depend_on_call_history(smollm2_gguf):
    """What makes a resumed job equal an uninterrupted one: a seeded sample generated right
    after another sample of the same prompt, or after a prompt sharing its head, equals the
    same sample generated first in a fresh context. (With llama-cpp-python's own prefix
    re-use, ``#reuse_prefix=true``, this test fails: 4 of 15 such samples differed.)"""
    from preflab.llm import Options, sample_seed
    from preflab.llm.base import as_messages

    opts = Options(temperature=0.8, max_tokens=24, seed=5)
    prompts = ["Give one word about the number 2.", "Name a colour."]
    with open_llm(f"llamacpp:{smollm2_gguf}#n_ctx=1024", cache=False) as llm:
        gen = lambda q, i: llm._loop().run(llm.backend.generate(as_messages(q), opts, sample_seed(5, i))).text  # noqa: E731
        together = {q: [gen(q, i) for i in range(3)] for q in prompts}
    with open_llm(f"llamacpp:{smollm2_gguf}#n_ctx=1024", cache=False) as llm:
        gen = lambda q, i: llm._loop().run(llm.backend.generate(as_messages(q), opts, sample_seed(5, i))).text  # noqa: E731
        alone = {}
        for q in prompts:
            alone[q] = []
            for i in range(3):
                gen("Give one word about the number 9, and a few more words to differ.", 7)
                alone[q].append(gen(q, i))
    assert together == alone

