"""Check a whole call before its first side effect, and report every problem at once.

A command collects its checks on one :class:`Preflight` and calls :meth:`Preflight.done`
before reading data, loading a model or writing anything::

    check = Preflight("preflab.generate('rlcd')")
    parsed = check.parse(options, GenerateOptions, LLMOptions)     # None when it had problems
    check.outputs(pairs_output(out), inputs=[prompts, scorer])
    check.llm(spec)
    check.done()   # ConfigError (exit 2) naming every problem; else claims the output folders

Problems name options by their field names (:class:`~preflab.errors.Problem`); the Python
caller reads them as keywords, the CLI renders them as flags. Nothing is written before
``done()`` passes; then the folders the command fills are created with preflab's marker
(:mod:`preflab.io.outputs`), once the inputs they are made from are known to exist.

The outputs are checked against the inputs given to :meth:`Preflight.outputs` and against
every path an option of the call reads: each field declared ``option(..., reads=...)`` of
every options class parsed here (:func:`preflab.config.read_paths`), so a model, a
validation set or a config file is protected without the command listing it.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable, Iterable, Mapping, TypeVar

from preflab.errors import ConfigError, EmptyInputError, InputError, Problem
from preflab.io.outputs import Output, claim, output_problems

T = TypeVar("T")


class Preflight:
    """Collects problems from option parsing, outputs and LLM specs."""

    def __init__(self, where: str | None = None) -> None:
        self.where = where
        self.problems: list[Problem] = []
        self._outputs: list[Output] = []
        self._inputs: list[str | os.PathLike] = []
        self._parsed: list[Any] = []

    def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``func(*args, **kwargs)``, with a :class:`ConfigError` recorded instead of raised."""
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            if exc.where and exc.where != self.where:  # one prefix for the problems of one context
                names = tuple(dict.fromkeys(n for p in exc.problems for n in p.names))
                self.problems.append(Problem(f"{exc.where}: " + "; ".join(p.text for p in exc.problems), names))
            else:
                self.problems += exc.problems
            return None

    def parse(self, given: Mapping[str, Any], *classes: type, **kwargs: Any) -> dict[type, Any] | None:
        """:func:`preflab.config.parse`, its problems recorded (None when there were some)."""
        from preflab.config import parse

        parsed = self.run(parse, given, *classes, **kwargs)
        if parsed is not None:
            self._parsed += parsed.values()
        return parsed

    def options(self, given: Mapping[str, Any], *classes: type, **kwargs: Any) -> dict[type, Any]:
        """The call's options parsed into ``classes``; the YAML file named by its ``config``
        option (when it names one) is read under them. On a problem, stop here with every
        problem found so far: the checks after this one need the values."""
        config = given.get("config")
        if "config_file" not in kwargs and isinstance(config, (str, os.PathLike)):
            kwargs["config_file"] = config
        parsed = self.parse(given, *classes, **kwargs)
        if parsed is None:
            self.done()
        return parsed  # type: ignore[return-value]

    def add(self, problem: Problem | str) -> None:
        self.problems.append(problem if isinstance(problem, Problem) else Problem(problem))

    def outputs(self, outputs: Iterable[Output], inputs: Iterable[Any] = (), *, overwrite: bool = False) -> None:
        """Check ``outputs`` against the ``inputs`` (paths the command reads; data held in
        memory is no file; an options instance stands for the paths its fields read) and
        against the paths every options class parsed so far reads."""
        from preflab.config import read_paths

        outputs = list(outputs)
        self._outputs += outputs
        given = [p for p in inputs if isinstance(p, (str, os.PathLike))]
        self._inputs += given
        configs = [*self._parsed, *(p for p in inputs if dataclasses.is_dataclass(p) and not isinstance(p, type))]
        read = [path for config in configs for path in read_paths(config) if os.path.lexists(path)]  # an alias is no file
        self.problems += [Problem(p) for p in output_problems(outputs, [*given, *read], overwrite=overwrite)]

    def path(self, name: str, value: Any, what: str) -> bool:
        """``value`` is a path (a string or an ``os.PathLike``); else a problem naming ``name``
        and ``what`` it should be. Returns whether it is one."""
        if isinstance(value, (str, os.PathLike)):
            return True
        self.problems.append(Problem("{" + name + "}" + f" must be {what}, got {type_name(value)}", (name,)))
        return False

    def scorer(self, name: str, value: Any) -> None:
        """``value`` is a reward model: a folder train-rm saved, what ``train_rm`` returned, or a
        scorer (``score(prompt, responses)``); else a problem naming ``name``."""
        if isinstance(value, (str, os.PathLike)) or callable(getattr(getattr(value, "scorer", value), "score", None)):
            return
        self.problems.append(Problem("{" + name + "}" + " must be a reward model: a folder preflab train-rm saved, what "
                                     f"train_rm returned, or a scorer with score(prompt, responses); got "
                                     f"{type_name(value)}", (name,)))

    def llm(self, spec: Any, option: str = "llm", budget: Any = None) -> None:
        """The LLM spec names a known backend with valid options (and, for llama.cpp, a GGUF
        file), without loading any model. With ``budget`` (the call's
        :class:`~preflab.api.options.LLMOptions`): a cost budget has a price for the spec's
        model, and an LLM the caller opened is not given budgets it would not keep (it counts
        against its own :class:`~preflab.llm.Usage`)."""
        from preflab.api.options import is_llm
        from preflab.llm.base import Backend
        from preflab.llm.checks import spec_problem

        if not isinstance(spec, (str, dict, Backend)) and not is_llm(spec):
            self.problems.append(Problem("{" + option + "}" + " must be an LLM spec (a string such as 'llamacpp' or "
                                         "'openai:URL#model=NAME', or a {kind: ...} block), an LLM you opened "
                                         f"(open_llm) or a backend; got {type_name(spec)}", (option,)))
            return
        if is_llm(spec):
            given = [name for name in ("max_tokens_budget", "max_cost", "price_table")
                     if budget is not None and getattr(budget, name) is not None]
            if given:
                self.problems.append(Problem(
                    "{" + option + "} is an LLM you opened: it keeps its own usage and budgets, so "
                    + ", ".join("{" + name + "}" for name in given) + " would not apply; open it with "
                    "open_llm(..., usage=Usage(...)) or pass a spec", (option, *given)))
            return
        usage = None  # a cost budget whose table cannot be read is reported by the options already
        if budget is not None and budget.max_cost is not None and budget.price_table is not None \
                and budget.price_problem() is None:
            usage = budget.usage()
        if isinstance(spec, (str, dict)):
            problem = spec_problem(spec, usage)
        else:  # a backend object: its model id is known
            problem = usage.price_problem(spec.model_id) if usage is not None and hasattr(spec, "model_id") else None
        if isinstance(problem, Problem):
            self.problems.append(Problem("{" + option + "}: " + problem.text, (option, *problem.names)))
        elif problem:
            self.problems.append(Problem("{" + option + "}: " + problem, (option,)))

    def done(self) -> None:
        """Raise every problem found; else claim the folders the command fills. A folder is
        claimed only when the inputs given to :meth:`outputs` exist: a missing input stops
        the call here (the error its reader would give), with nothing written."""
        if self.problems:
            raise ConfigError(self.problems, self.where)
        if any(out.kind == "workdir" for out in self._outputs):
            missing = next((p for p in self._inputs if not str(p).startswith("hf:") and not os.path.exists(p)), None)
            if missing is not None:
                raise InputError("file not found", path=str(missing))
        claim(self._outputs)


def type_name(value: Any) -> str:
    """How a wrong argument is named in a problem: ``None``, or its type."""
    return "None" if value is None else type(value).__name__


def require_records(count: int, what: str, where: str, allow_empty: bool) -> None:
    """Exit 1 on an input with no records, unless the caller said that is fine."""
    if count == 0 and not allow_empty:
        raise EmptyInputError(Problem(f"{where}: no {what} in the input; check the file (and {{fmt}}), or pass "
                                      "{allow_empty} if an empty result is expected", ("fmt", "allow_empty")))


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
