"""What changes a backend's answers is part of its cache identity (``model_id``): the fake's
scripted answer (``fake#answer=FIRST``, then ``fake#answer=SECOND`` on one cache once answered
FIRST twice), llama.cpp's chat format, pre-fill batch and prefix reuse, transformers' device
and group size. Options that do not change an answer leave the identity alone."""

from __future__ import annotations

import subprocess
import sys

import pytest

from preflab.llm import open_llm
from preflab.llm.fake import FakeBackend


def test_fake_answers_are_not_shared_through_the_cache(tmp_path):
    cache = tmp_path / "calls.sqlite3"
    replies = []
    for answer in ("FIRST", "SECOND", "FIRST"):
        result = subprocess.run([sys.executable, "-m", "preflab", "llm", "check", "--llm", f"fake#answer={answer}",
                                 "--cache", "--cache-path", str(cache)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        replies.append(next(line for line in result.stdout.splitlines() if "reply" in line).split("│")[2].strip())
    assert replies == ["FIRST", "SECOND", "FIRST"]


def test_fake_identity_names_what_changes_the_answers(tmp_path):
    cache = tmp_path / "calls.sqlite3"
    with open_llm(FakeBackend(default="A"), cache=cache) as a, open_llm(FakeBackend(default="B"), cache=cache) as b:
        assert a.complete("q")[0].text == "A" and b.complete("q")[0].text == "B"
    assert open_llm("fake#answer=x&delay=0.01&concurrency=2", cache=False).model_id == "fake-model#answer=x"
    assert open_llm("fake#seeded=true&answer=x", cache=False).model_id == "fake-model#seeded=true"
    long = "a long scripted answer " * 4
    assert open_llm({"kind": "fake", "answer": long}, cache=False).model_id.startswith("fake-model#answer-sha256=")
    assert FakeBackend().model_id == "fake-model"  # no default text: answers are the caller's own


def test_llamacpp_identity_tags_the_options_that_change_a_sample(smollm2_gguf):
    from preflab.llm.llamacpp.backend import LlamaCppBackend, LlamaCppParams

    def model_id(**params):
        backend = LlamaCppBackend(params=LlamaCppParams(**params))
        backend._executor.shutdown(wait=False)
        return backend.model_id

    base = model_id()
    assert model_id(batch=1, n_threads=1) == base  # neither changes a sample (docs/backends.md)
    tagged = {model_id(chat_format="chatml"), model_id(n_batch=64), model_id(reuse_prefix=True, batch=1)}
    assert len(tagged) == 3 and base not in tagged
    assert model_id(chat_format="chatml") == base + "+chat-chatml"


def test_transformers_identity_tags_the_device_and_the_group_size():
    pytest.importorskip("torch")
    from preflab.llm.transformers_backend import HFParams, TransformersBackend

    def model_id(**params):
        backend = TransformersBackend("owner/name", HFParams(dtype="float32", **params))
        backend._executor.shutdown(wait=False)
        return backend.model_id

    assert model_id(device="cpu") == "owner/name@main"
    assert model_id(device="cpu", batch=1) == "owner/name@main/batch1"
    assert model_id(device="cuda:1", batch=16) == "owner/name@main/cuda/batch16"
