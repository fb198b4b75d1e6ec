"""``preflab.bench`` and ``preflab.quickstart`` check their options before any work, naming
them as the caller knows them: keywords from Python, flags from the shell."""

import pytest
import typer
from typer.testing import CliRunner

import preflab
from preflab.cli import bench as bench_cli
from preflab.cli.adapter import render
from preflab.errors import ConfigError


def _cli(*args):
    app = typer.Typer()
    bench_cli.register(app)
    return CliRunner().invoke(app, [str(a) for a in args])


def test_python_sees_keywords_and_the_shell_sees_flags(tmp_path):
    with pytest.raises(ConfigError) as info:
        preflab.quickstart(budget=0, eval_limit=0, llm="fake", out=tmp_path / "qs", progress=False)
    assert str(info.value) == "budget must be at least 1, got 0; eval_limit must be at least 1, got 0"
    result = _cli("quickstart", "--budget", "0", "--eval-limit", "0", "--llm", "fake", "--out", tmp_path / "qs")
    assert isinstance(result.exception, ConfigError), result.output
    assert render(result.exception) == "--budget must be at least 1, got 0; --eval-limit must be at least 1, got 0"
    assert not (tmp_path / "qs").exists()


def test_quickstart_checks_its_llm_spec_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match="^llm: unknown LLM backend kind 'nosuch'"):
        preflab.quickstart(llm="nosuch", out=tmp_path / "qs", progress=False)
    result = _cli("quickstart", "--llm", "nosuch", "--out", tmp_path / "qs")
    assert render(result.exception).startswith("--llm: unknown LLM backend kind 'nosuch'")
    assert not (tmp_path / "qs").exists()


def test_bench_options_and_config_are_checked_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match="overwrite: 'yes' is not a valid"):
        preflab.bench({}, run_dir=tmp_path / "run", overwrite="yes")
    with pytest.raises(ConfigError, match="unknown option 'out'"):
        preflab.bench({}, out=tmp_path / "run")  # Python names the run folder run_dir, the shell --out
    with pytest.raises(ConfigError) as info:
        preflab.bench({"methods": [{"name": "rmbost"}], "budget_prompts": 0}, run_dir=tmp_path / "run")
    text = str(info.value)
    assert text.startswith("<bench config>: ") and "budget_prompts: " in text and "methods.0.name: unknown method" in text
    assert all(not p.names for p in info.value.problems) and len(info.value.problems) >= 3  # one per key path
    assert not (tmp_path / "run").exists()
