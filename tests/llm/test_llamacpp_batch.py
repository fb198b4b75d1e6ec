"""Batched decoding in the in-process llama.cpp backend, with the real SmolLM2 GGUF.

The property everything rests on: a sample does not depend on its batch. Decoded alone, beside
the other samples of its prompt, or among other prompts, it has the same tokens and the same
log-probabilities to the last bit, and equals what the one-at-a-time path (``#batch=1``) gives.
"""

from __future__ import annotations

import pytest

from preflab.llm import Request, open_llm
from preflab.llm.base import PromptTooLongError
from preflab.llm.llamacpp.backend import LlamaCppParams
from preflab.llm.spec import check_params

pytestmark = pytest.mark.integration

PROMPTS = ["Name a colour.", "Give one word about the number 7.", "Write a haiku about rain.",
           "What is the capital of France? Answer in one word.", "List three fruits, separated by commas."]
LONG = "Repeat this text exactly, twice: " + "apple banana cherry " * 60  # ~200 tokens, a long answer
SAMPLED = {"n": 3, "temperature": 0.8, "max_tokens": 20, "seed": 4, "logprobs": True}


def spec(gguf, **params) -> str:
    return f"llamacpp:{gguf}#" + "&".join(f"{k}={v}" for k, v in {"n_ctx": 512, **params}.items())


def dump(results) -> list[list[tuple]]:
    return [[(c.text, c.finish_reason, c.prompt_tokens, c.completion_tokens, c.logprobs) for c in r] for r in results]


@pytest.fixture(scope="module")
def batched(smollm2_gguf):
    with open_llm(spec(smollm2_gguf, batch=4), cache=False) as llm:
        yield llm


def test_a_sample_does_not_depend_on_its_batch(batched):
    """Same sample alone, beside the 2 other samples of its prompt, and among 5 prompts x 3
    samples on 4 slots (sequences joining and leaving mid-way): identical to the last bit."""
    together = dump(batched.complete_many([Request(p, SAMPLED) for p in PROMPTS]))
    one_prompt = dump([batched.complete(PROMPTS[2], SAMPLED)])
    alone = [dump([batched.complete(PROMPTS[2], {**SAMPLED, "n": 1})])[0][0]]
    assert together[2] == one_prompt[0] and together[2][:1] == alone
    assert len({t[0] for t in together[2]}) >= 2  # real samples, not one text three times
    assert batched.backend._decoder.steps > 0  # the batched decoder really ran


def test_batched_equals_one_at_a_time(smollm2_gguf, batched):
    greedy = {"n": 1, "temperature": 0, "max_tokens": 24, "logprobs": True}
    options = [SAMPLED, greedy, {"n": 2, "temperature": 1.0, "top_p": 0.9, "max_tokens": 30, "seed": 9, "stop": [","]},
               {**greedy, "repeat_penalty": 1.5}, {**SAMPLED, "n": 1, "repeat_penalty": 1.3}]
    reqs = [Request(p, o) for p in PROMPTS[:4] for o in options]
    fast = dump(batched.complete_many(reqs))
    with open_llm(spec(smollm2_gguf, batch=1), cache=False) as one:
        slow = dump(one.complete_many(reqs))
    assert fast == slow
    assert any(c[1] == "stop" for r in fast for c in r) and any(c[1] == "length" for r in fast for c in r)
    # the penalty really acts (on both paths, so the equality above covers it): greedy text changes
    assert any(fast[i][0][0] != fast[i + 2][0][0] for i in range(1, len(reqs), len(options)))


def test_reused_prefill_blocks_equal_a_fresh_prefill(smollm2_gguf):
    """A prompt sharing a long head with the one before it reuses that stream's whole pre-fill
    blocks (the default 64-token layout: here the first 128 tokens); its samples must equal the
    ones of a fresh context that pre-fills it from position 0, batched and one at a time."""
    head = "Read the notes, then answer.\n" + "The river rose two metres after the storm that week. " * 14
    first, second = head + "\nHow much did it rise?", head + "\nWhat made it rise, in a few words?"
    opts = {"n": 2, "temperature": 0.8, "max_tokens": 12, "seed": 3, "logprobs": True}
    for batch in (2, 1):
        with open_llm(spec(smollm2_gguf, batch=batch, weights="q8_0"), cache=False) as llm:
            llm.complete(first, opts)
            if batch > 1:
                before = llm.backend._decoder.prefill_tokens
            after = dump([llm.complete(second, opts)])
            if batch > 1:
                prompt = after[0][0][2]
                assert llm.backend._decoder.prefill_tokens - before <= prompt - 1 - 128  # blocks were reused
        with open_llm(spec(smollm2_gguf, batch=batch, weights="q8_0"), cache=False) as fresh:
            assert dump([fresh.complete(second, opts)]) == after


def test_a_prompt_longer_than_the_context_fails_alone(smollm2_gguf):
    with open_llm(spec(smollm2_gguf, batch=4, n_ctx=256), cache=False) as llm:
        out = llm.complete_many([Request("Say hi.", {"max_tokens": 4}), Request("word " * 400, {"max_tokens": 4}),
                                 Request("Say bye.", {"n": 2, "max_tokens": 4})], return_exceptions=True)
        assert isinstance(out[1], PromptTooLongError) and "#n_ctx" in str(out[1])
        assert len(out[0]) == 1 and len(out[2]) == 2 and out[2][0].completion_tokens > 0
        # max_tokens is cut to what the sequence's context has left, as on the one-at-a-time path
        (long,) = llm.complete(LONG, temperature=0, max_tokens=500)
        assert long.finish_reason == "length" and long.prompt_tokens + long.completion_tokens == 256
    with open_llm(spec(smollm2_gguf, batch=1, n_ctx=256), cache=False) as one:
        assert one.complete(LONG, temperature=0, max_tokens=500)[0].text == long.text
        with pytest.raises(PromptTooLongError):
            one.complete("word " * 400, max_tokens=4)


def test_scoring_and_generation_share_the_worker(batched):
    scores = batched.loglikelihoods("Say hello.", ["Hello!", "Goodbye."])
    again = batched.complete("Say hello.", temperature=0, max_tokens=8)
    assert scores[0].n_tokens > 0 and again[0].text


def test_reuse_prefix_needs_one_sequence_at_a_time():
    with pytest.raises(Exception, match="batch=1"):
        check_params(LlamaCppParams, "llamacpp", {"reuse_prefix": "true", "batch": "4"})
    assert check_params(LlamaCppParams, "llamacpp", {"reuse_prefix": "true", "batch": "1"}).batch == 1


@pytest.mark.slow
def test_sigkill_inside_a_batch_and_rerun(smollm2_gguf, tmp_path):
    """Killed while a batch is decoding (some samples cached, their batch companions, often the
    other sample of the same prompt, in flight): the rerun decodes only the rest, in other
    batches, and the outputs equal an uninterrupted run's byte for byte. This is also the kill
    test of the in-process backend as a whole (batched is its default path), with fewer slots
    than samples so sequences join and leave the batch mid-job."""
    from test_resume_after_kill import kill_in_process_and_rerun

    done, usage, resumed, fresh = kill_in_process_and_rerun(spec(smollm2_gguf, batch=4), tmp_path, prompts=8,
                                                            max_tokens=24, kill_at=3)
    assert 3 <= len(done) < 16
    assert usage["cached_calls"] == len(done) and usage["calls"] == 16 - len(done)
    assert resumed == fresh
