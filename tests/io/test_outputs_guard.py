"""Issue 12 §1: no command destroys an input or a folder preflab did not write.

One table lists EVERY command that writes files with how to point its output at (a) the
input itself, (b) a folder holding the input, (c) an existing folder that is not preflab's.
Each is refused with exit code 2 and one line, before any work: the whole tmp tree is
byte-identical afterwards (no partial file, no marker, no temp folder).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safety_helpers import cli, tree, write_pairs_file


def _setup(tmp: Path) -> dict[str, Path]:
    data = tmp / "mydata"
    pairs = write_pairs_file(data / "pairs.jsonl")
    prompts = data / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": f"Why {i}?"}) + "\n" for i in range(3)))
    (data / "notes.txt").write_text("my notes")
    model = tmp / "model"
    model.mkdir()
    (model / "preflab_embed_head.json").write_text("{}")
    bench = data / "bench.yaml"
    bench.write_text("name: t\nllm: fake\nprompts: {path: prompts.jsonl}\nmethods: [{name: rlcd}]\n"
                     "eval: [{name: e, path: pairs.jsonl}]\n")
    foreign = tmp / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("years of work")
    return {"pairs": pairs, "prompts": prompts, "data": data, "model": model, "bench": bench, "foreign": foreign}


# command → (argv builder given the paths and the output, the case the output names)
COMMANDS = {
    "train-rm": lambda p, out: ["train-rm", p["pairs"], "--cheap", "--output-dir", out],
    "data convert": lambda p, out: ["data", "convert", p["pairs"], out],
    "data validate --rejects": lambda p, out: ["data", "validate", p["pairs"], "--lenient", "--rejects", out],
    "data inspect --rejects": lambda p, out: ["data", "inspect", p["pairs"], "--lenient", "--rejects", out],
    "data split": lambda p, out: ["data", "split", p["pairs"], "--out-dir", out],
    "generate": lambda p, out: ["generate", "rlcd", "--prompts", p["prompts"], "--out", out, "--llm", "fake"],
    "judge": lambda p, out: ["judge", p["pairs"], "--out", out, "--llm", "fake"],
    "score": lambda p, out: ["score", p["model"], p["pairs"], "--output", out],
    "eval": lambda p, out: ["eval", p["model"], p["pairs"], "--output-dir", out],
    "strength": lambda p, out: ["strength", p["pairs"], out],
    "clean": lambda p, out: ["clean", p["pairs"], out],
    "augment": lambda p, out: ["augment", p["pairs"], out],
    "meta-set": lambda p, out: ["meta-set", "--prompts", p["prompts"], "--out", out, "--llm", "fake"],
    "bench": lambda p, out: ["bench", p["bench"], "--out", out],
    "report": lambda p, out: ["report", p["pairs"], "--out", out],
    "quickstart": lambda p, out: ["quickstart", "--prompts", p["prompts"], "--llm", "fake", "--out", out],
    "west-of-n-rounds": lambda p, out: ["west-of-n-rounds", "--base", p["pairs"], "--prompts", p["prompts"],
                                        "--out", out, "--llm", "fake"],
}
#: commands whose output can only be a file (no folder to hold an input, nothing to overwrite)
FILE_ONLY = {"data validate --rejects", "data inspect --rejects", "judge", "meta-set", "report"}
#: the input each command's "same path" case writes over
SAME = {"generate": "prompts", "meta-set": "prompts", "quickstart": "prompts", "bench": "bench"}

CASES = [(name, case) for name in COMMANDS for case in ("same", "holds", "foreign")
         if not (case != "same" and name in FILE_ONLY)]


@pytest.mark.parametrize(("command", "case"), CASES, ids=[f"{c}:{k}" for c, k in CASES])
def test_every_writing_command_refuses_to_destroy(tmp_path, monkeypatch, command, case):
    monkeypatch.chdir(tmp_path)
    paths = _setup(tmp_path)
    out = {"same": paths[SAME.get(command, "pairs")], "holds": paths["data"], "foreign": paths["foreign"]}[case]
    before = tree(tmp_path)
    result = cli(*COMMANDS[command](paths, out))
    assert result.code == 2, (result.output, result.exception)
    message = result.output.strip().splitlines()[-1]
    assert message.startswith("error: ") and "Traceback" not in result.output
    expected = {"same": "is also an input", "holds": "holds the input", "foreign": "not written by preflab"}[case]
    assert expected in message
    assert tree(tmp_path) == before, "nothing may be written before the checks pass"


def test_overwrite_lets_a_foreign_folder_be_written_and_keeps_its_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = _setup(tmp_path)
    result = cli("data", "convert", paths["pairs"], paths["foreign"], "--overwrite")
    assert result.code == 0, result.output
    assert (paths["foreign"] / "thesis.tex").read_text() == "years of work"
    assert (paths["foreign"] / "dataset_info.json").exists()


def test_rewriting_preflabs_own_folder_replaces_only_what_preflab_wrote(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = _setup(tmp_path)
    out = tmp_path / "arrow"
    assert cli("data", "convert", paths["pairs"], out).code == 0
    assert json.loads((out / ".preflab-output.json").read_text())["written_by"] == "preflab"
    (out / "README.md").write_text("what this data is")
    fewer = write_pairs_file(tmp_path / "fewer.jsonl", n=3)
    result = cli("data", "convert", fewer, out)  # no --overwrite needed: it is preflab's own folder
    assert result.code == 0, result.output
    from preflab.io import read_pairs

    assert len(list(read_pairs(out))) == 3
    assert (out / "README.md").read_text() == "what this data is"


def test_folder_filled_over_time_is_claimed_and_reused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = _setup(tmp_path)
    out = tmp_path / "split"
    assert cli("data", "split", paths["pairs"], "--out-dir", out).code == 0
    assert (out / ".preflab-output.json").exists() and (out / "train.jsonl").exists()
    assert cli("data", "split", paths["pairs"], "--out-dir", out, "--seed", "1").code == 0


def test_output_dir_dot_is_one_line(tmp_path, monkeypatch):
    paths = _setup(tmp_path)
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "draft.txt").write_text("unsaved thoughts")
    monkeypatch.chdir(tmp_path / "work")
    before = tree(tmp_path)
    result = cli("train-rm", paths["pairs"], "--cheap", "--output-dir", ".")
    assert result.code == 2 and "is the current folder or holds it" in result.output
    result = cli("train-rm", paths["pairs"], "--cheap", "--output-dir", ".", "--overwrite")
    assert result.code == 2 and "is the current folder or holds it" in result.output
    assert tree(tmp_path) == before


def test_report_on_a_folder_without_results_writes_nothing(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    result = cli("report", run)
    assert result.code == 1 and "no results.json" in result.output
    assert list(run.iterdir()) == []
