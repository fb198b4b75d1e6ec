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

A write that fails because the disk is full, the file system is read-only or the folder is not
writable becomes one :class:`~preflab.errors.OutputError` naming the output (never the
temporary sibling) and what happened (:func:`write_error`), after the temporary sibling is
removed; an output that existed before is left as it was.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Iterator

#: A temporary sibling whose name carries no live process id is stale after this long.
STALE_AFTER_S = 3600.0
#: Free bytes under which a writer's own failure (torch's "unexpected pos") is a full disk.
NEARLY_FULL = 1 << 20

_FULL = "free some space, or write elsewhere"
#: errno → (what happened, what to do).
WRITE_ERRNOS = {
    errno.ENOSPC: ("no space left on the device", _FULL),
    errno.EDQUOT: ("the disk quota is used up", _FULL),
    errno.EFBIG: ("the file is larger than its file system allows", "write elsewhere"),
    errno.EROFS: ("the file system is read-only", "write elsewhere"),
    errno.EACCES: ("permission denied", "check the folder's permissions, or write elsewhere"),
    errno.EPERM: ("operation not permitted", "check the folder's permissions, or write elsewhere"),
}


def _free_bytes(folder: Path) -> int | None:
    try:
        stat = os.statvfs(folder)
    except OSError:
        return None
    return stat.f_bavail * stat.f_frsize


def write_error(exc: BaseException, target: str | os.PathLike, *, full: bool = False):
    """The :class:`~preflab.errors.OutputError` for a write of ``target`` that failed with
    ``exc`` (a full disk, a read-only file system, no permission), or None for any other
    failure (a bug, shown as it is). ``full``: the disk was found nearly full when it failed,
    which makes a writer's own error (torch's) a full disk too."""
    from preflab.errors import OutputError

    if isinstance(exc, OutputError):  # from a write inside this one (a temporary folder's file): name the target
        return OutputError(str(target), exc.reason, exc.hint)
    if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
        reason, hint = WRITE_ERRNOS[exc.errno]
        return OutputError(str(target), f"{reason} ({errno.errorcode[exc.errno]})", hint)
    if full and isinstance(exc, (OSError, RuntimeError)):
        return OutputError(str(target), f"no space left on the device ({type(exc).__name__}: "
                                        f"{' '.join(str(exc).split())[:120]})", _FULL)
    return None


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
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(target)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        found = write_error(exc, target)
        if found is None:
            raise
        raise found from None
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
        free = _free_bytes(target.parent)  # before the temporary sibling's bytes are freed
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        found = write_error(exc, target, full=free is not None and free < NEARLY_FULL)
        if found is None:
            raise
        raise found from None


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
