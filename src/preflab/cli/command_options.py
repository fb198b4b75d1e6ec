"""CLI options generated from a command's options dataclass (:mod:`preflab.api.options`):
the same names, defaults and help as the keyword arguments of the Python function the
command calls. The values arrive as keyword arguments of the wrapped command function."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Any, Callable, Optional

import typer

from preflab.api.options import help_text
from preflab.cli.options import _cli_type


def command_parameters(cls: type) -> list[inspect.Parameter]:
    hints = typing.get_type_hints(cls)
    params = []
    for f in dataclasses.fields(cls):
        kind, note = _cli_type(hints[f.name])
        flags = list(f.metadata.get("flags") or ["--" + f.name.replace("_", "-")])
        if kind is bool and "/" not in flags[0]:
            flags[0] = f"{flags[0]}/--no-{flags[0][2:]}"
        option = typer.Option(f.default, *flags, help=help_text(cls, f) + note)
        annotation = kind if f.default is not None else Optional[kind]
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation))
    return params


def with_command_options(func: Callable[..., Any], *classes: type) -> Callable[..., Any]:
    """A copy of ``func`` (which takes ``**options``) whose signature gains one option per
    field of each of ``classes``; compose with :func:`~preflab.cli.options.with_run_options` and
    :func:`~preflab.cli.options.with_config_options` by wrapping this one."""
    hints = typing.get_type_hints(func)
    own = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in inspect.signature(func).parameters.values()
           if p.kind is not inspect.Parameter.VAR_KEYWORD]

    def command(**kwargs: Any) -> Any:
        return func(**kwargs)

    command.__signature__ = inspect.Signature(own + [p for cls in classes for p in command_parameters(cls)])  # type: ignore[attr-defined]
    command.__name__ = func.__name__
    command.__doc__ = func.__doc__
    return command
