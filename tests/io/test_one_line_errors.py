"""Issue 12 §3: the tracebacks that became one-line errors, and the temporary folders of
interrupted saves."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from safety_helpers import cli, write_pairs_file


def _one_line(result, code: int) -> str:
    assert result.code == code, (result.output, result.exception)
    assert "Traceback" not in result.output
    return result.output.strip().splitlines()[-1]


def test_non_gguf_file_as_llamacpp_spec(tmp_path):
    pytest.importorskip("llama_cpp")
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}" + b"\0" * 64)
    prompts = tmp_path / "p.txt"
    prompts.write_text("Why?\n")
    line = _one_line(cli("generate", "rlcd", "--prompts", prompts, "--out", tmp_path / "o.jsonl",
                         "--llm", f"llamacpp:{weights}", "--no-cache"), 2)
    assert "is not a GGUF model file" in line and "convert" in line
    from preflab.llm.client import open_llm
    from preflab.errors import ConfigError

    with pytest.raises(ConfigError, match="not a GGUF model file"):
        open_llm(f"llamacpp:{weights}", cache=False)


def _damaged_cache(path):
    from preflab.llm.cache import CallCache, request_key

    with CallCache(path) as cache:
        for i in range(300):
            request = {"kind": "complete", "backend": "fake", "model": "m", "messages": [["user", f"q{i}" * 50]]}
            cache.put(request_key(request), request, {"text": "a" * 200})
    data = bytearray(path.read_bytes())
    for offset in range(4096, len(data), 4096):  # every page but the header: garbage
        data[offset:offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    return bytes(data)


def test_damaged_cache_in_generate_and_cache_stats(tmp_path):
    cache = tmp_path / "calls.sqlite3"
    damaged = _damaged_cache(cache)
    prompts = tmp_path / "p.txt"
    prompts.write_text("Why?\n")
    line = _one_line(cli("generate", "rlcd", "--prompts", prompts, "--out", tmp_path / "o.jsonl", "--llm", "fake",
                         "--cache-path", cache), 1)
    assert f"the LLM call cache {cache} is damaged" in line and "--no-cache" in line and "mv " in line
    line = _one_line(cli("llm", "cache", "stats", "--cache", cache), 1)
    assert "is damaged" in line
    assert cache.read_bytes() == damaged, "a damaged cache is never deleted or rewritten"


def test_cache_hint_names_the_flag_that_exists(tmp_path):
    folder = tmp_path / "a-folder.sqlite3"
    folder.mkdir()
    prompts = tmp_path / "p.txt"
    prompts.write_text("Why?\n")
    line = _one_line(cli("generate", "rlcd", "--prompts", prompts, "--out", tmp_path / "o.jsonl", "--llm", "fake",
                         "--cache-path", folder), 1)
    assert "--cache-path FILE" in line and "--cache path" not in line
    assert cli("llm", "cache", "stats", "--cache-path", folder).code == 1  # the hint's flag works there too


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_cheap_rm_with_broken_head(tmp_path, damage):
    torch = pytest.importorskip("torch")
    model = tmp_path / "rm"
    model.mkdir()
    (model / "preflab_embed_head.json").write_text(json.dumps({"config": {"model": "minilm"}}))
    if damage == "truncated":
        torch.save({"0.weight": torch.zeros(4, 8)}, model / "head.pt")
        (model / "head.pt").write_bytes((model / "head.pt").read_bytes()[:100])
    pairs = write_pairs_file(tmp_path / "pairs.jsonl")
    line = _one_line(cli("score", model, pairs, "--output", tmp_path / "s.jsonl"), 1)
    assert "the model folder is incomplete: head.pt" in line and str(model) in line


def test_report_on_corrupt_results(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text('{"name": "t", "table": {')
    line = _one_line(cli("report", run), 1)
    assert "results.json" in line and "not valid JSON" in line and "preflab bench" in line
    assert not (run / "report.html").exists()


def test_killed_save_leaves_a_temp_folder_that_the_next_save_removes(tmp_path):
    """A real SIGKILL in the middle of a folder save, then the next save of the same target."""
    target = tmp_path / "model"
    script = (f"import time; from preflab.io.atomic import atomic_path\n"
              f"with atomic_path({str(target)!r}, directory=True) as tmp:\n"
              f"    tmp.mkdir(); (tmp / 'weights.bin').write_bytes(b'0' * 100000); print('ready', flush=True); time.sleep(60)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "ready"
    proc.kill()
    proc.wait()
    leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".model.")
    from preflab.io.atomic import atomic_path

    with atomic_path(target, directory=True) as tmp:
        tmp.mkdir()
        (tmp / "weights.bin").write_bytes(b"1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_failed_save_removes_its_temp_folder(tmp_path):
    from preflab.io.atomic import atomic_path

    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "model", directory=True) as tmp:
            tmp.mkdir()
            (tmp / "big.bin").write_bytes(b"0" * 1000)
            raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []
