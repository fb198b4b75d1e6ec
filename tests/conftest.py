"""Shared fixtures: where the real data lives (read by path, never copied into the repo), the
embedded SmolLM2 GGUF, and a real llama.cpp OpenAI-compatible server on a free local port."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# llama.cpp's OpenMP threads spin while they wait unless told not to, which collapses its speed
# on a shared CPU; the backend sets this before llama.cpp first loads, but a test may import
# llama_cpp earlier (importorskip below), so set it before any test runs.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from servers import start_llama_server, stop_process  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    pytest.importorskip("llama_cpp")
    from preflab.llm.embedded import default_model_path

    return default_model_path()


@pytest.fixture(scope="session")
def llama_server(smollm2_gguf: Path, tmp_path_factory: pytest.TempPathFactory):
    """A real llama.cpp OpenAI-compatible server with the embedded SmolLM2, torn down after."""
    pytest.importorskip("llama_cpp.server")
    proc, url = start_llama_server(smollm2_gguf, tmp_path_factory.mktemp("llama-server") / "server.log")
    yield url
    stop_process(proc)
