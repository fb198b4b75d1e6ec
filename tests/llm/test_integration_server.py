"""The openai backend against a REAL llama.cpp OpenAI-compatible server (``python -m
llama_cpp.server`` with the embedded SmolLM2, started on a free local port by a fixture)."""

from __future__ import annotations

import logging

import pytest
from fault_server import FaultServer
from test_resume_after_kill import kill_and_resume

from preflab.llm import open_llm

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_completions_seeds_and_model_discovery(llama_server):
    with open_llm(f"openai:{llama_server}#concurrency=4", cache=False) as llm:
        first = llm.complete("Name an animal.", n=3, temperature=1.0, max_tokens=10, seed=2)
        again = llm.complete("Name an animal.", n=3, temperature=1.0, max_tokens=10, seed=2)
        assert llm.backend._model == "smollm2"  # the server's only model, asked once
        assert [c.text for c in first] == [c.text for c in again]  # the server honours seeds
        assert len({c.text for c in first}) >= 2  # one request per sample: n is not ignored
        assert all(c.prompt_tokens > 0 and c.completion_tokens > 0 for c in first)
        greedy = llm.complete("What is the capital of France? One word.", temperature=0, max_tokens=8)[0]
        assert "Paris" in greedy.text


def test_server_and_in_process_agree_on_greedy_text(llama_server, smollm2_gguf):
    prompt = "Write one sentence about the sea."
    with open_llm(f"openai:{llama_server}#model=smollm2", cache=False) as remote:
        a = remote.complete(prompt, temperature=0, max_tokens=20)[0]
    with open_llm(f"llamacpp:{smollm2_gguf}#n_ctx=2048", cache=False) as local:
        b = local.complete(prompt, temperature=0, max_tokens=20)[0]
    # Same weights, template and tokenizer: the greedy replies start alike. They may part
    # later (seen here after ~10 tokens): the server evaluates with other batch settings,
    # and a near-tie between two tokens flips with the rounding.
    assert a.text.split()[:4] == b.text.split()[:4] and a.prompt_tokens == b.prompt_tokens


def test_repeat_penalty_reaches_the_server(llama_server, smollm2_gguf):
    """The field gets to llama-cpp-python's server, which applies it as the in-process path
    does (generated tokens only): the penalised greedy replies agree, and differ from 1.0's."""
    prompt, opts = "List the days of the week.", {"temperature": 0, "max_tokens": 24}
    with open_llm(f"openai:{llama_server}#model=smollm2", cache=False) as remote:
        a = [remote.complete(prompt, **opts, repeat_penalty=p)[0].text for p in (1.0, 1.5)]
    with open_llm(f"llamacpp:{smollm2_gguf}#n_ctx=2048", cache=False) as local:
        b = local.complete(prompt, **opts, repeat_penalty=1.5)[0].text
    assert a[1] != a[0] and a[1].split()[:6] == b.split()[:6]


def test_logprobs_degrade_cleanly(llama_server, caplog):
    with open_llm(f"openai:{llama_server}#model=smollm2&retries=1&backoff=0.05", cache=False) as llm:
        with caplog.at_level(logging.WARNING):
            out = llm.complete("Say hi.", temperature=0, max_tokens=5, logprobs=True)[0]
        assert out.text  # the request succeeded either way
        if out.logprobs is None:
            assert "does not return logprobs" in caplog.text
        else:
            assert len(out.logprobs) == out.completion_tokens


def test_sigkill_and_rerun_against_real_server(llama_server, tmp_path):
    with FaultServer(upstream=llama_server) as proxy:
        kill_and_resume(proxy, tmp_path, prompts=8, max_tokens=12, kill_after=5, limit_s=120, deterministic=False)
