"""Configs and the CLI mirror each other (DESIGN §5).

One frozen dataclass per command or method is the single source of truth: each field's
``help`` metadata is also its CLI help, and a YAML file given with ``--config`` uses the same
keys as the flags. Precedence: dataclass defaults < config file < flags given on the command
line. Every problem (unknown keys, wrong types, values a ``check()`` refuses) is reported at
once, before any compute is spent.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Demo:
...     seed: int = option(0, "Random seed.")
>>> resolve(Demo, None, {"seed": 3}).seed
3
>>> help_of(Demo, "seed")
'Random seed.'
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from preflab.errors import ConfigError

T = TypeVar("T")


def option(default: Any, help: str) -> Any:
    """A dataclass field with a default and the help text the CLI shows."""
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata={"help": help})
    return dataclasses.field(default=default, metadata={"help": help})


def help_of(cls: type, name: str) -> str:
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f.metadata.get("help", "")
    raise KeyError(f"{cls.__name__} has no field {name!r}")


def load_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of option names to values")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def _type_problem(name: str, value: Any, hint: Any) -> str | None:
    origin = typing.get_origin(hint)
    allowed = typing.get_args(hint) if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)) else (hint,)
    for kind in allowed:
        if kind is type(None) and value is None:
            return None
        if typing.get_origin(kind) is typing.Literal:
            if value in typing.get_args(kind):
                return None
            continue
        base = typing.get_origin(kind) or kind
        if base is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return None
        if isinstance(base, type) and isinstance(value, base) and not (base is int and isinstance(value, bool)):
            return None
    return f"{name}: {value!r} is not a valid {hint}"


type_problem = _type_problem  # for configs that validate themselves field by field


def resolve(cls: type[T], config_file: str | Path | None, flags: dict[str, Any],
            defaults: dict[str, Any] | None = None) -> T:
    """Build ``cls`` from dataclass defaults < ``defaults`` (a named setting, e.g. a method's
    own) < YAML file < flags (``None`` flags mean "not given")."""
    data = dict(defaults or {})
    data.update(load_yaml(config_file) if config_file else {})
    data.update({k: v for k, v in flags.items() if v is not None})
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    problems = [f"unknown option {k!r} (known: {', '.join(sorted(known))})" for k in data if k not in known]
    for key, value in data.items():
        if key in known:
            if isinstance(value, int) and not isinstance(value, bool) and hints[key] in (float, float | None):
                data[key] = value = float(value)
            problem = _type_problem(key, value, hints[key])
            if problem:
                problems.append(problem)
    if problems:
        raise ConfigError("; ".join(problems))
    config = cls(**data)
    check = getattr(config, "check", None)
    if check is not None:
        check()
    return config
