"""Ctrl-C in the middle of a run: a real ``preflab`` process sent SIGINT exits 130 with one line
that says what was kept and how to resume, and nothing else ("Task was destroyed but it is
pending!", "Event loop is closed" and tracebacks came out 3 runs in 4); running the same
command again finishes the run with the output an uninterrupted run writes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from preflab.api.generate import example_prompts

NOISE = ("Traceback", "Task was destroyed", "Event loop is closed", "Exception ignored", "RuntimeError", "ERROR")


def _preflab(*args, cwd):
    return subprocess.run([sys.executable, "-m", "preflab", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def _interrupt(args, cwd: Path, ready, after: float) -> subprocess.CompletedProcess:
    """Start ``preflab ARGS``, wait until ``ready()`` says the run is under way, then SIGINT it."""
    proc = subprocess.Popen([sys.executable, "-m", "preflab", *map(str, args)], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not ready() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(after)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _lines(path: Path) -> int:
    return path.read_text().count("\n") if path.exists() else 0


@pytest.mark.slow
@pytest.mark.parametrize("after", [0.0, 0.13, 0.31, 0.52])
def test_sigint_mid_generate_exits_130_and_the_rerun_finishes_it(tmp_path, after):
    (tmp_path / "p.txt").write_text("".join(f"Question number {i}: why is that so?\n" for i in range(24)))
    args = ["generate", "rlaif", "--prompts", "p.txt", "--llm", "fake#delay=0.05&seeded=true", "--no-cache",
            "--in-flight", "4"]
    reference = _preflab(*args, "--out", "ref.jsonl", cwd=tmp_path)
    assert reference.returncode == 0, reference.stderr
    partial = tmp_path / "o.jsonl.partial.jsonl"
    stopped = _interrupt([*args, "--out", "o.jsonl"], tmp_path, lambda: _lines(partial) >= 2, after)
    assert stopped.returncode == 130, stopped.stderr
    last = stopped.stderr.strip().splitlines()[-1]
    assert last == ("interrupted: finished prompts are kept in o.jsonl.partial.jsonl: run the same command again "
                    "(the same --out) to continue from there")
    assert not any(word in stopped.stderr for word in NOISE), stopped.stderr
    assert partial.exists() and not (tmp_path / "o.jsonl").exists()
    kept = _lines(partial) - 1
    again = _preflab(*args, "--out", "o.jsonl", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "o.jsonl").read_bytes() == (tmp_path / "ref.jsonl").read_bytes()
    assert json.loads((tmp_path / "o.jsonl.run.json").read_text())["resumed_prompts"] == kept > 0


@pytest.mark.slow
def test_sigint_mid_bench_exits_130_and_the_rerun_resumes(tmp_path):
    data = example_prompts().parent
    config = {"name": "b", "llm": "fake#delay=0.05&seeded=true", "prompts": {"path": str(data / "example_prompts.txt")},
              "budget_prompts": 12, "methods": [{"name": "rlaif"}],
              "rm": {"recipe": "embed-head", "seeds": [0], "options": {"epochs": 2}},
              "eval": [{"name": "check", "path": str(data / "quickstart_eval.jsonl"), "limit": 4}]}
    (tmp_path / "bench.json").write_text(json.dumps(config))
    run = tmp_path / "run"

    def generating() -> bool:
        return any(_lines(p) >= 2 for p in run.rglob("*.partial.jsonl")) if run.exists() else False

    stopped = _interrupt(["bench", "bench.json", "--out", "run"], tmp_path, generating, 0.1)
    assert stopped.returncode == 130, stopped.stderr
    assert stopped.stderr.strip().splitlines()[-1] == (
        "interrupted: finished steps are kept in run: run the same command again (the same --out) to resume; "
        "finished steps and LLM calls are reused")
    assert not any(word in stopped.stderr for word in NOISE), stopped.stderr
    again = _preflab("bench", "bench.json", "--out", "run", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads((run / "results.json").read_text())["methods"]["rlaif"]


def test_closing_an_llm_cancels_the_calls_still_on_its_loop(caplog):
    """The loop's calls that a stopped caller left behind are cancelled and awaited before the
    loop stops, so none is destroyed while pending."""
    import asyncio
    import gc
    import threading

    from preflab.llm import open_llm

    llm = open_llm("fake#delay=30", cache=False)
    seen = []

    def call():
        try:
            llm.complete("never answered")
        except BaseException as exc:  # noqa: BLE001 - what the caller left behind sees
            seen.append(exc)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    deadline = time.monotonic() + 10
    while not llm.backend.calls and time.monotonic() < deadline:
        time.sleep(0.01)
    loop = llm._bridge._thread.loop
    started = time.monotonic()
    llm.close()
    assert time.monotonic() - started < 5 and loop.is_closed()
    worker.join(timeout=5)
    assert [type(e).__name__ for e in seen] == ["CancelledError"]
    gc.collect()
    assert "Task was destroyed" not in caplog.text
    assert not [t for t in asyncio.all_tasks(loop) if not t.done()]
