"""What the pair-to-pair steps (``clean``, ``strength``, ``augment``, ``score``) share: the
``fmt`` and ``overwrite`` options and writing the result (pairs + ``OUT.run.json``) when the
caller names an output."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Optional

from preflab.api.data import Pairs
from preflab.api.options import opt, run_options_subset
from preflab.cli.options import EXECUTOR_OPTIONS, FORMAT_HELP
from preflab.api.preflight import OVERWRITE
from preflab.records import PreferencePair


def fmt_option() -> Any:
    return opt("auto", FORMAT_HELP, "--format", "-f")


def overwrite_option() -> Any:
    return opt(False, OVERWRITE.help)


def config_option() -> Any:
    return opt(None, "YAML file with the same keys as the flags.")


ConfigPath = Optional[Path]

#: Where the work runs, for the commands that can run on Ray (``score``, ``strength``;
#: ``generate`` takes every run option): :mod:`preflab.executor`.
ExecutorOptions = run_options_subset("ExecutorOptions", EXECUTOR_OPTIONS)


def checked_executor(values: dict[str, Any]):
    """The :class:`~preflab.executor.Executor` of a call's :data:`ExecutorOptions` values,
    checked now so that bad settings fail before any work."""
    from preflab.cli.options import RunOptions

    return RunOptions(**values).work_executor.check()


def finish(pairs: Iterable[PreferencePair], out: str | Path | None, record: dict[str, Any], *, fmt: str = "preflab",
           **info: Any) -> Pairs:
    """``pairs`` as :class:`Pairs` with the run record; written with it to ``out`` if given."""
    from preflab import io
    from preflab.provenance import sidecar, write_run_json

    pairs = Pairs(pairs, {"run": record, "path": None if out is None else str(out), **info})
    if out is not None:
        pairs.info["rows_written"] = io.write_pairs(pairs, out, fmt=fmt)
        write_run_json(sidecar(out), record)
    return pairs
