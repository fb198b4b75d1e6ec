"""``preflab generate`` end to end through the CLI with the fake backend: outputs, summary,
resume after SIGKILL with no duplicates and no call paid twice."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from preflab.io import read_pairs
from preflab.llm.cache import CallCache


def _prompts(tmp_path, n=24):
    path = tmp_path / "prompts.txt"
    path.write_text("".join(f"Question number {i}: why?\n" for i in range(n)))
    return path


def _cmd(prompts, out, cache, *extra):
    return [sys.executable, "-m", "preflab", "generate", "rlcd", "--prompts", str(prompts), "--out", str(out),
            "--llm", "fake#delay=0.02&concurrency=2", "--cache-path", str(cache), "--in-flight", "2", *extra]


def test_generate_writes_pairs_failures_and_run_record(tmp_path):
    prompts = _prompts(tmp_path, 5)
    out = tmp_path / "pairs.jsonl"
    result = subprocess.run(_cmd(prompts, out, tmp_path / "c.sqlite", "--limit", "4"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "pairs" in result.stderr and "wall time" in result.stderr
    pairs = list(read_pairs(out))
    # the fake answers "fake answer to: <prompt>" for both instructions: identical → failures
    failures = [json.loads(line) for line in Path(str(out) + ".failures.jsonl").read_text().splitlines()]
    assert len(pairs) + len(failures) == 4 and {f["reason"] for f in failures} == {"identical"}
    run = json.loads(Path(str(out) + ".run.json").read_text())
    assert run["counts"]["prompts"] == 4 and run["generator"]["backend"] == "fake"
    assert run["usage"]["total"]["calls"] == 8 and "versions" in run
    assert not Path(str(out) + ".partial.jsonl").exists()


def test_killed_run_resumes_to_the_same_output_without_paying_twice(tmp_path):
    prompts = _prompts(tmp_path, 24)
    # reference: uninterrupted
    ref_out, ref_cache = tmp_path / "ref.jsonl", tmp_path / "ref.sqlite"
    assert subprocess.run(_cmd(prompts, ref_out, ref_cache),
                          capture_output=True).returncode == 0
    ref_run = json.loads(Path(str(ref_out) + ".run.json").read_text())
    # interrupted: SIGKILL once some prompts are done
    out, cache = tmp_path / "out.jsonl", tmp_path / "cache.sqlite"
    partial = Path(str(out) + ".partial.jsonl")
    proc = subprocess.Popen(_cmd(prompts, out, cache), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and (not partial.exists() or partial.read_text().count("\n") < 6):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists(), "a killed run must not leave an output that looks complete"
    done_lines = partial.read_text().count("\n") - 1
    assert 0 < done_lines < 24
    with CallCache(cache) as store:
        paid_before_kill = store.stats()["entries"]
    result = subprocess.run(_cmd(prompts, out, cache), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    run = json.loads(Path(str(out) + ".run.json").read_text())
    assert run["resumed_prompts"] == done_lines
    assert run["usage"]["total"]["calls"] + paid_before_kill == ref_run["usage"]["total"]["calls"]
    assert out.read_bytes() == ref_out.read_bytes()
    ids = [p.id for p in read_pairs(out)]
    assert len(ids) == len(set(ids))


def test_resume_with_a_different_config_is_refused(tmp_path):
    prompts = _prompts(tmp_path, 3)
    out = tmp_path / "o.jsonl"
    partial = Path(str(out) + ".partial.jsonl")
    partial.write_text(json.dumps({"fingerprint": "0000", "method": "rlcd"}) + "\n")
    result = subprocess.run(_cmd(prompts, out, tmp_path / "c.sqlite"), capture_output=True, text=True)
    assert result.returncode == 2 and "different method, config" in result.stderr


def test_token_budget_stops_cleanly_and_a_rerun_finishes(tmp_path):
    prompts = _prompts(tmp_path, 12)
    out, cache = tmp_path / "b.jsonl", tmp_path / "b.sqlite"
    stopped = subprocess.run(_cmd(prompts, out, cache, "--max-tokens-budget", "150"), capture_output=True, text=True)
    assert stopped.returncode == 1
    assert "token budget reached" in stopped.stderr and "run it again with the same --out" in stopped.stderr
    assert "rerun with a larger --max-tokens-budget" in stopped.stderr
    assert "Traceback" not in stopped.stderr and not out.exists()
    done_before = Path(str(out) + ".partial.jsonl").read_text().count("\n") - 1
    assert 0 < done_before < 12
    finished = subprocess.run(_cmd(prompts, out, cache), capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    run = json.loads(Path(str(out) + ".run.json").read_text())
    assert run["counts"]["prompts"] == 12 and run["resumed_prompts"] == done_before
