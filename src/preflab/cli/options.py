"""Build typer options from a config dataclass, so the dataclass stays the single source of
truth for names, types, defaults and help (DESIGN §5).

Every generated option defaults to ``None`` ("not given"), so :func:`preflab.config.resolve`
can apply the precedence defaults < ``--config`` file < flags. Booleans become ``--x/--no-x``;
``Literal`` choices are shown in the help.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Any, Callable, Optional

import typer


def _cli_type(hint: Any) -> tuple[Any, str]:
    """The typer-facing type of a field and a note on allowed values."""
    args = [a for a in typing.get_args(hint) if a is not type(None)] if typing.get_origin(hint) in (typing.Union, getattr(__import__("types"), "UnionType", None)) else [hint]
    base = args[0]
    if typing.get_origin(base) is typing.Literal:
        return str, f" [one of: {', '.join(map(str, typing.get_args(base)))}]"
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
