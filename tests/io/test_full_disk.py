"""Issue 24 §2: a full disk (ENOSPC, a 200 KB tmpfs) or a read-only folder (EROFS, a read-only
bind mount) while `data convert`, `generate` or `train-rm` writes is one line naming the path and
what happened (exit 1), never a traceback, and no half file is left. Needs root (mount); skipped
elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from safety_helpers import cli, write_pairs_file


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


def _unmount(folder: Path) -> None:
    if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(folder)], check=True)  # busy: detach now, free when released


@pytest.fixture
def full(tmp_path):
    folder = tmp_path / "full"
    folder.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=200k", "tmpfs", str(folder)):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield folder
    finally:
        _unmount(folder)


@pytest.fixture
def readonly(tmp_path):
    source, folder = tmp_path / "ro-source", tmp_path / "ro"
    source.mkdir()
    folder.mkdir()
    if not _mount("--bind", str(source), str(folder)):
        pytest.skip("cannot bind-mount here (needs root)")
    try:
        if not _mount("-o", "remount,bind,ro", str(folder)):
            pytest.skip("cannot remount read-only here")
        yield folder
    finally:
        _unmount(folder)


@pytest.fixture
def big_pairs(tmp_path):
    path = tmp_path / "pairs.jsonl"
    rows = [{"prompt": f"question {i} " + os.urandom(150).hex(), "chosen": f"a careful answer {i} " + os.urandom(150).hex(),
             "rejected": f"no {i}"} for i in range(1000)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _one_line(result, path: Path, what: str) -> str:
    assert result.code == 1, (result.output, result.exception)
    lines = [line for line in result.output.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert lines[0].startswith(f"error: {path}: cannot write it: {what}"), lines[0]
    return lines[0]


@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz", "out-folder"])
def test_data_convert_on_a_full_disk(full, big_pairs, name):
    target = full / name
    _one_line(cli("data", "convert", big_pairs, target), target, "no space left on device")
    assert list(full.iterdir()) == []


def test_data_convert_into_a_read_only_folder(readonly, big_pairs):
    for target in (readonly / "out.jsonl", readonly / "sub" / "out.jsonl"):
        _one_line(cli("data", "convert", big_pairs, target), target, "read-only file system")
    assert list(readonly.iterdir()) == []


def test_generate_on_a_full_disk_keeps_the_finished_prompts_and_says_so(full, tmp_path, monkeypatch):
    monkeypatch.setenv("PREFLAB_CACHE", str(tmp_path / "cache"))
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("".join(f"Question number {i}: " + "why " * 100 + "?\n" for i in range(300)))
    out = full / "pairs.jsonl"
    result = cli("generate", "rlcd", "--prompts", prompts, "--llm", "fake", "--no-cache", "--out", out)
    line = _one_line(result, Path(f"{out}.partial.jsonl"), "no space left on device")
    assert "kept" in line and "run the same command again" in line
    assert not out.exists() and [p.name for p in full.iterdir()] == ["pairs.jsonl.partial.jsonl"]


def test_generate_into_a_read_only_folder(readonly, tmp_path, monkeypatch):
    monkeypatch.setenv("PREFLAB_CACHE", str(tmp_path / "cache"))
    out = readonly / "pairs.jsonl"
    result = cli("generate", "rlcd", "--llm", "fake", "--no-cache", "--out", out)
    _one_line(result, Path(f"{out}.partial.jsonl"), "read-only file system")
    assert list(readonly.iterdir()) == []


def test_train_rm_cheap_on_a_full_disk_and_into_a_read_only_folder(full, readonly, tmp_path):
    pairs = write_pairs_file(tmp_path / "small.jsonl")
    for folder, what in ((full, "no space left on device"), (readonly, "read-only file system")):
        target = folder / "rm"
        _one_line(cli("train-rm", pairs, "--cheap", "--epochs", "2", "--output-dir", target), target, what)
        assert list(folder.iterdir()) == []
