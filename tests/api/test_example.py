"""``examples/python_api.py`` runs as shipped, on the fake LLM (``fake#seeded=true``) and the
embedding-head RM: generate, train base-only and base + rlcd, evaluate both."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "python_api.py"


@pytest.mark.slow
def test_python_api_example_runs(tmp_path):
    env = {**os.environ, "PREFLAB_CACHE": str(tmp_path / "cache")}
    result = subprocess.run([sys.executable, str(EXAMPLE), "--llm", "fake#seeded=true", "--limit", "6"],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0] == "rlcd: 6 pairs, 0 failed prompts, 12 LLM calls"
    assert lines[1].startswith("base-only      6 pairs  accuracy") and lines[2].startswith("base + rlcd   12 pairs")
    assert len(EXAMPLE.read_text().splitlines()) <= 35


def test_the_seeded_fake_gives_methods_distinct_answers():
    import preflab

    pairs = preflab.generate("rlcd", ["Why?", "How?"], llm="fake#seeded=true", cache=False, progress=False)
    assert len(pairs) == 2 and pairs.failures == []
