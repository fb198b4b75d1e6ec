"""Several endpoints behind one ``openai:URL1|URL2`` spec: balanced by in-flight count, a failing
endpoint set aside and its requests retried on the others, usage per endpoint. Fast cases use
the scripted fault server; the slow one kills a real llama.cpp server in the middle of a run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from preflab.errors import ConfigError
from preflab.llm.base import BackendError
from preflab.llm.client import open_llm

sys.path.insert(0, str(Path(__file__).parent))
from fault_server import FaultServer  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1]))
from servers import RunInThread, start_llama_server, stop_process  # noqa: E402


def _spec(*urls: str, extra: str = "") -> str:
    return "openai:" + "|".join(urls) + "#model=m&retries=3&aside=30" + extra


def test_requests_balance_and_a_failing_endpoint_is_set_aside():
    pytest.importorskip("openai")
    with FaultServer(delay_s=0.05) as a, FaultServer(delay_s=0.05) as b:
        a.faults.extend([("status", 503, None)] * 12)
        with open_llm(_spec(a.url, b.url), cache=False) as llm:
            outs = llm.complete_many([(f"q{i}", {"seed": i}) for i in range(12)])
            usage = llm.backend.endpoint_usage()
    assert [o[0].text for o in outs] == [f"echo q{i} / seed {o[0].seed}" for i, o in enumerate(outs)]
    # a's requests in flight failed (503) once each and went to b; a was set aside (once) for 30 s
    sent_to_a = len(a.chat_requests)
    assert sent_to_a >= 1 and usage[a.url] == {"requests": sent_to_a, "completed": 0, "failures": sent_to_a,
                                                 "prompt_tokens": 0, "completion_tokens": 0, "set_aside": 1}
    assert usage[b.url]["completed"] == 12 and usage[b.url]["prompt_tokens"] > 0
    assert len(b.chat_requests) == 12


def test_both_endpoints_share_the_load_when_healthy():
    pytest.importorskip("openai")
    with FaultServer(delay_s=0.05) as a, FaultServer(delay_s=0.05) as b:
        with open_llm(_spec(a.url, b.url, extra="&concurrency=2"), cache=False) as llm:
            llm.complete_many([(f"q{i}", {"seed": i}) for i in range(12)])
            usage = llm.backend.endpoint_usage()
    assert usage[a.url]["completed"] == 6 and usage[b.url]["completed"] == 6
    assert a.max_in_flight <= 2 and b.max_in_flight <= 2


def test_an_error_no_retry_fixes_fails_at_once():
    pytest.importorskip("openai")
    with FaultServer() as a, FaultServer() as b:
        a.faults.append(("status", 400, None))
        with open_llm(_spec(a.url, b.url), cache=False) as llm, pytest.raises(BackendError, match="HTTP 400"):
            llm.complete("q", seed=1)
        assert b.chat_requests == []


def test_bad_multi_endpoint_specs():
    from preflab.llm.spec import create_backend

    with pytest.raises(ConfigError, match="two or more URLs"):
        create_backend("openai:http://127.0.0.1:1/v1|#model=m")
    with pytest.raises(ConfigError, match="listed twice"):
        create_backend("openai:http://127.0.0.1:1/v1|http://127.0.0.1:1/v1/#model=m")
    with pytest.raises(ConfigError, match="not an http"):
        create_backend("openai:http://127.0.0.1:1/v1|ftp://x#model=m")


@pytest.mark.slow
@pytest.mark.integration
def test_a_killed_server_hands_its_share_to_the_other(smollm2_gguf, tmp_path):
    pytest.importorskip("llama_cpp.server")
    from preflab.methods import methods

    first, url_a = start_llama_server(smollm2_gguf, tmp_path / "a.log", threads=1)
    second, url_b = start_llama_server(smollm2_gguf, tmp_path / "b.log", threads=1)
    try:
        prompts = tmp_path / "prompts.txt"
        prompts.write_text("".join(f"Name a colour, number {i}.\n" for i in range(10)))
        method = methods()["rlcd"]
        cfg = method.config(max_tokens=8, keep_truncated=True)
        out = tmp_path / "pairs.jsonl"
        spec = f"openai:{url_a}|{url_b}#model=smollm2&concurrency=1&aside=600&timeout=60"
        with open_llm(spec, cache=tmp_path / "calls.sqlite3") as llm:
            run = RunInThread(out, prompts, method=method, cfg=cfg, llm=llm, in_flight=2)
            run.wait_for(2)
            before = llm.backend.endpoint_usage()
            first.kill()
            r = run.join()
        usage = r.run["generator"]["endpoints"]
        assert r.counts["prompts"] == 10 and r.counts["pairs"] + sum(
            v for k, v in r.counts.items() if k.startswith("failure:")) == 10
        assert not any("127.0.0.1" in line for line in Path(f"{out}.failures.jsonl").read_text().splitlines())
        assert before[url_a]["completed"] >= 1  # it worked before the kill
        assert usage[url_a]["set_aside"] >= 1 and usage[url_a]["completed"] == before[url_a]["completed"]
        assert usage[url_b]["completed"] == 20 - usage[url_a]["completed"]  # the rest went to b
    finally:
        stop_process(first)
        stop_process(second)
