"""The file system's refusals (a full disk, a read-only folder, no permission) as one
:class:`~preflab.errors.WriteError` naming the output and what happened, never a traceback.

Some writers do not raise ``OSError`` for a full disk: safetensors quotes the C library's text
(``No space left on device (os error 28)``), ``torch.save`` may say only ``file write failed``.
:func:`refusal_in` finds the refusal in an error's chain or text, and :func:`disk_problem`
asks the disk itself with a small probe write, while the failed output still fills it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import Iterator

from preflab.errors import WriteError

#: Bytes the probe writes to tell a full disk behind another library's error.
PROBE_BYTES = 1 << 16


def write_error(target: str | os.PathLike, exc: OSError, note: str = "nothing was written there") -> WriteError:
    """One line: the output, what the file system said, and what became of the output."""
    reason = os.strerror(exc.errno).lower() if exc.errno else " ".join(str(exc).split())
    shown = exc.filename and Path(exc.filename) != Path(target) and not str(exc.filename).endswith(".tmp")
    where = f" ({exc.filename})" if shown and exc.errno else ""  # a folder on the way; never a temporary name
    return WriteError(f"{target}: cannot write it: {reason}{where}; {note}")


@contextlib.contextmanager
def writing(target: str | os.PathLike, note: str = "nothing was written there") -> Iterator[None]:
    """Turn the file system's refusal while writing ``target`` (``OSError``) into a
    :class:`WriteError` naming it; for writes that are not atomic (a partial file, a log),
    ``note`` says what became of what was written."""
    try:
        yield
    except OSError as exc:
        raise write_error(target, exc, note) from None


#: The file system's refusals a writer of another library may report only in its message.
_REFUSALS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EFBIG)


def refusal_in(exc: BaseException) -> OSError | None:
    """The file system's refusal behind ``exc``: an ``OSError`` in its chain, or one whose
    C library text (``No space left on device``) another library's error quotes (safetensors
    says ``os error 28``, ``torch.save`` may say only ``file write failed``: see
    :func:`disk_problem`)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError):
            return exc
        text = str(exc)
        for code in _REFUSALS:
            if os.strerror(code) in text:
                return OSError(code, os.strerror(code))
        exc = exc.__cause__ or exc.__context__
    return None


def disk_problem(folder: Path) -> OSError | None:
    """The error a small write in ``folder`` gets now (a full disk, a read-only folder), or
    None when the folder takes it."""
    try:
        fd, name = tempfile.mkstemp(prefix=".preflab-probe.", suffix=".tmp", dir=folder)
    except OSError as exc:
        return exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(bytes(PROBE_BYTES))
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        return exc
    finally:
        Path(name).unlink(missing_ok=True)
    return None
