"""Executor settings checked before Ray is touched: flags, bench files, thread shares."""

from __future__ import annotations

import pytest

from preflab.config import problems_of, validate
from preflab.errors import ConfigError
from preflab.executor import Executor
from preflab.executor.cluster import _host_port
from preflab.llm.ray_backend import spec_with_threads


def test_every_problem_in_one_line():
    problems = [p.render() for p in problems_of(Executor("dask", actors=0, cpus_per_actor=0, gpus_per_actor=-1))]
    assert len(problems) == 4 and "kind must be one of local, ray, got 'dask'" in problems
    with pytest.raises(ConfigError, match="actors must be at least 1.*cpus_per_actor must be > 0"):
        validate(Executor("ray", actors=0, cpus_per_actor=0))


def test_bench_executor_key():
    from preflab.pipelines.bench.config import BenchConfig

    base = {"methods": [{"name": "rlcd"}], "eval": [{"name": "x", "path": "e.jsonl"}], "prompts": {"path": "p.txt"}}
    assert BenchConfig.model_validate({**base, "executor": "ray"}).executor == "ray"
    assert Executor.from_config({"kind": "ray", "actors": 4, "cpus_per_actor": 2}).actors == 4
    with pytest.raises(ValueError, match="unknown key.*workers"):
        BenchConfig.model_validate({**base, "executor": {"kind": "ray", "workers": 2}})
    with pytest.raises(ValueError, match="actors must be at least 1"):
        BenchConfig.model_validate({**base, "executor": {"kind": "ray", "actors": 0}})


def test_actor_threads_follow_the_cpu_share():
    assert spec_with_threads("llamacpp:/m.gguf#batch=4", 3) == "llamacpp:/m.gguf#batch=4&n_threads=3"
    assert spec_with_threads("llamacpp#n_threads=2", 4) == "llamacpp#n_threads=2"  # the user's choice stays
    assert spec_with_threads("openai:http://h:1/v1#model=m", 2) == "openai:http://h:1/v1#model=m"
    assert _host_port("[::1]:6379") == ("::1", 6379) and _host_port("local") is None


def test_cli_flags_reach_the_executor(tmp_path):
    from typer.testing import CliRunner

    from preflab.cli.main import app

    result = CliRunner().invoke(app, ["score", str(tmp_path / "rm"), str(tmp_path / "p.jsonl"), "-o",
                                      str(tmp_path / "o.jsonl"), "--executor", "ray", "--ray-cpus-per-actor", "0"])
    from preflab.cli.adapter import render

    assert "--ray-cpus-per-actor must be > 0, got 0.0" in render(result.exception)
    for command in (["score"], ["strength"], ["generate", "rlcd"]):
        text = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "250"}).output
        assert "--executor" in text and "--ray-gpus-per-actor" in text, command


@pytest.mark.parametrize("module", ["preflab.executor.config", "preflab.executor.cluster"])
def test_doctests(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_the_executor_imports_only_the_layers_below_it():
    """Infrastructure stays infrastructure: what runs on the actors (LLM backends, reward
    models) adapts itself to the pool, so no import here, deferred ones included, reaches
    above core and io."""
    import ast
    from pathlib import Path

    import preflab.executor

    allowed = ("preflab.executor", "preflab.errors", "preflab.records", "preflab.config", "preflab.redact",
               "preflab.paths", "preflab.progress", "preflab.io", "preflab.provenance")
    found = {}
    for path in Path(preflab.executor.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            assert not (isinstance(node, ast.ImportFrom) and node.level), f"{path.name}: use absolute imports"
            for name in names:
                if name.split(".")[0] == "preflab" and not name.startswith(allowed):
                    found.setdefault(path.name, []).append(name)
    assert found == {}


@pytest.mark.parametrize("address", ["hostonly", "notahost:::", "h:99999", "http://h:6379", "ray://"])
def test_a_ray_address_ray_cannot_join_is_one_line_before_any_work(tmp_path, address):
    """These gave Ray's ValueError traceback ("Invalid address format") after the outputs were claimed."""
    import subprocess
    import sys

    (tmp_path / "p.txt").write_text("Why?\n")
    result = subprocess.run([sys.executable, "-m", "preflab", "generate", "rlaif", "--prompts", "p.txt", "--out",
                             "o.jsonl", "--llm", "fake", "--no-cache", "--executor", "ray", "--ray-address", address],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr == (f"error: --ray-address must be auto, local, HOST:PORT or ray://HOST[:PORT] (what `ray start "
                             f"--head` prints), got {address!r}; leave it out to start Ray here\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.txt"]


def test_ray_addresses_ray_can_join_pass():
    for address in ("auto", "local", "10.0.0.5:6379", "head.example.com:6379", "[::1]:6379", "ray://head:10001",
                    "ray://head"):
        assert problems_of(Executor("ray", address=address)) == [], address
    import preflab

    with pytest.raises(ConfigError, match=r"^ray_address must be auto, local, HOST:PORT"):
        preflab.generate("rlaif", ["Why?"], llm="fake", cache=False, executor="ray", ray_address="notahost:::")
    with pytest.raises(ConfigError, match=r"executor: address must be auto"):
        Executor.from_config({"kind": "ray", "address": "hostonly"})
