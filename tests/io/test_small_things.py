"""Issue 12 §6: empty inputs, messages, and a stalled server that says what it waits for."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from safety_helpers import SilentServer, cli


@pytest.fixture()
def empty_pairs(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n")
    return path


def test_validate_empty_input_exits_1_unless_allowed(empty_pairs):
    result = cli("data", "validate", empty_pairs)
    assert result.code == 1 and "no pairs in the input" in result.output and "--allow-empty" in result.output
    assert cli("data", "validate", empty_pairs, "--allow-empty").code == 0


def test_convert_empty_input_exits_1_and_writes_nothing(empty_pairs, tmp_path):
    out = tmp_path / "out.jsonl"
    result = cli("data", "convert", empty_pairs, out)
    assert result.code == 1 and "no pairs in the input" in result.output and not out.exists()
    assert cli("data", "convert", empty_pairs, out, "--allow-empty").code == 0 and out.exists()


def test_generate_empty_prompts_exits_1_and_writes_nothing(tmp_path):
    prompts = tmp_path / "p.txt"
    prompts.write_text("\n\n")
    out = tmp_path / "o.jsonl"
    result = cli("generate", "rlcd", "--prompts", prompts, "--out", out, "--llm", "fake", "--no-cache")
    assert result.code == 1 and "no prompts in the input" in result.output
    assert list(tmp_path.iterdir()) == [prompts]
    result = cli("generate", "rlcd", "--prompts", prompts, "--out", out, "--llm", "fake", "--no-cache", "--allow-empty")
    assert result.code == 0 and out.exists()


def test_connection_error_message_has_one_period():
    from preflab.errors import PreflabError
    from preflab.llm.client import open_llm

    import socket

    with socket.socket() as closed:  # bound, never listening, then closed: connecting is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with open_llm(f"openai:http://127.0.0.1:{port}/v1#model=m&retries=0", cache=False) as llm:
        with pytest.raises(PreflabError) as info:
            llm.complete("hi")
    message = str(info.value)
    assert "Connection error" in message and ".." not in message


def test_stalled_server_says_what_it_waits_for():
    """A server that accepts the connection and never answers: the run is not silent."""
    with SilentServer() as server:
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "preflab", "llm", "check", "--llm",
                                 f"openai:{server.url}#model=m&timeout=2&retries=1&backoff=0.1"],
                                capture_output=True, text=True, timeout=60)
        elapsed = time.monotonic() - started
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"waiting for {server.url} POST /chat/completions: no answer for" in result.stderr
    assert "then retry 1/1" in result.stderr and "then give up" in result.stderr
    assert "retry 1/1 in" in result.stderr and "gave up after 2 tries" in result.stderr
    assert elapsed < 30
