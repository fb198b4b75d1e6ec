"""Starting real local servers for tests (llama.cpp's OpenAI-compatible server)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_llama_server(gguf: Path, log: Path, threads: int = 2) -> tuple[subprocess.Popen, str]:
    """Start ``python -m llama_cpp.server`` with ``gguf`` on a free local port; wait until it
    answers. Returns the process and its base URL (``.../v1``)."""
    import httpx

    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", "smollm2",
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", str(threads),
           "--interrupt_requests", "False"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "OPENAI_API_KEY": "", "OMP_WAIT_POLICY": "PASSIVE"})
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"llama_cpp.server did not start in 60 s: {log.read_text()[-2000:]}")
        time.sleep(0.2)


def stop_process(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()




class RunInThread:
    """``run_generation(...)`` on a thread, so a test can kill something once ``lines`` outcomes
    are in the partial file (:meth:`wait_for`) and then collect the result (:meth:`join`)."""

    def __init__(self, out: Path, *args, **kwargs) -> None:
        import threading

        from preflab.pipelines.generation import run_generation

        self.out, self.result = out, None
        self.thread = threading.Thread(target=lambda: setattr(self, "result", run_generation(*args, out=out, **kwargs)))
        self.thread.start()

    def wait_for(self, lines: int, timeout: float = 120) -> None:
        from preflab.pipelines.generation import partial_path

        partial, deadline = partial_path(self.out), time.monotonic() + timeout
        while time.monotonic() < deadline and (not partial.exists() or partial.read_text().count("\n") < lines + 1):
            time.sleep(0.02)

    def join(self, timeout: float = 300):
        self.thread.join(timeout=timeout)
        assert not self.thread.is_alive(), "the run did not finish"
        assert self.result is not None, "the run failed (see the thread's exception above)"
        return self.result
