"""Atomic writes: an output either exists complete or not at all.

Every writer renders into a temporary sibling and renames it over the target only after the
last byte is flushed, so a crash or Ctrl-C never leaves a half-written file that looks done.

The temporary sibling lives in the output's own parent folder (a rename never crosses file
systems) and is named ``.NAME.PID-RANDOM.tmp``. It is removed when the writer fails; a
SIGKILL cannot run that cleanup, so the next write of the same target removes the temporary
siblings of processes that no longer run (and nameless old ones). Finished files get the
permissions an ordinary ``open()`` would give them (``0666`` minus the umask), not
``mkstemp``'s private ``0600``.

Replacing a folder keeps what preflab did not write: the entries of the old folder that its
ownership marker (:mod:`preflab.io.outputs`) does not list are moved into the new one.

A write the file system refuses (a full disk, a read-only folder, no permission) is one
:class:`~preflab.errors.WriteError` naming the output and what happened, with the temporary
sibling removed and the old output, if any, left as it was (:mod:`preflab.io.refusals`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Iterator

from preflab.errors import PreflabError
from preflab.io.refusals import disk_problem, refusal_in, write_error, writing

#: A temporary sibling whose name carries no live process id is stale after this long.
STALE_AFTER_S = 3600.0


def current_umask() -> int:
    """The process umask, read without changing it where Linux allows (else set and reset)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temps(target: Path) -> list[Path]:
    """Remove temporary siblings of ``target`` left by writers that were killed."""
    removed = []
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(?:(\d+)-)?.*\.tmp$")
    for path in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        match = pattern.match(path.name)
        if match is None:
            continue
        pid = match.group(1)
        try:
            stale = not _alive(int(pid)) if pid else time.time() - path.stat().st_mtime > STALE_AFTER_S
        except OSError:
            continue
        if stale:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def write_all(fh, data: bytes) -> None:
    """All of ``data`` to an unbuffered file (a short write is retried; a full disk raises)."""
    view = memoryview(data)
    while view:
        view = view[fh.write(view):]


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, *, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success rename it onto ``target``.

    The temporary name starts with ``.`` and ends with ``.tmp`` so it is never mistaken for
    a finished output. ``directory=True`` is for writers that produce a folder (``datasets``'
    ``save_to_disk``); the folder gets preflab's ownership marker.
    """
    target = Path(target)
    if not target.name or target.name in (".", ".."):
        from preflab.errors import ConfigError

        raise ConfigError(f"{target}: cannot write an output over the folder itself; name a new file or folder")
    with writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(target)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp", dir=target.parent)
        os.close(fd)
    tmp = Path(tmp_name)
    if directory:
        tmp.unlink()
    try:
        yield tmp
        if directory:
            from preflab.io.outputs import write_marker

            write_marker(tmp)
            _replace_dir(tmp, target)
        else:
            os.chmod(tmp, 0o666 & ~current_umask())
            os.replace(tmp, target)
    except BaseException as exc:
        refused = None
        if isinstance(exc, Exception) and not isinstance(exc, PreflabError):
            # probed while the temporary sibling still fills the disk
            refused = refusal_in(exc) or disk_problem(target.parent)
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        if refused is not None:
            raise write_error(target, refused) from (None if refused is exc else exc)
        raise


def _replace_dir(tmp: Path, target: Path) -> None:
    """Swap ``tmp`` in for ``target``; entries of the old folder that preflab did not write
    move into the new one, and the old folder is deleted only once they all did."""
    if not target.exists():
        os.replace(tmp, target)
        return
    from preflab.io.outputs import foreign_entries

    keep = [name for name in foreign_entries(target) if not (tmp / name).exists()]
    old = target.with_name(f".{target.name}.{os.getpid()}-old.tmp")
    if old.exists():
        shutil.rmtree(old)
    os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(old, target)
        raise
    for name in keep:
        os.replace(old / name, target / name)
    shutil.rmtree(old, ignore_errors=True)
