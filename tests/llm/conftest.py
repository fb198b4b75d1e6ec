"""Fixtures of the LLM tests: the scripted fault server and a fresh cache. The embedded
SmolLM2 GGUF and the real ``python -m llama_cpp.server`` fixture live in tests/conftest.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fault_server import FaultServer  # noqa: E402


@pytest.fixture
def fault_server():
    with FaultServer() as server:
        yield server


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "calls.sqlite3"
