"""A method added from outside preflab, in one file (tests/toy_judge_method.py), runs through
``preflab generate`` and ``preflab bench``: it needs a judge and declares a post-filter, and
no caller names it. It is registered the way an installed plugin is, through an entry point
in the ``preflab.methods`` group (a dist-info folder on the path stands for the install)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from preflab.io import read_pairs

TESTS = Path(__file__).resolve().parent
DATA = TESTS.parent / "src" / "preflab" / "data"
LAUNCHER = TESTS / "bench" / "launcher.py"  # the CLI plus the ``varied`` fake backend (a consistent judge)


@pytest.fixture
def plugin_env(tmp_path):
    dist = tmp_path / "site" / "toy_judged-0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-judged\nVersion: 0\n")
    (dist / "entry_points.txt").write_text("[preflab.methods]\ntoy-judged = toy_judge_method:register_toy\n")
    path = os.pathsep.join([str(tmp_path / "site"), str(TESTS), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "HF_HUB_OFFLINE": "1"}


def preflab(env, *args):
    return subprocess.run([sys.executable, str(LAUNCHER), *map(str, args)], capture_output=True, text=True, env=env)


def test_plugin_method_needing_a_judge_runs_through_generate(tmp_path, plugin_env):
    listed = preflab(plugin_env, "methods")
    assert listed.returncode == 0, listed.stderr
    assert "toy-judged" in listed.stdout and "judge" in listed.stdout
    prompts = tmp_path / "p.txt"
    prompts.write_text("".join(f"Question {i}: why is that so?\n" for i in range(5)))
    out = tmp_path / "toy.jsonl"
    result = preflab(plugin_env, "generate", "toy-judged", "--prompts", prompts, "--out", out, "--llm", "varied",
                     "--cache-path", tmp_path / "c.sqlite", "--keep-at-most", 3)  # a flag from the toy's config
    assert result.returncode == 0, result.stderr
    pairs = list(read_pairs(out))
    assert len(pairs) == 3  # the declared post-filter ran
    for pair in pairs:  # the judge (the generator here) was asked in both orders and prefers the longer text
        assert pair.provenance["votes"] in (["A", "B"], ["B", "A"]) and len(pair.chosen) > len(pair.rejected)
    run = json.loads(Path(f"{out}.run.json").read_text())
    assert run["judge"]["model"] == run["generator"]["model"] and run["post_filter"] == {"keep_at_most": 3}
    assert run["counts"]["failure:filtered_after_run"] == 2


@pytest.mark.integration
@pytest.mark.slow
def test_plugin_method_needing_a_judge_runs_through_bench(tmp_path, plugin_env):
    cfg = {"name": "toy", "llm": "varied", "prompts": {"path": str(DATA / "example_prompts.txt")}, "budget_prompts": 4,
           "methods": [{"name": "toy-judged", "options": {"keep_at_most": 3}}],
           "rm": {"recipe": "embed-head", "seeds": [0], "options": {"epochs": 20}},
           "eval": [{"name": "check", "path": str(DATA / "quickstart_eval.jsonl")}]}
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump(cfg))
    result = preflab(plugin_env, "bench", path, "-o", tmp_path / "run")
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["methods"]["toy-judged"]["pairs"] == 3 and results["methods"]["toy-judged"]["prompts"] == 4
    assert results["table"]["toy-judged"]["check"]["n"] == 30
