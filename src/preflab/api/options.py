"""The options several commands share, and how a Python function shows its options.

Each command's options are dataclasses made with :func:`preflab.config.option`; the classes
here are the ones several commands take: which LLM and its call cache and budgets
(:class:`LLMOptions`), and where the work runs (:class:`ExecutorOptions`). A Python function
takes their fields as keyword arguments (:func:`signed` shows them in its signature and
docstring, so ``help()`` and IDEs list them); the CLI's one adapter makes the same fields flags.

>>> LLMOptions(llm="fake").llm
'fake'
>>> import inspect
>>> @signed(ExecutorOptions)
... def work(data, **options):
...     "Do the work."
>>> list(inspect.signature(work).parameters)[:3]
['data', 'executor', 'ray_address']
"""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import inspect
import typing
from pathlib import Path
from typing import Annotated, Any, Callable, Literal, Optional

from preflab.config import default_of, option
from preflab.llm.spec import SPEC_HELP, spec_paths

CACHE_FILE_HELP = "SQLite file of finished LLM calls (default: llm-calls.sqlite3 in $PREFLAB_CACHE, else ~/.cache/preflab)."
SEED_HELP = "Seed of every draw and sample."
IN_FLIGHT_HELP = "Prompts (or pairs, for a judge) worked on at once; keeps a server busy."
OVERWRITE_HELP = ("Write into an existing folder preflab did not create (files preflab does not write are kept). "
                  "Inputs are never overwritten.")
ALLOW_EMPTY_HELP = "Succeed on an input with no records (else exit 1)."
CONFIG_HELP = "YAML file with the same keys as the options (defaults < file < options given)."


def format_help() -> str:
    """The help of every ``fmt`` option: the layouts :mod:`preflab.io` reads."""
    from preflab import io

    aliases = ", ".join(sorted(io.PAIR_ALIASES))
    named = {"auto": "auto (sniffed from the first row)",
             "pairs": f"pairs (preflab's or TRL's columns: standard, conversational or implicit prompt; also {aliases})"}
    return "Input layout: " + ", ".join(named.get(f, f) for f in io.PAIR_FORMATS) + "."


def fmt_option() -> Any:
    return option("auto", format_help(), flag=("--format", "-f"))


def overwrite_option() -> Any:
    return option(False, OVERWRITE_HELP)


def config_option() -> Any:
    return option(None, CONFIG_HELP, reads=True)



@dataclasses.dataclass(frozen=True)
class LLMOptions:
    """Which LLM, its call cache and its budgets; :meth:`open` turns them into an LLM."""

    llm: str = option("llamacpp", SPEC_HELP, objects=True, reads=spec_paths)
    cache: bool = option(True, "Reuse finished LLM calls from the call cache (reruns and resumes are free).")
    cache_path: Optional[Path] = option(None, CACHE_FILE_HELP)
    max_tokens_budget: Optional[int] = option(None, "Stop cleanly once this many tokens (in + out, uncached) are spent.")
    max_cost: Optional[float] = option(None, "Stop cleanly once this cost is spent (needs price_table).")
    price_table: Optional[Path] = option(None, "YAML/JSON price table, 'model-glob: {input: X, output: Y}' per 1M tokens.",
                                         reads=True)

    def problems(self) -> list[Any]:
        """The budget's own rules, checked before any work: a cost budget needs a price table,
        and the table must be readable with finite prices >= 0 (the spec's model is checked
        against it by :meth:`~preflab.api.preflight.Preflight.llm`)."""
        from preflab.errors import Problem

        found = []
        if self.max_cost is not None and self.price_table is None:
            found.append(Problem("{max_cost} needs a price table ({price_table} FILE) to turn tokens into cost",
                                 ("max_cost", "price_table")))
        if self.price_table is not None:
            problem = self.price_problem()
            if problem is not None:
                found.append(Problem("{price_table}: " + problem, ("price_table",)))
        return found

    def price_problem(self) -> str | None:
        """Why the price table cannot be used (unreadable, no prices, a price that is not a
        finite number >= 0), or None."""
        from preflab.errors import ConfigError
        from preflab.llm import PriceTable

        try:
            PriceTable.load(self.price_table)
        except ConfigError as exc:
            return str(exc)
        return None

    def usage(self):
        """The :class:`~preflab.llm.Usage` this call's budgets make (the price table is read now)."""
        from preflab.llm import PriceTable, Usage

        return Usage(prices=PriceTable.load(self.price_table) if self.price_table else None,
                     max_tokens=self.max_tokens_budget, max_cost=self.max_cost)

    def open(self, spec: Any = None, *, executor: Any = None, method: str | None = None):
        """An LLM for ``spec`` (default: ``llm``) with this call's cache and budgets (the price
        table is read now, before any model loads); with a Ray ``executor`` the calls that miss
        the cache run on Ray actors. An LLM the caller opened is returned as it is."""
        from preflab.llm.on_executor import open_llm_on

        spec = self.llm if spec is None else spec
        if is_llm(spec):
            return spec
        return open_llm_on(executor, spec, cache=(self.cache_path or True) if self.cache else False,
                           usage=self.usage(), method=method)


def is_llm(obj: Any) -> bool:
    """An LLM the caller opened (:func:`preflab.llm.open_llm`): used as it is, never closed here."""
    return hasattr(obj, "complete") and hasattr(obj, "usage")


@dataclasses.dataclass(frozen=True)
class ExecutorOptions:
    """Where the work runs (:mod:`preflab.executor`); outputs are the same either way."""

    executor: Literal["local", "ray"] = option("local", "Where the work runs: local (this process) or ray (a pool of Ray "
                                               "actors; needs preflab[ray]). Outputs are the same either way.")
    ray_address: Optional[str] = option(None, "Ray cluster to join (the address `ray start --head` prints); "
                                        "default: start or join a Ray on this machine.")
    ray_actors: Optional[int] = option(None, "Ray actors (each holds one model); default: as many as the cluster's "
                                       "CPUs hold.", low=1)
    ray_cpus_per_actor: float = option(1.0, "CPUs per actor; its model uses that many threads.", above=0)
    ray_gpus_per_actor: float = option(0.0, "GPUs per actor (fractions share a GPU).", low=0)

    def problems(self) -> list[Any]:
        """A Ray address Ray cannot join is a problem before any work (not Ray's traceback)."""
        from preflab.executor.config import address_problem

        problem = address_problem("ray_address", self.ray_address)
        return [] if problem is None else [problem]

    def to_executor(self):
        from preflab.executor import Executor

        return Executor(self.executor, self.ray_address, self.ray_actors, self.ray_cpus_per_actor,
                        self.ray_gpus_per_actor)


def fields_of(*classes: type) -> dict[str, tuple[type, dataclasses.Field]]:
    return {f.name: (cls, f) for cls in classes for f in dataclasses.fields(cls)}


def options_doc(classes: tuple[type, ...]) -> str:
    """The docstring section listing every option: name, default, help."""
    lines = ["Options (keyword arguments; the CLI command's flags have the same names):"]
    for name, (_, f) in fields_of(*classes).items():
        lines.append(f"    {name} (default {default_of(f)!r}): {f.metadata.get('help', '')}")
    return "\n".join(lines)


def reusable(value: Any) -> Any:
    """``value``, or the items of a one-shot iterator (a generator, ``map``, ``iter(list)``)
    as a list. A command reads its input more than once (a check, then the run; the records,
    then their fingerprint for provenance and resuming), and a generator read twice is empty
    the second time: ``generate("rlcd", (p for p in prompts))`` once returned 0 pairs and
    recorded 0 prompt rows. File objects are left as they are.

    >>> reusable(x for x in "ab"), reusable("ab")
    (['a', 'b'], 'ab')
    """
    if isinstance(value, collections.abc.Iterator) and not hasattr(value, "read"):
        return list(value)
    return value


def signed(*classes: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Show the fields of ``classes`` as the keyword arguments of a function that takes
    ``**options`` (in its signature and docstring), and record the classes in
    ``func.options`` for the CLI's adapter and the tests. The function gets every one-shot
    iterator among its arguments as a list (:func:`reusable`), so each public function takes
    any iterable where it takes a list."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        params = list(inspect.signature(func).parameters.values())
        own = [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
        taken = {p.name for p in own}
        extra = []
        for name, (cls, f) in fields_of(*classes).items():
            if name not in taken:
                hint = typing.get_type_hints(cls)[name]
                extra.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default_of(f),
                                               annotation=Annotated[hint, f.metadata.get("help", "")]))
        rest = [p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]

        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> Any:
            return func(*map(reusable, args), **{k: reusable(v) for k, v in kwargs.items()})

        call.__signature__ = inspect.Signature(own + extra + rest)  # type: ignore[attr-defined]
        call.__doc__ = (func.__doc__ or "").rstrip() + "\n\n" + _indent(options_doc(classes)) + "\n"
        call.options = classes  # type: ignore[attr-defined]
        return call

    return decorate


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else line for line in text.splitlines())
