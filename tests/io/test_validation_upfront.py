"""Issue 12 §2: every option checked before any work, all problems at once, exit code 2,
nothing written before validation passes."""

from __future__ import annotations

import json

import pytest
from safety_helpers import cli, tree, write_pairs_file


@pytest.fixture()
def prompts(tmp_path):
    path = tmp_path / "in" / "prompts.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps({"prompt": f"Why {i}?"}) + "\n" for i in range(3)))
    return path


def _generate(prompts, out, cache, *extra):
    return cli("generate", "rlcd", "--prompts", prompts, "--out", out, "--llm", "fake", "--cache-path", cache, *extra)


def test_generate_negative_values_all_reported_before_any_file(tmp_path, prompts):
    before = tree(tmp_path)
    result = _generate(prompts, tmp_path / "out.jsonl", tmp_path / "c.sqlite", "--max-tokens", "-5",
                       "--temperature", "-1", "--limit", "-1", "--in-flight", "0")
    assert result.code == 2, result.output
    line = result.output.strip().splitlines()[-1]
    for expected in ("--max-tokens must be at least 1, got -5", "temperature must lie in [0, 2], got -1",
                     "--limit must be at least 1, got -1", "--in-flight must be at least 1, got 0"):
        assert expected in line
    assert tree(tmp_path) == before  # no .partial.jsonl, no cache file


def test_generate_output_extension_refused_before_generating(tmp_path, prompts):
    before = tree(tmp_path)
    result = _generate(prompts, tmp_path / "out.csv", tmp_path / "c.sqlite")
    assert result.code == 2 and "write .jsonl, .jsonl.gz, .parquet, or a folder name" in result.output
    assert tree(tmp_path) == before


def test_limit_minus_one_no_longer_drops_a_prompt_silently(tmp_path, prompts):
    result = _generate(prompts, tmp_path / "out.jsonl", tmp_path / "c.sqlite", "--limit", "-1")
    assert result.code == 2 and "--limit must be at least 1" in result.output


@pytest.mark.parametrize("n_boot", ["0", "-1"])
def test_eval_bootstrap_must_be_positive(tmp_path, n_boot):
    pairs = write_pairs_file(tmp_path / "pairs.jsonl")
    result = cli("eval", tmp_path / "no-model", pairs, "--output-dir", tmp_path / "ev", "--bootstrap", n_boot,
                 "--batch-size", "0")
    assert result.code == 2, result.output
    assert f"--bootstrap must be at least 1, got {n_boot}" in result.output
    assert "--batch-size must be at least 1, got 0" in result.output
    assert not (tmp_path / "ev").exists()


def test_judge_and_meta_set_ranges(tmp_path, prompts):
    pairs = write_pairs_file(tmp_path / "pairs.jsonl")
    result = cli("judge", pairs, "--out", tmp_path / "v.jsonl", "--llm", "fake", "--max-tokens", "0", "--limit", "-2")
    assert result.code == 2 and "--max-tokens must be at least 1" in result.output and "--limit" in result.output
    result = cli("meta-set", "--prompts", prompts, "--out", tmp_path / "m.jsonl", "--llm", "fake", "--k", "1",
                 "--temperature", "-0.5")
    assert result.code == 2 and "--k must be at least 2" in result.output and "--temperature" in result.output


def test_train_rm_config_ranges_in_one_message(tmp_path):
    pairs = write_pairs_file(tmp_path / "pairs.jsonl")
    result = cli("train-rm", pairs, "--output-dir", tmp_path / "rm", "--epochs", "-2", "--batch-size", "0", "--lr", "0")
    assert result.code == 2, result.output
    line = result.output.strip().splitlines()[-1]
    assert "--epochs must be > 0" in line and "--batch-size must be at least 1" in line and "--lr must be > 0" in line


def _bench(tmp_path, body: str):
    (tmp_path / "prompts.jsonl").write_text('{"prompt": "Why?"}\n')
    write_pairs_file(tmp_path / "eval.jsonl")
    cfg = tmp_path / "bench.yaml"
    cfg.write_text(body)
    return cfg


def test_bench_config_problems_in_one_round_before_the_data_step(tmp_path):
    cfg = _bench(tmp_path, """
name: t
llm: "nosuch:model"
budget_prompts: 0
prompts: {path: prompts.jsonl}
methods:
  - {name: rlcd, options: {max_tokens: -3}}
  - {name: rmbost}
rm: {recipe: embed-head, options: {epochs: -2, colour: red}}
eval: [{name: e, path: eval.jsonl}]
""")
    before = tree(tmp_path)
    result = cli("bench", cfg, "--out", tmp_path / "run")
    assert result.code == 2, result.output
    line = result.output.strip().splitlines()[-1]
    for expected in ("budget_prompts", "methods.0.options: max_tokens must be at least 1, got -3",
                     "methods.1.name: unknown method 'rmbost'", "rm.options (embed-head recipe)", "colour",
                     "llm: unknown LLM backend kind 'nosuch'"):
        assert expected in line, expected
    assert tree(tmp_path) == before


def test_bench_rm_option_range_checked_from_the_recipe_config(tmp_path):
    cfg = _bench(tmp_path, """
llm: fake
prompts: {path: prompts.jsonl}
methods: [{name: rlcd}]
rm: {recipe: finetune, options: {epochs: -2}}
eval: [{name: e, path: eval.jsonl}]
""")
    result = cli("bench", cfg, "--out", tmp_path / "run")
    assert result.code == 2 and "rm.options (finetune recipe)" in result.output and "epochs must be > 0" in result.output
    assert not (tmp_path / "run").exists()


def test_bench_bad_gguf_spec_caught_before_the_data_step(tmp_path):
    fake_gguf = tmp_path / "model.gguf"
    fake_gguf.write_text("this is not a model")
    cfg = _bench(tmp_path, f"""
llm: "llamacpp:{fake_gguf}"
prompts: {{path: prompts.jsonl}}
methods: [{{name: rlcd}}]
eval: [{{name: e, path: eval.jsonl}}]
""")
    result = cli("bench", cfg, "--out", tmp_path / "run")
    assert result.code == 2 and "is not a GGUF model file" in result.output
    assert not (tmp_path / "run").exists()
