"""A full disk, a read-only file system or a file size limit while ``data convert``,
``generate`` or ``train-rm`` writes: one line naming the output and what happened (these gave
full tracebacks, OSError or torch's RuntimeError), exit 1, and no half file or temporary
sibling left behind. The mounts need root (skipped otherwise); the size limit runs anywhere."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

PAIRS = [{"prompt": f"question {i} " + "x" * 200, "chosen": "a careful answer " * 20, "rejected": "no"}
         for i in range(2000)]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    (root / "big.jsonl").write_text("".join(json.dumps(r) + "\n" for r in PAIRS))  # ~1.2 MB
    (root / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in PAIRS[:16]))
    (root / "p.txt").write_text("".join(f"Question number {i}: why is the sky blue, at length?\n" for i in range(400)))
    return root


def _commands(inputs: Path, folder: Path) -> dict[str, list[str]]:
    return {
        "convert": ["data", "convert", str(inputs / "big.jsonl"), str(folder / "out.jsonl")],
        "generate": ["generate", "rlcd", "--prompts", str(inputs / "p.txt"), "--out", str(folder / "g.jsonl"),
                     "--llm", "fake#seeded=true", "--no-cache"],
        "train-rm": ["train-rm", str(inputs / "train.jsonl"), "--cheap", "--epochs", "1", "--output-dir",
                     str(folder / "rm")],
    }


def _run(args, **kwargs):
    return subprocess.run([sys.executable, "-m", "preflab", *args], capture_output=True, text=True, **kwargs)


def _one_line(result, expected_start: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(expected_start), last


def _no_temporaries(folder: Path) -> None:
    assert not [p.name for p in folder.rglob("*.tmp")], list(folder.rglob("*"))


def _mount(*args) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def mounts(tmp_path):
    """A 200 KB tmpfs and a read-only bind mount under ``tmp_path`` (root only)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    full, ro = tmp_path / "full", tmp_path / "ro"
    full.mkdir()
    ro.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=200k", "tmpfs", str(full)):
        pytest.skip("this machine does not allow mounting a tmpfs")
    mounted = [full]
    try:
        if _mount("--bind", str(ro), str(ro)):
            mounted.append(ro)
            if not _mount("-o", "remount,bind,ro", str(ro)):
                pytest.skip("this machine does not allow a read-only bind mount")
        else:
            pytest.skip("this machine does not allow a bind mount")
        yield full, ro
    finally:
        for path in reversed(mounted):
            subprocess.run(["umount", str(path)], capture_output=True)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["convert", "generate", "train-rm"])
def test_a_full_disk_and_a_read_only_folder_are_one_line(inputs, mounts, command):
    full, ro = mounts
    result = _run(_commands(inputs, full)[command])
    target = {"convert": full / "out.jsonl", "generate": full / "g.jsonl.partial.jsonl", "train-rm": full / "rm"}[command]
    _one_line(result, f"error: cannot write {target}: no space left on the device")
    assert "free some space" in result.stderr
    _no_temporaries(full)
    if command == "convert":
        assert not (full / "out.jsonl").exists()  # no half file
    if command == "generate":  # the finished prompts stay for the rerun; nothing looks finished
        assert "the prompts finished before are kept in it" in result.stderr and not (full / "g.jsonl").exists()
    if command == "train-rm":
        assert not (full / "rm").exists()
    result = _run(_commands(inputs, ro)[command])
    target = {"convert": ro / "out.jsonl", "generate": ro / "g.jsonl.partial.jsonl", "train-rm": ro / "rm"}[command]
    _one_line(result, f"error: cannot write {target}: the file system is read-only (EROFS); write elsewhere")
    assert list(ro.iterdir()) == []


def _limited(limit: int):
    def start() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return start


@pytest.mark.slow
@pytest.mark.parametrize("command", ["convert", "generate"])
def test_a_file_size_limit_is_one_line(inputs, tmp_path, command):
    out = tmp_path / "out"
    out.mkdir()
    result = _run(_commands(inputs, out)[command], preexec_fn=_limited(100_000))
    target = {"convert": out / "out.jsonl", "generate": out / "g.jsonl.partial.jsonl"}[command]
    _one_line(result, f"error: cannot write {target}: the file is larger than its file system allows (EFBIG)")
    _no_temporaries(out)
    assert not (out / "out.jsonl").exists() and not (out / "g.jsonl").exists()


def test_write_errors_name_the_output_not_the_temporary(tmp_path, monkeypatch):
    """In process: whatever the writer hits inside the temporary sibling, the error names the output."""
    import errno

    from preflab.errors import OutputError
    from preflab.io.atomic import atomic_path

    target = tmp_path / "o.jsonl"
    with pytest.raises(OutputError) as info, atomic_path(target) as tmp:
        tmp.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert str(info.value) == f"cannot write {target}: no space left on the device (ENOSPC); free some space, or write elsewhere"
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError), atomic_path(target):  # anything else is not a disk problem: as it is
        raise ValueError("a bug")
