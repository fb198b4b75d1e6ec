"""The options of every public function, declared once per command.

Each command keeps its own options in a dataclass whose fields carry the help text (and,
where the CLI spells it differently, the flag). The same classes give:

- the keyword arguments of the Python function: :func:`signed` puts them in its signature and
  docstring, and :func:`take` validates what a caller passes (unknown names, wrong types, an
  option of another method), reporting every problem at once with what is allowed;
- the options of the CLI command (:func:`preflab.cli.command_options.with_command_options`).

A test (``tests/api/test_drift.py``) checks that the function and the command agree on names,
defaults and help, so they cannot drift apart.

>>> from dataclasses import dataclass
>>> @dataclass
... class Demo:
...     batch_size: int = opt(16, "Sequences per forward pass.")
>>> take("demo", {"batch_size": 8}, Demo)[Demo]
{'batch_size': 8}
>>> take("demo", {"batch": 8}, Demo)
Traceback (most recent call last):
preflab.errors.ConfigError: demo: unknown option 'batch'; allowed: batch_size
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Annotated, Any, Callable, Mapping, Sequence

from preflab.errors import ConfigError


def opt(default: Any, help: str, *flags: str, objects: bool = False) -> Any:
    """A dataclass field with its help text and, when not ``--field-name``, its CLI flags;
    ``objects``: Python callers may also pass an object (a scorer, an opened LLM) where the
    CLI takes a path or a spec."""
    return dataclasses.field(default=default, metadata={"help": help, "flags": flags, "objects": objects})


def help_text(cls: type, field: dataclasses.Field) -> str:
    """A field's help: its metadata, or for :class:`~preflab.cli.options.RunOptions` the shared table."""
    if "help" in field.metadata:
        return field.metadata["help"]
    from preflab.cli import options as cli_options

    flags = getattr(cli_options, "_RUN_FLAGS", {})
    return flags[field.name][1] if cls is cli_options.RunOptions and field.name in flags else ""


def run_options_subset(name: str, names: Sequence[str]) -> type:
    """A dataclass of the :class:`~preflab.cli.options.RunOptions` fields ``names`` (help
    included), for a command that takes only some of the run options (``judge``: no seed)."""
    from preflab.cli.options import RunOptions

    hints = typing.get_type_hints(RunOptions)
    return dataclasses.make_dataclass(
        name, [(f.name, hints[f.name], dataclasses.field(default=f.default, metadata={"help": help_text(RunOptions, f)}))
               for f in dataclasses.fields(RunOptions) if f.name in names], frozen=True)


def fields_of(*classes: type) -> dict[str, tuple[type, dataclasses.Field]]:
    return {f.name: (cls, f) for cls in classes for f in dataclasses.fields(cls)}


def _type_problem(name: str, value: Any, hint: Any) -> str | None:
    from preflab.config import type_problem

    if typing.get_origin(hint) is None and hint is not Any and isinstance(hint, type) and hint.__module__ == "pathlib":
        return None if isinstance(value, (str, hint)) else f"{name}: {value!r} is not a path"
    args = typing.get_args(hint)
    if any(getattr(a, "__module__", "") == "pathlib" for a in args) and isinstance(value, str):
        return None
    return type_problem(name, value, hint)


def take(command: str, given: Mapping[str, Any], *classes: type, elsewhere: Mapping[str, Sequence[str]] | None = None,
         loose: Sequence[type] = ()) -> dict[type, dict[str, Any]]:
    """Split ``given`` keyword arguments among ``classes`` (by field name). Unknown names,
    wrong types and (with ``elsewhere``: option → the other places it belongs) options of
    another method become one :class:`~preflab.errors.ConfigError` listing what is allowed.
    Classes in ``loose`` are split but not type-checked (their own validation runs later)."""
    known = fields_of(*classes)
    problems, split = [], {cls: {} for cls in classes}
    for name, value in given.items():
        if name not in known:
            owners = (elsewhere or {}).get(name)
            if owners:
                problems.append(f"option {name!r} belongs to {', '.join(owners)}, not to this call")
            else:
                problems.append(f"unknown option {name!r}")
            continue
        cls, field = known[name]
        hint = typing.get_type_hints(cls)[name]
        free = cls in loose or (field.metadata.get("objects") and not isinstance(value, (str, int, float)))
        problem = None if free else _type_problem(name, value, hint)
        if problem:
            problems.append(problem)
        split[cls][name] = value
    if problems:
        raise ConfigError(f"{command}: {'; '.join(problems)}; allowed: {', '.join(sorted(known))}")
    return split


def defaults_of(cls: type) -> dict[str, Any]:
    return {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}


def _parameters(classes: Sequence[type], method_defaults: Mapping[str, Any] | None) -> list[inspect.Parameter]:
    params = []
    for name, (cls, field) in fields_of(*classes).items():
        hint = typing.get_type_hints(cls)[name]
        default = (method_defaults or {}).get(name, field.default)
        if default is dataclasses.MISSING:
            default = field.default_factory() if field.default_factory is not dataclasses.MISSING else None  # type: ignore[misc]
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                        annotation=Annotated[hint, help_text(cls, field)]))
    return params


def options_doc(classes: Sequence[type], title: str = "Options") -> str:
    """The docstring section listing every option: name, default, help."""
    lines = [f"{title} (the same as the CLI command's flags):"]
    for name, (cls, field) in fields_of(*classes).items():
        default = field.default if field.default is not dataclasses.MISSING else None
        lines.append(f"    {name} (default {default!r}): {help_text(cls, field)}")
    return "\n".join(lines)


def signed(*classes: type, doc_classes: Sequence[type] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a function that takes ``**options`` a signature (and a docstring section) with one
    keyword argument per field of ``classes``, so ``help()``, IDEs and ``inspect`` show them."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        own = [p for p in inspect.signature(func).parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        taken = {p.name for p in own}
        extra = [p for p in _parameters(classes, None) if p.name not in taken]
        rest = [p for p in inspect.signature(func).parameters.values() if p.kind is inspect.Parameter.VAR_KEYWORD]
        func.__signature__ = inspect.Signature(own + extra + rest)  # type: ignore[attr-defined]
        func.__doc__ = (func.__doc__ or "").rstrip() + "\n\n" + _indent(options_doc(doc_classes or classes)) + "\n"
        return func

    return decorate


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else line for line in text.splitlines())
