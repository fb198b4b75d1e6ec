"""The worked examples in the API modules' docstrings run (fake LLM; the RM one trains a
MiniLM head, so it is marked slow)."""

import doctest
import importlib

import pytest

FAST = ["preflab.api.data", "preflab.api.options", "preflab.progress", "preflab.api.generate",
        "preflab.api.quality", "preflab.api.augment", "preflab.api.judge", "preflab.io.memory",
        "preflab.api.data_commands", "preflab.api.report", "preflab.api.llm", "preflab.api.meta"]
SLOW = ["preflab.api.rm", "preflab.api.bench", "preflab.api.bon"]


def _run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, f"{name}: {result}"


@pytest.mark.parametrize("name", FAST)
def test_doctests(name):
    _run(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_slow_doctests(name):
    _run(name)
