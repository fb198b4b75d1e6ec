"""The one adapter from a command's option dataclasses to a typer command.

Every flag of every command comes from a field made with :func:`preflab.config.option` (name,
default, help, range, and its spelling when it is not ``--field-name``); the positional
arguments (:class:`Arg`) are the only thing a command module declares itself. Every generated
option defaults to "not given", so the library applies the one precedence, defaults < YAML
``--config`` file < flags; only the flags given reach the library function. A problem the library
reports names options by field name, and this adapter renders them as this command's flags.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from typing import Any, Callable, Literal, Mapping, Optional, Sequence

import typer

from preflab.config import default_of
from preflab.errors import PreflabError


@dataclasses.dataclass(frozen=True)
class Arg:
    """A positional argument of a command (its data: a file, a model folder)."""

    name: str
    help: str
    type: Any = str


def _cli_type(hint: Any) -> tuple[Any, str]:
    """The typer-facing type of a field and a note on allowed values."""
    args = ([a for a in typing.get_args(hint) if a is not type(None)]
            if typing.get_origin(hint) in (typing.Union, types.UnionType) else [hint])
    base = args[0]
    if typing.get_origin(base) is Literal:
        return str, f" (one of: {', '.join(map(str, typing.get_args(base)))})"  # [..] would be read as rich markup
    if typing.get_origin(base) is list:
        return list[(typing.get_args(base) or (str,))[0]], " (repeat the flag for several)"
    return base, ""


def declarations(f: dataclasses.Field, kind: Any = None) -> list[str]:
    """The typer declarations of a field's flag: its own, or ``--field-name``; booleans
    become ``--x/--no-x``."""
    decls = list(f.metadata.get("flag") or ["--" + f.name.replace("_", "-")])
    if kind is bool and "/" not in decls[0]:
        decls[0] = f"{decls[0]}/--no-{decls[0][2:]}"
    return decls


def flag_names(classes: Sequence[type]) -> dict[str, str]:
    """Field name → the flag a user types (``n_boot`` → ``--bootstrap``)."""
    return {f.name: declarations(f)[0].split("/")[0] for cls in classes for f in dataclasses.fields(cls)}


def dashed(name: str) -> str:
    return "--" + name.replace("_", "-")


def _option(f: dataclasses.Field, hint: Any, default: Any, required: bool) -> inspect.Parameter:
    kind, note = _cli_type(hint)
    shown = f" (default: {default})" if default is not None and default != [] else ""
    option = typer.Option(... if required else None, *declarations(f, kind),
                          help=f.metadata.get("help", "") + note + shown, show_default=False)
    return inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=option,
                             annotation=kind if required else Optional[kind])


def command(app: typer.Typer, name: str, body: Callable[..., Any], *classes: type, args: Sequence[Arg] = (),
            required: Sequence[str] = (), defaults: Mapping[str, Any] | None = None,
            shown: Mapping[str, Any] | None = None, skip: Sequence[str] = (), help: str | None = None) -> None:
    """Register ``body(*args, **options given)`` as the command ``name`` of ``app``: the
    positional ``args``, then one option per field of ``classes`` (``skip``: fields the shell
    does not offer; ``required``: fields it must be given; ``defaults``: this command's own
    defaults where the shell differs from the library, e.g. ``llm check`` measures without the
    cache; ``shown``: defaults the library applies itself, shown in the help, e.g. a method's
    named defaults)."""
    own_defaults = dict(defaults or {})
    params = [inspect.Parameter(a.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                default=typer.Argument(..., help=a.help), annotation=a.type) for a in args]
    seen: set[str] = {a.name for a in args}
    for cls in classes:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.name in seen or f.name in skip:
                continue
            seen.add(f.name)
            default = own_defaults.get(f.name, (shown or {}).get(f.name, default_of(f)))
            params.append(_option(f, hints[f.name], default, f.name in required))
    names = flag_names(classes)

    def invoke(**values: Any) -> Any:
        positional = [values.pop(a.name) for a in args]
        given = {k: list(v) if isinstance(v, tuple) else v for k, v in values.items() if v not in (None, [], ())}
        for key, value in own_defaults.items():
            given.setdefault(key, value)
        try:
            return body(*positional, **given)
        except PreflabError as exc:
            exc.name_of = lambda field: names.get(field) or dashed(field)  # type: ignore[attr-defined]
            raise

    invoke.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    invoke.options, invoke.skip = classes, tuple(skip)  # type: ignore[attr-defined]  # for the coverage test
    invoke.__name__ = name.replace("-", "_")
    invoke.__doc__ = help or body.__doc__
    app.command(name=name)(invoke)


def render(exc: PreflabError) -> str:
    """The one-line message of a library error, options named as flags."""
    return exc.render(getattr(exc, "name_of", None) or dashed)
