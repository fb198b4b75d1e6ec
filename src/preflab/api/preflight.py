"""Check a whole command before its first side effect, and report every problem at once.

A command collects its checks on one :class:`Preflight` and calls :meth:`Preflight.done`
before reading data, loading a model or writing anything::

    check = Preflight()
    cfg = check.config(TrainConfig, config_file, flags)       # None when it had problems
    check.at_least(1, {"--bootstrap": n_boot, "--batch-size": batch_size})
    check.outputs(folder_output(out_dir), inputs=[model, data], overwrite=overwrite)
    check.done()   # ConfigError (exit 2) naming every problem; else claims the output folders

Nothing is written before ``done()`` passes; then the folders the command fills are created
with preflab's marker (:mod:`preflab.io.outputs`).
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable, TypeVar

import typer

from preflab.errors import ConfigError, EmptyInputError
from preflab.io.outputs import Output, claim, output_problems

T = TypeVar("T")

OVERWRITE = typer.Option(False, "--overwrite", help="Write into an existing folder preflab did not create "
                         "(files preflab does not write are kept). Inputs are never overwritten.")
ALLOW_EMPTY = typer.Option(False, "--allow-empty", help="Succeed on an input with no records (else exit 1).")


class Preflight:
    """Collects problems from config resolution, option ranges, outputs and LLM specs."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self._outputs: list[Output] = []

    def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``func(*args, **kwargs)``, with a :class:`ConfigError` recorded instead of raised."""
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            self.problems.append(str(exc))
            return None

    def config(self, cls: type[T], config_file: Any, flags: dict[str, Any], defaults: dict[str, Any] | None = None) -> T | None:
        from preflab.config import resolve

        return self.run(resolve, cls, config_file, flags, defaults)

    def at_least(self, low: float, named: dict[str, Any]) -> None:
        """Each given value (None = not given) must be ``>= low``."""
        self.problems += [f"{name} must be at least {low:g}, got {value}" for name, value in named.items()
                          if value is not None and value < low]

    def positive(self, named: dict[str, Any]) -> None:
        self.problems += [f"{name} must be > 0, got {value}" for name, value in named.items()
                          if value is not None and value <= 0]

    def outputs(self, outputs: Iterable[Output], inputs: Iterable[str | os.PathLike | None] = (), *,
                overwrite: bool = False) -> None:
        outputs = list(outputs)
        self._outputs += outputs
        inputs = [p for p in inputs if p is None or isinstance(p, (str, os.PathLike))]  # data in memory is no file
        self.problems += output_problems(outputs, inputs, overwrite=overwrite)

    def llm(self, spec: Any, where: str = "--llm") -> None:
        """The LLM spec names a known backend with valid options (and, for llama.cpp, a GGUF
        file), without loading any model."""
        from preflab.llm.checks import spec_problem

        if not isinstance(spec, (str, dict)):  # an LLM or backend object the caller opened
            return
        problem = spec_problem(spec)
        if problem:
            self.problems.append(f"{where}: {problem}")

    def done(self) -> None:
        if self.problems:
            unique = list(dict.fromkeys(self.problems))
            raise ConfigError("; ".join(unique))
        claim(self._outputs)


def require_records(count: int, what: str, where: str, allow_empty: bool) -> None:
    """Exit 1 on an input with no records, unless the user said that is fine."""
    if count == 0 and not allow_empty:
        raise EmptyInputError(f"{where}: no {what} in the input; check the file (and --format), "
                              "or pass --allow-empty if an empty result is expected")


def nonempty(records: Iterable[T], what: str, where: str, allow_empty: bool) -> Iterable[T]:
    """``records`` again, after checking (by reading the first one) that there is at least one,
    so a streaming writer writes nothing for an empty input."""
    it = iter(records)
    first = next(it, _NOTHING)
    if first is _NOTHING:
        require_records(0, what, where, allow_empty)
        return iter(())

    def chained():
        yield first
        yield from it

    return chained()


_NOTHING = object()
