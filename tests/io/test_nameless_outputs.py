"""An output named "", ".", ".." or "/" names no file: one line before any work (``generate
--out ""`` once gave pathlib's ValueError traceback: "PosixPath('.') has an empty name")."""

from __future__ import annotations

import pytest
from safety_helpers import cli, write_pairs_file


@pytest.mark.parametrize("out", ["", ".", "..", "/"])
def test_generate_out_without_a_file_name(tmp_path, monkeypatch, out):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.txt").write_text("Why?\n")
    result = cli("generate", "rlaif", "--prompts", "p.txt", "--out", out, "--llm", "fake", "--no-cache")
    assert result.code == 2 and result.exception is None, result.output
    shown = "." if out == "" else out
    assert result.output.strip().splitlines()[-1] == (
        f"error: the output {shown!r} has no file name (it names a folder such as . or /); give it one, e.g. out.jsonl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.txt"]


@pytest.mark.parametrize("command", [["judge", "pairs.jsonl", "--llm", "fake", "--out"],
                                     ["meta-set", "--prompts", "p.txt", "--llm", "fake", "--out"]])
def test_other_file_outputs_without_a_file_name(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    write_pairs_file(tmp_path / "pairs.jsonl")
    (tmp_path / "p.txt").write_text("Why?\n")
    result = cli(*command, ".")
    assert result.code == 2 and result.exception is None, result.output
    assert "error: the output '.' has no file name" in result.output


def test_python_out_without_a_file_name():
    import preflab
    from preflab.errors import ConfigError

    with pytest.raises(ConfigError, match="the output '/' has no file name"):
        preflab.generate("rlaif", ["Why?"], llm="fake", cache=False, out="/", progress=False)
