"""Every option the CLI shares, declared once.

- :func:`with_config_options` builds typer options from a config dataclass, so the dataclass
  stays the single source of truth for names, types, defaults and help (docs/architecture.md#options). Every
  generated option defaults to ``None`` ("not given"), so :func:`preflab.config.resolve` can
  apply the precedence defaults < ``--config`` file < flags. Booleans become ``--x/--no-x``;
  ``Literal`` choices are shown in the help.
- :func:`with_run_options` adds the options of every command that calls an LLM (``--llm``,
  the call cache, token and cost budgets with their price table, ``--seed``, ``--in-flight``)
  and hands them to the command as one :class:`RunOptions`, which opens the LLM.
- :data:`FORMAT` is the ``--format`` option of every command that reads pairs; its help lists
  the readers :mod:`preflab.io` registers.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import typing
from pathlib import Path
from typing import Any, Callable, Optional

import typer

from preflab import io
from preflab.errors import ConfigError
from preflab.llm.spec import SPEC_HELP

log = logging.getLogger(__name__)


def _cli_type(hint: Any) -> tuple[Any, str]:
    """The typer-facing type of a field and a note on allowed values."""
    args = [a for a in typing.get_args(hint) if a is not type(None)] if typing.get_origin(hint) in (typing.Union, getattr(__import__("types"), "UnionType", None)) else [hint]
    base = args[0]
    if typing.get_origin(base) is typing.Literal:
        return str, f" (one of: {', '.join(map(str, typing.get_args(base)))})"  # [..] would be read as rich markup
    if typing.get_origin(base) is list:
        return list[str], " (repeat the flag for several)"
    return base, ""


def config_parameters(cls: type, defaults: dict[str, Any] | None = None) -> list[inspect.Parameter]:
    hints = typing.get_type_hints(cls)
    params = []
    for f in dataclasses.fields(cls):
        kind, note = _cli_type(hints[f.name])
        default = (defaults or {}).get(f.name, f.default if f.default is not dataclasses.MISSING else None)
        flag = "--" + f.name.replace("_", "-")
        decls = [f"{flag}/--no-{flag[2:]}"] if kind is bool else [flag]
        shown = f" (default: {default})" if default is not None else ""
        option = typer.Option(None, *decls, help=f.metadata.get("help", "") + note + shown, show_default=False)
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=Optional[kind]))
    return params


def with_config_options(func: Callable[..., Any], cls: type, defaults: dict[str, Any] | None = None,
                        *, name: str | None = None, doc: str | None = None) -> Callable[..., Any]:
    """A copy of ``func`` whose signature gains one option per field of ``cls``; the
    generated values arrive in ``func(..., config_flags={field: value or None})``."""
    hints = typing.get_type_hints(func)  # string annotations (PEP 563) resolved in func's module
    own = [p.replace(annotation=hints.get(p.name, p.annotation))
           for p in inspect.signature(func).parameters.values() if p.name != "config_flags"]
    fields = {f.name for f in dataclasses.fields(cls)}

    def command(**kwargs: Any) -> Any:
        flags = {k: kwargs.pop(k) for k in list(kwargs) if k in fields}
        flags = {k: (None if v in ([], ()) else (list(v) if isinstance(v, tuple) else v)) for k, v in flags.items()}
        return func(**kwargs, config_flags=flags)

    command.__signature__ = inspect.Signature(own + config_parameters(cls, defaults))  # type: ignore[attr-defined]
    command.__name__ = name or func.__name__
    command.__doc__ = doc or func.__doc__
    return command


# -- reading pairs -----------------------------------------------------------------------
def _format_help() -> str:
    aliases = ", ".join(sorted(io.PAIR_ALIASES))
    named = {"auto": "auto (sniffed from the first row)",
             "pairs": f"pairs (preflab's or TRL's columns: standard, conversational or implicit prompt; also {aliases})"}
    return "Input layout: " + ", ".join(named.get(f, f) for f in io.PAIR_FORMATS) + "."


FORMAT_HELP = _format_help()
FORMAT = typer.Option("auto", "--format", "-f", help=FORMAT_HELP)


# -- commands that call an LLM -----------------------------------------------------------
CACHE_FILE_HELP = "SQLite file of finished LLM calls (default: llm-calls.sqlite3 in $PREFLAB_CACHE, else ~/.cache/preflab)."


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """The options every LLM-calling command shares; :meth:`open_llm` turns them into an LLM."""

    llm: str = "llamacpp"
    cache: bool = True
    cache_path: Optional[Path] = None
    max_tokens_budget: Optional[int] = None
    max_cost: Optional[float] = None
    price_table: Optional[Path] = None
    seed: int = 0
    in_flight: int = 8
    executor: str = "local"
    ray_address: Optional[str] = None
    ray_actors: Optional[int] = None
    ray_cpus_per_actor: float = 1.0
    ray_gpus_per_actor: float = 0.0

    @property
    def work_executor(self):
        """Where the work runs (:class:`preflab.executor.Executor`), from the executor flags."""
        from preflab.executor import Executor

        return Executor(self.executor, self.ray_address, self.ray_actors, self.ray_cpus_per_actor,
                        self.ray_gpus_per_actor)

    def open_llm(self, spec: str | None = None, *, method: str | None = None):
        """An LLM for ``spec`` (default ``--llm``) with this run's cache and budgets; the
        budgets and the price table are checked before any model loads. With ``--executor
        ray`` the calls that miss the cache run on Ray actors (:mod:`preflab.executor`)."""
        from preflab.llm.on_executor import open_llm_on
        from preflab.llm import PriceTable, Usage

        usage = Usage(prices=PriceTable.load(self.price_table) if self.price_table else None,
                      max_tokens=self.max_tokens_budget, max_cost=self.max_cost)
        return open_llm_on(self.work_executor, spec or self.llm,
                           cache=(self.cache_path or True) if self.cache else False, usage=usage, method=method)


_RUN_FLAGS: dict[str, tuple[tuple[str, ...], str]] = {
    "llm": (("--llm",), SPEC_HELP),
    "cache": (("--cache/--no-cache",), "Reuse finished LLM calls from the call cache (reruns and resumes are free)."),
    "cache_path": (("--cache-path",), CACHE_FILE_HELP),
    "max_tokens_budget": (("--max-tokens-budget",), "Stop cleanly once this many tokens (in + out, uncached) are spent."),
    "max_cost": (("--max-cost",), "Stop cleanly once this cost is spent (needs --price-table)."),
    "price_table": (("--price-table",), "YAML/JSON price table, 'model-glob: {input: X, output: Y}' per 1M tokens."),
    "seed": (("--seed",), "Seed of every draw and sample."),
    "in_flight": (("--in-flight",), "Prompts (or pairs, for a judge) worked on at once; keeps a server busy."),
    "executor": (("--executor",), "Where the work runs: local (this process) or ray (a pool of Ray actors; "
                 "needs preflab[ray]). Outputs are the same either way."),
    "ray_address": (("--ray-address",), "Ray cluster to join (the address `ray start --head` prints); "
                    "default: start or join a Ray on this machine."),
    "ray_actors": (("--ray-actors",), "Ray actors (each holds one model); default: as many as the cluster's CPUs hold."),
    "ray_cpus_per_actor": (("--ray-cpus-per-actor",), "CPUs per actor; its model uses that many threads."),
    "ray_gpus_per_actor": (("--ray-gpus-per-actor",), "GPUs per actor (fractions share a GPU)."),
}
#: The old name of ``--price-table`` (``preflab generate`` used it); hidden, still accepted.
_DEPRECATED_PRICES = "prices"
#: Opening an LLM: which, its call cache, its budgets.
LLM_OPTIONS = ("llm", "cache", "cache_path", "max_tokens_budget", "max_cost", "price_table")
ALL_RUN_OPTIONS = LLM_OPTIONS + ("seed", "in_flight")
#: Where the work runs (``generate``, ``score``, ``strength``): see :mod:`preflab.executor`.
EXECUTOR_OPTIONS = ("executor", "ray_address", "ray_actors", "ray_cpus_per_actor", "ray_gpus_per_actor")


def _run_parameters(names: tuple[str, ...], defaults: dict[str, Any]) -> list[inspect.Parameter]:
    hints = typing.get_type_hints(RunOptions)
    fields = {f.name: f.default for f in dataclasses.fields(RunOptions)}
    params = []
    for name in names:
        decls, help_text = _RUN_FLAGS[name]
        option = typer.Option(defaults.get(name, fields[name]), *decls, help=help_text)
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=hints[name]))
    if "price_table" in names:
        option = typer.Option(None, "--prices", hidden=True, help="Deprecated name of --price-table.")
        params.append(inspect.Parameter(_DEPRECATED_PRICES, inspect.Parameter.KEYWORD_ONLY, default=option,
                                        annotation=Optional[Path]))
    return params


def with_run_options(func: Callable[..., Any], names: tuple[str, ...] = ALL_RUN_OPTIONS,
                     **defaults: Any) -> Callable[..., Any]:
    """A copy of ``func`` whose ``run: RunOptions`` parameter becomes the shared flags
    ``names`` (``defaults`` change a default for this command, e.g. ``cache=False``); the
    values arrive as ``func(..., run=RunOptions(...))``. Compose with
    :func:`with_config_options` by wrapping this one."""
    unknown = set(names) - set(_RUN_FLAGS)
    if unknown:
        raise ValueError(f"unknown run options {sorted(unknown)}; known: {', '.join(_RUN_FLAGS)}")
    hints = typing.get_type_hints(func)
    own = [p.replace(annotation=hints.get(p.name, p.annotation))
           for p in inspect.signature(func).parameters.values() if p.name != "run"]

    def command(**kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in names}
        old_prices = kwargs.pop(_DEPRECATED_PRICES, None)
        if old_prices is not None:
            if values.get("price_table") is not None:
                raise ConfigError("give the price table once: --price-table (--prices is its old name)")
            log.warning("--prices is deprecated; use --price-table")
            values["price_table"] = old_prices
        run = RunOptions(**values)
        run.work_executor.check()  # bad executor settings fail before any work
        return func(**kwargs, run=run)

    command.__signature__ = inspect.Signature(own + _run_parameters(names, defaults))  # type: ignore[attr-defined]
    command.__name__ = func.__name__
    command.__doc__ = func.__doc__
    return command
