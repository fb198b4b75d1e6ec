"""Configs and the CLI mirror each other (docs/architecture.md#options).

One frozen dataclass per command or method is the single source of truth: each field's
``help`` metadata is also its CLI help, and a YAML file given with ``--config`` uses the same
keys as the flags. Precedence: dataclass defaults < config file < flags given on the command
line. Every problem (unknown keys, wrong types, values out of range, values a ``check()``
refuses) is reported at once, before any compute is spent.

Ranges come from the field names, so every config gets them without repeating itself (and a
bench's method and RM options get them too): ``max_tokens`` and ``n`` must be at least 1,
``temperature`` lies in [0, 2], ``lr`` is positive, and so on (:data:`BOUNDS`). A field can
state its own range with ``option(..., low=, high=)``.

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


def option(default: Any, help: str, *, low: float | None = None, high: float | None = None) -> Any:
    """A dataclass field with a default and the help text the CLI shows; ``low``/``high``
    (inclusive) override the range :data:`BOUNDS` gives the field's name."""
    metadata = {"help": help, **({"bounds": (low, high)} if low is not None or high is not None else {})}
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


#: Inclusive (low, high) ranges by field name; ``>0`` marks "strictly positive".
_AT_LEAST_1 = ("n", "k", "max_tokens", "batch_size", "grad_accum", "members", "rounds", "head_epochs", "log_every",
               "max_length", "max_aspects", "min_aspects", "meta_batch", "max_steps", "threads", "hidden")
_NON_NEGATIVE = ("max_retries", "decimals", "eval_every", "min_oob", "lora_r", "weight_decay", "max_grad_norm",
                 "center_rewards", "contrastive_weight")
_POSITIVE = ("epochs", "lr", "meta_lr", "mix", "contrastive_temperature", "margin_scale")
_FRACTION = ("warmup_ratio", "val_fraction", "dropout", "p_better", "confidence_quantile", "flip_fraction",
             "smooth_fraction", "test_fraction")
BOUNDS: dict[str, tuple[Any, Any]] = {
    **{name: (1, None) for name in _AT_LEAST_1},
    **{name: (0, None) for name in _NON_NEGATIVE},
    **{name: (">0", None) for name in _POSITIVE},
    **{name: (0, 1) for name in _FRACTION},
    "temperature": (0, 2), "label_smoothing": (0, 0.5), "smooth_alpha": (0, 0.5),
}
#: Name endings that share a range (``rewrite_max_tokens``, ``lora_dropout``).
_SUFFIX_BOUNDS = {"_max_tokens": (1, None), "_dropout": (0, 1)}


def _bounds(f: dataclasses.Field) -> tuple[Any, Any] | None:
    if "bounds" in f.metadata:
        return f.metadata["bounds"]
    if f.name in BOUNDS:
        return BOUNDS[f.name]
    return next((b for suffix, b in _SUFFIX_BOUNDS.items() if f.name.endswith(suffix)), None)


def range_problems(config: Any) -> list[str]:
    """Fields of a config dataclass outside their range (see :data:`BOUNDS`).

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Gen:
    ...     max_tokens: int = 5
    ...     temperature: float = 0.7
    >>> range_problems(Gen(max_tokens=-5, temperature=-1))
    ['max_tokens must be at least 1, got -5', 'temperature must lie in [0, 2], got -1']
    """
    problems = []
    for f in dataclasses.fields(config):
        bounds, value = _bounds(f), getattr(config, f.name)
        if bounds is None or not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        low, high = bounds
        if low == ">0" and value <= 0:
            problems.append(f"{f.name} must be > 0, got {value}")
        elif high is not None and low is not None and low != ">0" and not low <= value <= high:
            problems.append(f"{f.name} must lie in [{low:g}, {high:g}], got {value}")
        elif low is not None and low != ">0" and high is None and value < low:
            problems.append(f"{f.name} must be at least {low:g}, got {value}")
        elif high is not None and value > high:
            problems.append(f"{f.name} must be at most {high:g}, got {value}")
    return problems


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
    problems = [] if hasattr(config, "problems") else range_problems(config)  # problems() includes them
    if problems:
        raise ConfigError("; ".join(problems))
    check = getattr(config, "check", None)
    if check is not None:
        check()
    return config
