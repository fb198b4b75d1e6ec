"""A job killed with SIGKILL mid-way and rerun: no call that had finished is sent again, and
the outputs equal an uninterrupted run's. Against the scripted server here; the integration
suite repeats it through a counting proxy in front of a real llama.cpp server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fault_server import FaultServer

from preflab.llm import CallCache

JOB = """
import json, sys
from preflab.llm import Request, open_llm
spec, cache, out, prompts, max_tokens = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
if spec.startswith("http"):
    spec = f"openai:{spec}#model=smollm2&concurrency=2"
llm = open_llm(spec, cache=cache)
requests = [Request(f"Give one word about the number {i}.", {"n": 2, "temperature": 0.8, "max_tokens": max_tokens, "seed": 5})
            for i in range(prompts)]
results = llm.complete_many(requests)
with open(out, "w") as fh:
    json.dump([[c.text for c in r] for r in results], fh)
with open(out + ".usage", "w") as fh:
    json.dump(llm.usage.summary()["total"], fh)
llm.close()
"""


def run_job(script: Path, url: str, cache: Path, out: Path, prompts: int, max_tokens: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(script), url, str(cache), str(out), str(prompts), str(max_tokens)],
                            env={**os.environ, "OPENAI_API_KEY": ""})


def kill_and_resume(server: FaultServer, tmp: Path, *, prompts: int, max_tokens: int, kill_after: int, limit_s: float,
                    deterministic: bool = True) -> None:
    """``deterministic=False`` for a server whose sample for a (prompt, seed) may change with
    the order requests arrive in (llama.cpp's server re-uses a KV prefix across requests, and
    batch shape changes the rounding): then the resumed outputs must equal the calls that
    finished before the kill, and the rest are only counted."""
    script = tmp / "job.py"
    script.write_text(JOB)
    cache, out = tmp / "resume.sqlite3", tmp / "resumed.json"
    job = run_job(script, server.url, cache, out, prompts, max_tokens)
    deadline = time.monotonic() + limit_s
    while sum(server.counts.values()) < kill_after:
        assert job.poll() is None, "the job finished before it could be killed; raise prompts"
        assert time.monotonic() < deadline, "the server saw too few requests"
        time.sleep(0.01)
    os.kill(job.pid, signal.SIGKILL)
    job.wait()
    while server.in_flight:  # let the server answer what the killed job had in flight
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not out.exists()
    finished = CallCache(cache).stats()["entries"]
    before = {json.loads(r[0])["messages"][-1][1] + f"/{json.loads(r[0])['sample_index']}": json.loads(r[1])["text"]
              for r in CallCache(cache)._db.execute("SELECT request, response FROM calls")}
    sent_before = dict(server.counts)
    assert 0 < finished < prompts * 2

    assert run_job(script, server.url, cache, out, prompts, max_tokens).wait(limit_s) == 0
    sent_again = {k: server.counts[k] - sent_before.get(k, 0) for k in server.counts}
    assert sum(sent_again.values()) <= prompts * 2 - finished  # the finished calls were not sent again
    assert sum(sent_again.values()) >= prompts * 2 - sum(sent_before.values())

    resumed = json.loads(out.read_text())
    for i, texts in enumerate(resumed):
        for k, text in enumerate(texts):
            key = f"Give one word about the number {i}./{k}"
            assert before.get(key, text) == text  # a call that finished before the kill is re-used verbatim
    if not deterministic:
        return
    fresh = tmp / "fresh.json"
    assert run_job(script, server.url, tmp / "fresh.sqlite3", fresh, prompts, max_tokens).wait(limit_s) == 0
    uninterrupted = json.loads(fresh.read_text())
    assert len(resumed) == prompts and resumed == uninterrupted


def kill_in_process_and_rerun(spec: str, tmp: Path, *, prompts: int, max_tokens: int, kill_at: int,
                              limit_s: float = 180) -> tuple[set, dict, list, list]:
    """Run the job in process with ``spec``, SIGKILL it once ``kill_at`` samples are cached,
    rerun it, and run it afresh elsewhere. Returns the (prompt, index) cached before the kill,
    the rerun's usage, and the rerun's and the fresh run's outputs."""
    script = tmp / "job.py"
    script.write_text(JOB)
    cache, out = tmp / "c.sqlite3", tmp / "out.json"
    job = run_job(script, spec, cache, out, prompts, max_tokens)
    deadline = time.monotonic() + limit_s
    while not cache.exists() or CallCache(cache).stats()["entries"] < kill_at:
        assert job.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(job.pid, signal.SIGKILL)
    job.wait()
    assert not out.exists()
    rows = CallCache(cache)._db.execute("SELECT request FROM calls").fetchall()
    done = {(json.loads(r[0])["messages"][-1][1], json.loads(r[0])["sample_index"]) for r in rows}
    assert run_job(script, spec, cache, out, prompts, max_tokens).wait(limit_s) == 0
    usage = json.loads(Path(f"{out}.usage").read_text())
    fresh = tmp / "fresh.json"
    assert run_job(script, spec, tmp / "fresh.sqlite3", fresh, prompts, max_tokens).wait(limit_s) == 0
    return done, usage, json.loads(out.read_text()), json.loads(fresh.read_text())


def test_sigkill_and_rerun_against_scripted_server(tmp_path):
    with FaultServer(delay_s=0.05) as server:
        kill_and_resume(server, tmp_path, prompts=30, max_tokens=8, kill_after=10, limit_s=60)
