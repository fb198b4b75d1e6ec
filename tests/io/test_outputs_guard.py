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


# ---- issue 24 §1: every path an option reads is an input; only preflab's own marker or run.json makes a folder its own

def _command_objects():
    from typer.main import get_command

    from preflab.cli.main import app

    def walk(command, path=()):
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from walk(sub, (*path, name))
        else:
            yield " ".join(path), command

    return dict(walk(get_command(app)))


#: the table's names of the commands as the shell spells them
_SHELL_NAME = {"generate": "generate rlcd", "data validate --rejects": "data validate",
               "data inspect --rejects": "data inspect"}


def _reading_options():
    """(command, field, flag, spec) for every option of every command in COMMANDS that reads a
    path (declared with option(..., reads=...)), found from the declarations themselves."""
    import dataclasses

    from preflab.cli.adapter import declarations

    found = []
    objects = _command_objects()
    for name in COMMANDS:
        callback = objects[_SHELL_NAME.get(name, name)].callback
        for cls in callback.options:
            for f in dataclasses.fields(cls):
                reads = f.metadata.get("reads")
                if reads and f.name not in callback.skip:
                    found.append((name, f.name, declarations(f)[0].split("/")[0], callable(reads)))
    return found


READING = _reading_options()


def test_the_reading_options_include_every_path_option_the_issue_names():
    named = {(c, f) for c, f, _, _ in READING}
    assert {("train-rm", "model"), ("train-rm", "val"), ("train-rm", "meta_set"), ("train-rm", "config"),
            ("generate", "scorer"), ("generate", "prompts"), ("generate", "config"), ("generate", "price_table"),
            ("strength", "model"), ("west-of-n-rounds", "eval_pairs"), ("west-of-n-rounds", "base"),
            ("west-of-n-rounds", "model"), ("quickstart", "eval_path"), ("clean", "config"), ("augment", "config"),
            } <= named


@pytest.mark.parametrize(("command", "field", "flag", "spec"), READING, ids=[f"{c}:{f}" for c, f, _, _ in READING])
def test_every_option_that_reads_a_path_is_an_input_of_the_guard(tmp_path, monkeypatch, command, field, flag, spec):
    """The option names a file in other/ (or the file itself, for commands that write one file);
    the output is that folder (or that file): refused, nothing written."""
    monkeypatch.chdir(tmp_path)
    paths = _setup(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    if field == "config":
        target = other / "options.yaml"
        target.write_text("{}\n")
    elif spec:
        target = other / "model.gguf"
        target.write_bytes(b"GGUF" + bytes(60))
    elif field == "price_table":  # a valid table: an invalid one is refused first, as an option problem
        target = other / "prices.yaml"
        target.write_text("'*': {input: 1.0, output: 2.0}\n")
    else:
        target = other / "thing.jsonl"
        target.write_text(json.dumps({"prompt": "q", "chosen": "a", "rejected": "b"}) + "\n")
    value = f"llamacpp:{target}" if spec else str(target)
    out = target if command in FILE_ONLY else other
    argv = COMMANDS[command](paths, out)
    if command == "train-rm" and field not in ("model", "config", "val"):
        argv.remove("--cheap")  # a fine-tuning option: the cheap recipe would refuse it first
    before = tree(tmp_path)
    result = cli(*argv, flag, value)
    assert result.code == 2, (result.output, result.exception)
    message = result.output.strip().splitlines()[-1]
    expected = "is also an input" if command in FILE_ONLY else "holds the input"
    assert expected in message and str(target.name) in message, message
    assert tree(tmp_path) == before


def _trained_rm(tmp_path, name="ft1"):
    pairs = write_pairs_file(tmp_path / "small.jsonl")
    model = tmp_path / "models" / name
    assert cli("train-rm", pairs, "--cheap", "--epochs", "3", "--output-dir", model).code == 0
    return pairs, model


def test_train_rm_refuses_to_write_over_its_own_backbone(tmp_path, monkeypatch):
    """`train-rm --model ft1 --output-dir ft1` used to replace the input model's weights, exit 0."""
    monkeypatch.chdir(tmp_path)
    pairs, model = _trained_rm(tmp_path)
    before = tree(tmp_path)
    for extra in (["--max-steps", "2"], ["--max-steps", "2", "--overwrite"], ["--cheap"], ["--cheap", "--overwrite"]):
        result = cli("train-rm", pairs, "--model", model, "--output-dir", model, *extra)
        assert result.code == 2, (result.output, result.exception)
        assert "ft1 is also an input" in result.output.strip().splitlines()[-1]
    result = cli("train-rm", pairs, "--model", model, "--output-dir", tmp_path / "models", "--overwrite")
    assert result.code == 2 and "holds the input" in result.output  # nor the folder holding it
    assert tree(tmp_path) == before


def test_a_foreign_hf_model_folder_is_never_overwritten_even_with_overwrite(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pairs = write_pairs_file(tmp_path / "small.jsonl")
    hf = tmp_path / "my-model"
    hf.mkdir()
    (hf / "config.json").write_text('{"model_type": "bert"}')
    (hf / "model.safetensors").write_bytes(b"my own weights")
    before = tree(tmp_path)
    result = cli("train-rm", pairs, "--model", hf, "--output-dir", hf, "--overwrite", "--max-steps", "2")
    assert result.code == 2 and "is also an input" in result.output
    assert tree(tmp_path) == before


def test_score_and_eval_refuse_to_write_into_the_model_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pairs, model = _trained_rm(tmp_path)
    before = tree(tmp_path)
    for argv in (["eval", model, pairs, "--output-dir", model], ["score", model, pairs, "--output", model]):
        result = cli(*argv)
        assert result.code == 2 and "ft1 is also an input" in result.output, result.output
    assert tree(tmp_path) == before


def test_a_bench_never_writes_into_the_folder_of_its_backbone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = _setup(tmp_path)
    backbone = tmp_path / "models" / "enc"
    backbone.mkdir(parents=True)
    (backbone / "config.json").write_text("{}")
    bench = paths["data"] / "b2.yaml"
    bench.write_text(paths["bench"].read_text() + f"rm: {{recipe: embed-head, options: {{model: {backbone}}}}}\n")
    before = tree(tmp_path)
    result = cli("bench", bench, "--out", tmp_path / "models")
    assert result.code == 2 and "holds the input" in result.output and "enc" in result.output, result.output
    assert tree(tmp_path) == before


def _foreign_run_folder(tmp_path):
    otr = tmp_path / "otr"
    (otr / "sub").mkdir(parents=True)
    (otr / "run.json").write_text(json.dumps({"tool": "someone-else", "run": 7}))
    (otr / "notes.txt").write_text("my notes")
    (otr / "sub" / "data.csv").write_text("1,2")
    return otr


def test_a_run_json_of_another_tool_does_not_make_a_folder_preflabs(tmp_path, monkeypatch):
    """Used to delete run.json, notes.txt and the subfolder without --overwrite."""
    monkeypatch.chdir(tmp_path)
    paths = _setup(tmp_path)
    otr = _foreign_run_folder(tmp_path)
    before = tree(tmp_path)
    for argv in (["train-rm", paths["pairs"], "--cheap", "--output-dir", otr], ["data", "convert", paths["pairs"], otr]):
        result = cli(*argv)
        assert result.code == 2 and "not written by preflab" in result.output, result.output
    assert tree(tmp_path) == before


def test_with_overwrite_a_foreign_run_folder_keeps_every_file_preflab_does_not_write(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = _setup(tmp_path)
    otr = _foreign_run_folder(tmp_path)
    assert cli("train-rm", paths["pairs"], "--cheap", "--epochs", "3", "--output-dir", otr, "--overwrite").code == 0
    assert (otr / "notes.txt").read_text() == "my notes" and (otr / "sub" / "data.csv").read_text() == "1,2"
    assert (otr / "head.pt").exists()
    # now preflab's (its marker lists what it wrote): a rerun replaces only those entries
    assert cli("train-rm", paths["pairs"], "--cheap", "--epochs", "3", "--output-dir", otr).code == 0
    assert (otr / "notes.txt").read_text() == "my notes" and (otr / "sub" / "data.csv").exists()


def test_an_older_preflab_folder_is_recognised_by_its_run_record_and_keeps_other_files(tmp_path, monkeypatch):
    from preflab.provenance import run_record, write_run_json

    monkeypatch.chdir(tmp_path)
    paths = _setup(tmp_path)
    old = tmp_path / "old"
    old.mkdir()
    write_run_json(old / "run.json", run_record("convert", {}))
    (old / "README.md").write_text("what this is")
    assert cli("data", "convert", paths["pairs"], old).code == 0  # no --overwrite needed: preflab wrote it
    assert (old / "README.md").read_text() == "what this is" and (old / "dataset_info.json").exists()


def test_a_forged_marker_is_no_proof_either(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = _setup(tmp_path)
    folder = tmp_path / "forged"
    folder.mkdir()
    (folder / ".preflab-output.json").write_text("not json")
    (folder / "thesis.tex").write_text("years of work")
    before = tree(tmp_path)
    result = cli("data", "convert", paths["pairs"], folder)
    assert result.code == 2 and "not written by preflab" in result.output
    assert tree(tmp_path) == before


@pytest.mark.parametrize("command", ["eval", "data split"])
def test_a_missing_input_writes_no_output_folder(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    paths = _setup(tmp_path)
    out = tmp_path / "out"
    argv = {"eval": ["eval", paths["model"], tmp_path / "missing.jsonl", "--output-dir", out],
            "data split": ["data", "split", tmp_path / "missing.jsonl", "--out-dir", out]}[command]
    result = cli(*argv)
    assert result.code == 1 and "missing.jsonl: file not found" in result.output, result.output
    assert not out.exists()
