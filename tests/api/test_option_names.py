"""A problem with an option names it the way its caller knows it: the keyword from Python,
the flag from the shell. The library reports field names; the CLI's adapter renders flags."""

import pytest
from typer.testing import CliRunner

import preflab
from preflab.errors import ConfigError


def test_generate_names_keywords_in_python(tmp_path):
    with pytest.raises(ConfigError) as info:
        preflab.generate("rlcd", ["Why?"], llm="fake", cache=False, limit=0, progress=False)
    assert str(info.value) == "limit must be at least 1, got 0"
    with pytest.raises(ConfigError) as info:
        preflab.generate("west-of-n", ["Why?"], llm="fake", cache=False, n=1, in_flight=0, max_cost=-1.0,
                         out=tmp_path / "o.jsonl")
    message = str(info.value)
    assert "in_flight must be at least 1, got 0" in message and "n must be at least 2, got 1" in message
    assert "max_cost must be > 0" in message and "--" not in message
    assert not (tmp_path / "o.jsonl").exists()


def test_generate_names_flags_in_the_shell(tmp_path):
    from preflab.cli.main import app

    result = CliRunner().invoke(app, ["generate", "west-of-n", "--llm", "fake", "--n", "1", "--in-flight", "0",
                                      "--limit", "0", "--out", str(tmp_path / "o.jsonl")])
    from preflab.cli.adapter import render

    assert isinstance(result.exception, ConfigError) and result.exception.exit_code == 2
    message = render(result.exception)
    assert "--in-flight must be at least 1, got 0" in message and "--n must be at least 2, got 1" in message
    assert "--limit must be at least 1, got 0" in message
    assert not (tmp_path / "o.jsonl").exists()


def test_a_problem_about_two_options_names_both():
    with pytest.raises(ConfigError) as info:
        preflab.clean([], flip_fraction=0.1, flip_below=0.0)
    assert "give flip_fraction or flip_below, not both" in str(info.value)
