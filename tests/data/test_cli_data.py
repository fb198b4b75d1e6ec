"""``preflab data`` end to end in a real subprocess: output, files and exit codes."""

import json
import subprocess
import sys

import pytest

from preflab.io import read_pairs, read_prompts


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "preflab", *map(str, args)], capture_output=True, text=True, cwd=cwd)


@pytest.fixture()
def pairs_file(tmp_path):
    path = tmp_path / "pairs.jsonl"
    rows = [{"prompt": f"question {i % 7}", "chosen": f"good answer {i}", "rejected": f"bad {i}", "category": "c" + str(i % 2)}
            for i in range(40)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_help_everywhere():
    for args in ([], ["data"], ["data", "inspect"], ["data", "validate"], ["data", "convert"], ["data", "split"]):
        result = run(*args, "--help")
        assert result.returncode == 0, result.stderr
        assert "Usage" in result.stdout


def test_inspect_table(pairs_file):
    result = run("data", "inspect", pairs_file)
    assert result.returncode == 0, result.stderr
    assert "distinct prompts" in result.stdout and "40" in result.stdout and "c0" in result.stdout


def test_validate_exit_codes(pairs_file, tmp_path):
    assert run("data", "validate", pairs_file).returncode == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text(pairs_file.read_text() + '{"prompt": "q", "chosen": "a"}\n')
    strict = run("data", "validate", bad)
    assert strict.returncode == 1
    assert f"{bad}:41: field rejected: missing required field" in strict.stderr
    assert "Traceback" not in strict.stderr
    lenient = run("data", "validate", bad, "--lenient", "--rejects", tmp_path / "rej.jsonl")
    assert lenient.returncode == 1
    assert json.loads((tmp_path / "rej.jsonl").read_text())["line"] == 41
    assert run("data", "validate", pairs_file, "--no-such-flag").returncode == 2
    assert run("data", "validate", pairs_file, "--format", "nope").returncode == 2


def test_convert_to_trl_parquet_and_back(pairs_file, tmp_path):
    out = tmp_path / "out.parquet"
    result = run("data", "convert", pairs_file, out, "--to", "trl")
    assert result.returncode == 0, result.stderr
    assert [(p.chosen, p.rejected) for p in read_pairs(out)] == [(p.chosen, p.rejected) for p in read_pairs(pairs_file)]
    assert run("data", "convert", pairs_file, tmp_path / "out.csv").returncode == 2


def test_split_modes(pairs_file, tmp_path):
    result = run("data", "split", pairs_file, "-o", tmp_path / "s", "--seed", "3", "--test-fraction", "0.4")
    assert result.returncode == 0, result.stderr
    train, test = list(read_pairs(tmp_path / "s/train.jsonl")), list(read_pairs(tmp_path / "s/test.jsonl"))
    assert len(train) + len(test) == 40
    assert not {p.prompt[0].content for p in train} & {p.prompt[0].content for p in test}
    again = run("data", "split", pairs_file, "-o", tmp_path / "s2", "--seed", "3", "--test-fraction", "0.4")
    assert again.returncode == 0
    assert (tmp_path / "s/test.jsonl").read_bytes() == (tmp_path / "s2/test.jsonl").read_bytes()
    result = run("data", "split", pairs_file, "-o", tmp_path / "w", "--mode", "base-prompts", "--ext", "parquet")
    assert result.returncode == 0, result.stderr
    base = list(read_pairs(tmp_path / "w/base.parquet"))
    prompts = list(read_prompts(tmp_path / "w/prompts.parquet"))
    assert len(prompts) == 7 - len({p.prompt[0].content for p in base})


def test_shipped_examples_validate():
    from importlib.resources import files
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    assert run("data", "validate", repo / "examples" / "pairs_small.jsonl").returncode == 0
    prompts = list(read_prompts(str(files("preflab") / "data" / "example_prompts.txt")))
    assert len(prompts) == 20 and len({p.id for p in prompts}) == 20


def test_inspect_counts_equal_lengths_apart_and_in_words(tmp_path):
    path = tmp_path / "ties.jsonl"
    rows = [("one two three", "four"), ("one two", "three four"), ("one", "two three"), ("a b", "c")]
    path.write_text("".join(json.dumps({"prompt": f"q{i}", "chosen": c, "rejected": r}) + "\n" for i, (c, r) in enumerate(rows)))
    result = run("data", "inspect", path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # 2 of the 3 pairs of unequal length have the longer chosen; the tie is counted apart, not as "not longer"
    assert any("chosen longer than rejected" in line and "66.7%" in line for line in lines)
    assert any("equally long" in line and "1" in line for line in lines)
    assert "Lengths (words)" in result.stdout
