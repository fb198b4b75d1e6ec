"""``preflab llm check`` and ``preflab llm cache stats|clear`` (through the real entry point)."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from preflab.cli.main import app
from preflab.llm import open_llm

runner = CliRunner()


def test_check_prints_model_latency_and_rate():
    result = runner.invoke(app, ["llm", "check", "--llm", "fake:probe-model#answer=all good", "--max-tokens", "8"])
    assert result.exit_code == 0, result.output
    assert "probe-model" in result.output and "tokens/s" in result.output and "all good" in result.output


def test_check_with_a_bad_spec_is_a_one_line_usage_error():
    proc = subprocess.run([sys.executable, "-m", "preflab", "llm", "check", "--llm", "fake#nope=1"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "nope: unknown option" in proc.stderr and "Traceback" not in proc.stderr


def test_cache_stats_and_clear(tmp_path):
    path = tmp_path / "c.sqlite3"
    llm = open_llm("fake:m1", cache=path)
    llm.complete("a", n=3)
    llm.close()
    llm = open_llm("fake:m2", cache=path)
    llm.complete("b")
    llm.close()
    stats = runner.invoke(app, ["llm", "cache", "stats", "--cache", str(path)])
    assert stats.exit_code == 0 and "4 entries" in stats.output and "m1" in stats.output
    cleared = runner.invoke(app, ["llm", "cache", "clear", "--cache", str(path), "--model", "m1", "--yes"])
    assert cleared.exit_code == 0 and "deleted 3" in cleared.output
    refused = runner.invoke(app, ["llm", "cache", "clear", "--cache", str(path)], input="n\n")
    assert refused.exit_code == 1
    assert "1 entries" in runner.invoke(app, ["llm", "cache", "stats", "--cache", str(path)]).output


def test_help_documents_the_spec_grammar():
    result = runner.invoke(app, ["llm", "check", "--help"])
    assert "openai:URL#model=NAME" in result.output.replace("\n", "").replace(" ", "") or "openai:URL" in result.output
