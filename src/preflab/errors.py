"""Typed errors that say what went wrong, where, and how to fix it.

The CLI turns any :class:`PreflabError` into a one-line message (no traceback) and exit
code 1; usage mistakes (bad flags, bad option values) exit with 2. Library code raises
these instead of ``assert`` so checks survive ``python -O``.
"""

from __future__ import annotations


class PreflabError(Exception):
    """Base class of every error preflab raises on purpose."""

    exit_code = 1


class InputError(PreflabError):
    """Bad input data: names the file, the line (JSONL, 1-based) or row (0-based), and field.

    >>> str(InputError("missing field", path="a.jsonl", line=3, field="rejected"))
    'a.jsonl:3: field rejected: missing field'
    """

    def __init__(
        self,
        reason: str,
        *,
        path: str | None = None,
        line: int | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = reason
        self.path = path
        self.line = line
        self.row = row
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        elif self.row is not None:
            where += f" row {self.row}"
        field = f" field {self.field}:" if self.field else ""
        return f"{where}:{field} {self.reason}"

    def located(self, *, path: str | None = None, line: int | None = None, row: int | None = None) -> "InputError":
        """The same error with location details filled in where they were missing."""
        return InputError(
            self.reason,
            path=self.path or path,
            line=self.line if self.line is not None else line,
            row=self.row if self.row is not None else row,
            field=self.field,
        )


class ConfigError(PreflabError):
    """A configuration or option value that cannot work; raised before any compute is spent."""

    exit_code = 2


class MissingDependencyError(PreflabError):
    """An optional extra is needed, e.g. ``pip install 'preflab[train]'``."""


def require(module: str, extra: str):
    """Import an optional dependency or fail with the install command that provides it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            f"{module} is not installed; install it with: pip install 'preflab[{extra}]'"
        ) from exc


class HeadReinitialisedError(PreflabError):
    """A reward model whose reward head is missing or changed: a base model loaded as a trained
    RM, or a reload that does not reproduce the scores saved with it."""


class EmptyInputError(PreflabError):
    """An input had no records where the command needs some (``--allow-empty`` accepts it)."""


class CacheError(PreflabError):
    """The LLM call cache file cannot be used (damaged, not a database); never deleted by preflab."""
