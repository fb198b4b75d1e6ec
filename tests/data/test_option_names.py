"""A problem with an option names it the way the caller wrote it: the keyword from Python, the
flag from the shell (``data split``, ``judge``, ``meta-set``, ``llm check``)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import preflab
from preflab import io
from preflab.cli.adapter import render
from preflab.errors import ConfigError
from preflab.records import PreferencePair, text_prompt

PAIRS = [PreferencePair(prompt=text_prompt(f"Question {i}?"), chosen=f"A long answer {i}.", rejected="No.")
         for i in range(4)]


def _cli_error(*args) -> str:
    from preflab.cli.main import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    assert isinstance(result.exception, ConfigError), (result.output, result.exception)
    assert result.exception.exit_code == 2
    return render(result.exception)


def test_split_names_test_fraction_and_mode(tmp_path):
    with pytest.raises(ConfigError, match=r"^test_fraction must lie strictly between 0 and 1, got 1.0$"):
        preflab.split_pairs(PAIRS, test_fraction=1.0)
    with pytest.raises(ConfigError, match=r"^mode must be one of train-test, base-prompts, got 'halves'"):
        preflab.split_pairs(PAIRS, mode="halves")
    pairs = tmp_path / "pairs.jsonl"
    io.write_pairs(PAIRS, pairs)
    split = ("data", "split", pairs, "-o", tmp_path / "s")
    assert _cli_error(*split, "--test-fraction", "1") == "--test-fraction must lie strictly between 0 and 1, got 1.0"
    assert _cli_error(*split, "--mode", "halves").startswith("--mode must be one of train-test, base-prompts, got 'halves'")
    assert not (tmp_path / "s").exists()


def test_judge_and_meta_set_name_ranges(tmp_path):
    with pytest.raises(ConfigError, match=r"^max_tokens must be at least 1, got 0; in_flight must be at least 1"):
        preflab.judge(PAIRS, llm="fake", max_tokens=0, in_flight=0)
    pairs = tmp_path / "pairs.jsonl"
    io.write_pairs(PAIRS, pairs)
    shell = _cli_error("judge", pairs, "--out", tmp_path / "v.jsonl", "--llm", "fake", "--max-tokens", "0",
                       "--in-flight", "0")
    assert shell.startswith("--max-tokens must be at least 1, got 0; --in-flight must be at least 1, got 0")
    with pytest.raises(ConfigError, match=r"^k must be at least 2, got 1$"):
        preflab.meta_set(["Why?"], llm="fake", k=1)
    assert _cli_error("meta-set", "--prompts", pairs, "--out", tmp_path / "m.jsonl", "--llm", "fake",
                      "--k", "1") == "--k must be at least 2, got 1"
    assert not (tmp_path / "v.jsonl").exists() and not (tmp_path / "m.jsonl").exists()


def test_llm_check_names_the_llm_option():
    with pytest.raises(ConfigError) as python:
        preflab.check_llm(llm="fake#nope=1")
    assert str(python.value).startswith("llm: ")
    assert _cli_error("llm", "check", "--llm", "fake#nope=1").startswith("--llm: ")
