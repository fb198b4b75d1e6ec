"""Issue 12 §5: keys never shown or stored, labels cannot escape the run folder, outputs follow
the umask, and the call cache does not mix two endpoints."""

from __future__ import annotations

import json
import os
import stat

import pytest
from safety_helpers import KeyEchoServer, cli

SECRET = "sk-live-0123456789abcdefSECRET"


def test_server_error_body_echoing_the_key_is_redacted(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_KEY", SECRET)
    prompts = tmp_path / "p.txt"
    prompts.write_text("Why?\n")
    with KeyEchoServer() as server:
        result = cli("generate", "rlcd", "--prompts", prompts, "--out", tmp_path / "o.jsonl", "--no-cache",
                     "--llm", f"openai:{server.url()}#model=m&key_env=MY_KEY&retries=0")
    assert result.code == 1, result.output
    assert "HTTP 401" in result.output and "Bearer ***" in result.output
    assert SECRET not in result.output and "0123456789abcdef" not in result.output


def test_key_in_url_user_info_is_not_stored_in_run_json(tmp_path):
    prompts = tmp_path / "p.txt"
    prompts.write_text("Why?\nHow?\n")
    out = tmp_path / "o.jsonl"
    with KeyEchoServer(ok=True) as server:
        result = cli("generate", "rlcd", "--prompts", prompts, "--out", out, "--no-cache",
                     "--llm", f"openai:{server.url('bob:' + SECRET)}#model=m")
    assert result.code == 0, (result.output, result.exception)
    record = (tmp_path / "o.jsonl.run.json").read_text()
    assert SECRET not in record and "bob" not in record
    assert json.loads(record)["llm_spec"] == f"openai:http://***@127.0.0.1:{server.port}/v1#model=m"


def test_redaction_of_messages_and_records():
    from preflab.redact import redact, redact_data

    assert redact(f"failed: Authorization: Bearer {SECRET}") == "failed: Authorization: Bearer ***"
    assert redact("api_key=abcd1234efgh token: 'xyzw9876'") == "api_key=*** token: '***'"
    assert redact("hf_AbCdEfGhIjKlMnOpQrStUv and ghp_AbCdEfGhIjKlMnOpQrStUv") == "*** and ***"
    keep = "fingerprint 0123456789abcdef, key_env=OPENAI_API_KEY, max_tokens=5, http://127.0.0.1:8080/v1"
    assert redact(keep) == keep
    assert redact_data({"a": [f"x {SECRET}"], "n": 3}) == {"a": ["x ***"], "n": 3}


def test_bench_method_label_cannot_escape_the_run_folder(tmp_path):
    from preflab.pipelines.bench.steps import Steps

    run = tmp_path / "deep" / "run"
    folder, _ = Steps(run).run("generate-x/../../../ESCAPED", 1, {}, lambda f: {"ok": True})
    assert run / "steps" in folder.parents and "/" not in folder.name
    assert not any(p.name.startswith("ESCAPED") for p in tmp_path.rglob("*") if run not in p.parents)


def test_bench_labels_that_collide_as_file_names_are_refused(tmp_path):
    from preflab.pipelines.bench.config import load_bench_config
    from preflab.errors import ConfigError

    (tmp_path / "p.jsonl").write_text('{"prompt": "q"}\n')
    data = {"llm": "fake", "prompts": {"path": str(tmp_path / "p.jsonl")}, "eval": [{"name": "e", "path": str(tmp_path / "p.jsonl")}],
            "methods": [{"name": "rlcd", "label": "a/b"}, {"name": "rlcd", "label": "a b"}]}
    with pytest.raises(ConfigError, match="unique as file names"):
        load_bench_config(data=data)


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_follow_the_umask(tmp_path, umask, mode):
    from preflab import io
    from preflab.records import PreferencePair, text_prompt

    old = os.umask(umask)
    try:
        pair = PreferencePair(prompt=text_prompt("q"), chosen="a", rejected="b")
        for name in ("o.jsonl", "o.parquet"):
            io.write_pairs([pair], tmp_path / name)
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode
    finally:
        os.umask(old)


def test_cache_keys_name_the_endpoint(tmp_path):
    from preflab.llm.client import open_llm

    cache = tmp_path / "calls.sqlite3"
    with KeyEchoServer(ok=True, text="first") as one, KeyEchoServer(ok=True, text="second") as two:
        with open_llm(f"openai:{one.url()}#model=same", cache=cache) as llm:
            assert llm.complete("hi")[0].text == "first 1"
        with open_llm(f"openai:{two.url()}#model=same", cache=cache) as llm:
            answer = llm.complete("hi")[0]
        assert answer.text == "second 1" and not answer.cached  # not the other server's cached answer
        with open_llm(f"openai:{one.url()}#model=same", cache=cache) as llm:
            assert llm.complete("hi")[0].cached  # the same endpoint still hits
