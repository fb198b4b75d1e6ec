"""Typed errors that say what went wrong, where, and how to fix it.

The CLI turns any :class:`PreflabError` into a one-line message (no traceback) and exit
code 1; usage mistakes (bad flags, bad option values) exit with 2. Library code raises
these instead of ``assert`` so checks survive ``python -O``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Union


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the options of a call, naming each option it is about as a
    placeholder, so that every caller reads the name it knows: the keyword from Python, the
    flag from the shell (the CLI passes ``name_of``).

    >>> p = Problem("{limit} must be at least 1, got 0", ("limit",))
    >>> p.render(), p.render(lambda name: "--" + name.replace("_", "-"))
    ('limit must be at least 1, got 0', '--limit must be at least 1, got 0')
    >>> about("max_cost", "must be > 0, got -1").render()
    'max_cost must be > 0, got -1'
    """

    text: str
    names: tuple[str, ...] = ()

    def render(self, name_of: Callable[[str], str] | None = None) -> str:
        text = self.text
        for name in self.names:  # plain replacement: values in the text are never formatted
            text = text.replace("{" + name + "}", name_of(name) if name_of else name)
        return text


def about(option: str, text: str) -> Problem:
    """A problem of one option, the option's name first: ``about("lr", "must be > 0, got 0")``."""
    return Problem("{" + option + "} " + text, (option,))


Problems = Union[str, Problem, Iterable[Problem]]


def as_problems(problems: Problems) -> list[Problem]:
    if isinstance(problems, str):
        return [Problem(problems)]
    if isinstance(problems, Problem):
        return [problems]
    return [p if isinstance(p, Problem) else Problem(str(p)) for p in problems]


class PreflabError(Exception):
    """Base class of every error preflab raises on purpose. Its message is one or more
    :class:`Problem` s; :meth:`render` names options the way the caller knows them."""

    exit_code = 1

    def __init__(self, problems: Problems = "", where: str | None = None) -> None:
        self.problems = as_problems(problems)
        self.where = where
        super().__init__(self.render())

    def render(self, name_of: Callable[[str], str] | None = None, *, where: bool = True) -> str:
        text = "; ".join(dict.fromkeys(p.render(name_of) for p in self.problems))
        return f"{self.where}: {text}" if where and self.where else text


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

    def render(self, name_of: Callable[[str], str] | None = None, *, where: bool = True) -> str:
        return self._render()

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


class WriteError(PreflabError):
    """An output could not be written (a full disk, a read-only folder, a value no file can
    hold); names the path, and no half-written file is left."""


class TrainingDiverged(PreflabError):
    """The training loss (or the model) became NaN or infinite; nothing was saved."""
class Interrupted(KeyboardInterrupt):
    """A Ctrl-C that stopped a run, saying what was kept and how to resume (a
    ``KeyboardInterrupt``, so a notebook or script that catches one still does). The CLI prints
    its message and exits with 130."""

    def __init__(self, resume: str) -> None:
        self.resume = resume
        super().__init__(resume)
