"""Issue 24 §3: every YAML file preflab reads (a --config file, a bench file, a price table)
gives one line on a syntax error, naming file, line and column, and refuses a key given twice
instead of silently keeping the last."""

from __future__ import annotations

import json

import pytest

from safety_helpers import cli, tree, write_pairs_file

BROKEN = "name: demo\nmethods: [{name: rlcd}\neval: []\n"   # the flow sequence is never closed
TWICE = "name: a\nname: b\n"


def _argv(kind, tmp_path, path):
    pairs = write_pairs_file(tmp_path / "data" / "pairs.jsonl")
    prompts = tmp_path / "data" / "prompts.txt"
    prompts.write_text("Why?\nHow?\n")
    return {
        "config": ["train-rm", pairs, "--cheap", "--config", path, "--output-dir", tmp_path / "rm"],
        "bench": ["bench", path, "--out", tmp_path / "run"],
        "price table": ["generate", "rlcd", "--prompts", prompts, "--llm", "fake", "--no-cache", "--max-cost", "1",
                        "--price-table", path, "--out", tmp_path / "pairs.jsonl"],
    }[kind]


@pytest.mark.parametrize("kind", ["config", "bench", "price table"])
def test_a_yaml_syntax_error_is_one_line_with_file_line_and_column(tmp_path, monkeypatch, kind):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "file.yaml"
    path.write_text(BROKEN)
    argv = _argv(kind, tmp_path, path)
    before = tree(tmp_path)
    result = cli(*argv)
    assert result.code == 2, (result.output, result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    named = "--price-table: " if kind == "price table" else ""  # the option that read the file
    assert lines[0].startswith(f"error: {named}{path}:3:1: not valid YAML: expected ',' or ']'"), lines[0]
    assert "line 2, column 10" in lines[0]  # where the unclosed sequence starts
    assert tree(tmp_path) == before


@pytest.mark.parametrize("kind", ["config", "bench", "price table"])
def test_a_key_given_twice_is_refused(tmp_path, monkeypatch, kind):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "file.yaml"
    text = {"config": "epochs: 5\nepochs: 50\n", "bench": TWICE + "llm: fake\n",
            "price table": "'*': {input: 1.0, output: 2.0, input: 0.0}\n"}[kind]
    path.write_text(text)
    argv = _argv(kind, tmp_path, path)
    before = tree(tmp_path)
    result = cli(*argv)
    assert result.code == 2, (result.output, result.exception)
    line = result.output.strip().splitlines()[-1]
    key = {"config": "epochs", "bench": "name", "price table": "input"}[kind]
    assert f"key {key!r} is given twice" in line and f"{path}:" in line, line
    assert tree(tmp_path) == before


def test_a_dashed_and_an_underscored_spelling_of_one_option_is_a_key_given_twice(tmp_path):
    from preflab.config import load_yaml
    from preflab.errors import ConfigError

    path = tmp_path / "c.yaml"
    path.write_text("max-length: 64\nmax_length: 128\n")
    with pytest.raises(ConfigError, match="'max_length' is given twice"):
        load_yaml(path)


def test_merge_keys_may_be_overridden_on_purpose(tmp_path):
    from preflab.config import read_yaml

    path = tmp_path / "c.yaml"
    path.write_text("base: &b {lr: 0.1, epochs: 3}\nrun:\n  <<: *b\n  lr: 0.2\n")
    assert read_yaml(path)["run"] == {"lr": 0.2, "epochs": 3}


def test_json_price_tables_still_read(tmp_path):
    from preflab.llm import PriceTable

    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"gpt-*": {"input": 0.15, "output": 0.6}}))
    assert PriceTable.load(path).price("gpt-4o") == (0.15, 0.6)
