"""The embedded model decodes from a Q8_0 copy of its Q4_1 GGUF: made once, atomically, in the
cache; and batched samples from it still equal the one-at-a-time ones to the last bit."""

from __future__ import annotations

import pytest

from preflab.llm import Request, open_llm
from preflab.llm.base import BackendError
from preflab.llm.llamacpp.backend import LlamaCppBackend, LlamaCppParams
from preflab.llm.llamacpp.requantize import q8_0_path, requantized_q8_0

pytestmark = pytest.mark.integration


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFLAB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_auto_means_q8_0_for_the_embedded_model_only(smollm2_gguf):
    embedded = LlamaCppBackend()
    given = LlamaCppBackend(smollm2_gguf)
    assert embedded.q8_0 and "+q8_0" in embedded.model_id
    assert not given.q8_0 and given.model_id == embedded.model_id.replace("+q8_0", "")
    # the pre-fill layout changes the last bits too: cache keys never mix layouts
    assert LlamaCppBackend(params=LlamaCppParams(prefix_block=8)).model_id == embedded.model_id.replace("+prefill64", "")
    assert embedded.model_id.endswith("+q8_0+prefill64")
    assert not LlamaCppBackend(params=LlamaCppParams(weights="file")).q8_0
    assert LlamaCppBackend(smollm2_gguf, LlamaCppParams(weights="q8_0")).q8_0


def test_the_copy_is_made_once_and_never_half_written(smollm2_gguf, cache):
    first = requantized_q8_0(smollm2_gguf, "id-1", threads=2)
    assert first == q8_0_path(smollm2_gguf, "id-1") and first.parent == cache / "models"
    assert first.read_bytes()[:4] == b"GGUF" and first.stat().st_size > smollm2_gguf.stat().st_size
    stamp = first.stat().st_mtime_ns
    assert requantized_q8_0(smollm2_gguf, "id-1", threads=2).stat().st_mtime_ns == stamp  # reused, not redone
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no temporary left behind
    assert q8_0_path(smollm2_gguf, "id-2") != first  # another source content, another copy


def test_a_file_llama_cpp_cannot_convert_fails_cleanly(tmp_path, cache):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 60)
    with pytest.raises(BackendError, match="bad.gguf.*#weights=file"):
        requantized_q8_0(bad, "bad", threads=1)
    assert not (cache / "models").exists() or not any((cache / "models").iterdir())


@pytest.mark.slow
def test_q8_0_batched_equals_one_at_a_time(smollm2_gguf, cache):
    """Q8_0 weights take llama.cpp's tiled matmul from two sequences up; the samples must still
    be the one-sequence samples bit for bit (texts, finish reasons, usage, log-probabilities)."""
    prompts = ["Name a colour.", "Write a haiku about rain.", "List three fruits, separated by commas."]
    options = [{"n": 3, "temperature": 0.8, "max_tokens": 16, "seed": 4, "logprobs": True},
               {"n": 1, "temperature": 0, "max_tokens": 16, "logprobs": True}]
    reqs = [Request(p, o) for p in prompts for o in options]
    out = {}
    for batch in (1, 6):
        with open_llm(f"llamacpp:{smollm2_gguf}#n_ctx=512&weights=q8_0&batch={batch}", cache=False) as llm:
            out[batch] = [[(c.text, c.finish_reason, c.completion_tokens, c.logprobs) for c in r]
                          for r in llm.complete_many(reqs)]
    assert out[6] == out[1]
    assert len({c[0] for c in out[6][0]}) >= 2  # real samples
