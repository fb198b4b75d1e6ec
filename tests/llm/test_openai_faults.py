"""The openai backend against a local scripted server: retries where they can help, a clear
final error where they cannot, nothing cached from a failed call, keys never leaked."""

from __future__ import annotations

import logging
import time

import pytest

from preflab.errors import ConfigError
from preflab.llm import BackendError, UnsupportedError, open_llm
from preflab.llm.openai_compat import OpenAIBackend, OpenAIParams

FAST = "backoff=0.01&max_backoff=2&timeout=0.5"


def _llm(server, cache, extra=""):
    return open_llm(f"openai:{server.url}#model=m&{FAST}{extra}", cache=cache)


@pytest.mark.parametrize("fault", [
    ("status", 500, None), ("status", 503, None), ("status", 429, None), ("truncated",), ("malformed",), ("slow", 1.5),
])
def test_retries_recover_from_transient_faults(fault_server, cache_path, fault):
    fault_server.faults.extend([fault, fault])
    llm = _llm(fault_server, cache_path)
    out = llm.complete("hello", seed=3)[0]
    assert out.text.startswith("echo hello / seed ") and not out.cached
    assert len(fault_server.chat_requests) == 3  # two faults, then the answer
    assert llm.cache.stats()["entries"] == 1
    llm.close()


def test_retry_after_is_honoured(fault_server, cache_path):
    fault_server.faults.append(("status", 429, 1))
    llm = _llm(fault_server, cache_path)
    started = time.monotonic()
    llm.complete("hello")
    assert time.monotonic() - started >= 0.95  # the backoff alone would wait ~0.01 s
    llm.close()


def test_final_error_names_endpoint_and_status_and_caches_nothing(fault_server, cache_path):
    fault_server.faults.extend([("status", 500, None)] * 3)
    llm = _llm(fault_server, cache_path, "&retries=2")
    with pytest.raises(BackendError) as info:
        llm.complete("hello")
    msg = str(info.value)
    assert fault_server.url in msg and "HTTP 500" in msg and "gave up after 3 tries" in msg
    assert len(fault_server.chat_requests) == 3 and llm.cache.stats()["entries"] == 0
    # the next run succeeds (the failure was not cached)
    assert llm.complete("hello")[0].text.startswith("echo hello")
    llm.close()


def test_client_errors_are_not_retried_and_say_how_to_fix(fault_server, cache_path):
    fault_server.faults.append(("status", 401, None))
    llm = _llm(fault_server, cache_path)
    with pytest.raises(BackendError, match=r"HTTP 401.*OPENAI_API_KEY"):
        llm.complete("hello")
    assert len(fault_server.chat_requests) == 1 and llm.cache.stats()["entries"] == 0
    llm.close()


def test_timeouts_exhausted_fail_clearly(fault_server):
    fault_server.faults.extend([("slow", 1.0)] * 2)
    llm = open_llm(f"openai:{fault_server.url}#model=m&timeout=0.3&retries=1&backoff=0.01", cache=False)
    with pytest.raises(BackendError, match=r"APITimeoutError.*gave up after 2 tries"):
        llm.complete("hello")
    llm.close()


def test_key_from_named_env_var_never_logged_or_cached(fault_server, cache_path, monkeypatch, caplog):
    secret = "sk-test-SECRET-1234567890"
    monkeypatch.setenv("MY_KEY", secret)
    fault_server.faults.append(("status", 500, None))
    caplog.set_level(logging.DEBUG)
    llm = _llm(fault_server, cache_path, "&key_env=MY_KEY")
    llm.complete("hello")
    assert fault_server.chat_requests[-1]["auth"] == f"Bearer {secret}"
    llm.close()
    assert secret not in cache_path.read_bytes().decode("latin-1")
    assert secret not in caplog.text and secret not in repr(llm) and secret not in repr(llm.backend)


def test_missing_key_for_openai_names_both_routes(monkeypatch):
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(ConfigError, match=r"MY_KEY.*#key_env=VAR.*api_key="):
        open_llm("openai:https://api.openai.com/v1#model=gpt-4o-mini&key_env=MY_KEY", cache=False)


def test_n_samples_become_n_seeded_requests_in_flight(fault_server, cache_path):
    fault_server.delay_s = 0.2
    llm = _llm(fault_server, cache_path, "&concurrency=4")
    outs = llm.complete("hello", n=8, temperature=0.9)
    seeds = [r["body"]["seed"] for r in fault_server.chat_requests]
    assert len(seeds) == 8 == len(set(seeds)) and [o.seed for o in outs] == sorted(seeds, key=[o.seed for o in outs].index)
    assert fault_server.max_in_flight == 4 and all("n" not in r["body"] for r in fault_server.chat_requests)
    llm.close()


def test_model_from_the_server_when_not_given(fault_server):
    llm = open_llm(f"openai:{fault_server.url}#{FAST}", cache=False)
    llm.complete("hello", n=3)
    assert {r["body"]["model"] for r in fault_server.chat_requests} == {"fault-model"}
    assert sum(r["path"].endswith("/models") for r in fault_server.requests) == 0  # GETs are not in requests
    llm.close()


def test_logprobs_refused_by_server_degrade_with_one_warning(fault_server, cache_path, caplog):
    fault_server.faults.extend([("no_logprobs_500",)] * 10)
    llm = _llm(fault_server, cache_path, "&retries=0")
    with caplog.at_level(logging.WARNING):
        first = llm.complete("a", logprobs=True)[0]
        second = llm.complete("b", logprobs=True)[0]
    assert first.logprobs is None and second.logprobs is None and first.text.startswith("echo a")
    assert caplog.text.count("does not return logprobs") == 1
    assert "logprobs" not in fault_server.chat_requests[-1]["body"]  # remembered: not asked again
    llm.close()


def test_null_logprobs_degrade(fault_server):
    llm = open_llm(f"openai:{fault_server.url}#model=m", cache=False)
    out = llm.complete("a", logprobs=True)[0]
    assert out.logprobs is None and fault_server.chat_requests[0]["body"]["top_logprobs"] == 1
    llm.close()


def test_loglikelihood_is_unsupported_with_a_way_out(fault_server):
    llm = open_llm(f"openai:{fault_server.url}#model=m", cache=False)
    assert llm.backend.supports_loglikelihood is False
    with pytest.raises(UnsupportedError, match="llamacpp:/path/model.gguf"):
        llm.loglikelihood("q", "a")
    llm.close()


def test_plain_model_name_means_openai():
    backend = OpenAIBackend("gpt-4o-mini", OpenAIParams(), api_key="k")
    assert backend.base_url == "https://api.openai.com/v1" and backend.model_id == "gpt-4o-mini"


AZURE_STYLE_KEY = "3f9a0c7e12b44d5e8a6f0b1c2d3e4f5a"  # 32 hex digits: no known key shape


@pytest.mark.parametrize("key", [AZURE_STYLE_KEY, "correct-horse-battery-staple"])
def test_a_key_echoed_raw_by_the_server_is_masked_in_the_error(fault_server, tmp_path, key):
    """A real ``preflab`` process against a real HTTP server that answers 401 with the key it
    was sent, without "Bearer": the key preflab read from key_env is masked whatever its shape."""
    import os
    import subprocess
    import sys

    (tmp_path / "p.txt").write_text("Why?\n")
    fault_server.faults.append(("echo_key", 401))
    result = subprocess.run(
        [sys.executable, "-m", "preflab", "generate", "rlcd", "--prompts", "p.txt", "--out", "o.jsonl", "--no-cache",
         "--llm", f"openai:{fault_server.url}#model=m&key_env=MY_KEY&retries=0"],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "MY_KEY": key})
    assert fault_server.chat_requests[0]["auth"] == f"Bearer {key}"  # the server did get it
    assert result.returncode == 1, result.stderr
    assert "HTTP 401" in result.stderr and "invalid subscription key ***" in result.stderr
    assert key not in result.stderr + result.stdout


def test_a_key_read_from_key_env_is_masked_in_logs_and_run_records(fault_server, tmp_path, monkeypatch):
    from preflab.provenance import write_run_json
    from preflab.redact import RedactingFilter

    monkeypatch.setenv("MY_KEY", AZURE_STYLE_KEY)
    llm = _llm(fault_server, None, "&key_env=MY_KEY")
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "gateway said: %s", (f"bad key {AZURE_STYLE_KEY}",), None)
    RedactingFilter().filter(record)
    assert record.getMessage() == "gateway said: bad key ***"
    path = write_run_json(tmp_path / "o.run.json", {"note": f"failed: {AZURE_STYLE_KEY}", "n": 3})
    assert AZURE_STYLE_KEY not in path.read_text() and "failed: ***" in path.read_text()
    llm.close()
