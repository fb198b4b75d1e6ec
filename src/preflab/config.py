"""Options are declared once, on dataclasses, and parsed by one function (docs/architecture.md#options).

Every command's and every method's options are a dataclass whose fields are made by
:func:`option`: the field's name is the Python keyword (and, with dashes, the CLI flag unless
``flag`` says otherwise), and it carries the default, the help text and the range. The Python
functions take these fields as keyword arguments; the CLI's one adapter turns the same fields
into flags; a YAML file given as ``config`` uses the same keys. :func:`parse` is the one parser:
dataclass defaults < a named setting (a method's own defaults) < the YAML file < the values
given, and every problem (unknown names, wrong types, values out of range, a class's own rules
from its ``problems()``) is reported at once, as :class:`~preflab.errors.Problem` s that name
the options, before any compute is spent.

Ranges come from the field (``low``, ``high``, ``above``: inclusive, inclusive, exclusive) or,
when the field states none, from its name (:data:`BOUNDS`), so that every config, a bench's
nested method and RM options included, gets the same ranges without repeating them.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Demo:
...     seed: int = option(0, "Random seed.")
...     limit: int | None = option(None, "Use only the first N.", low=1)
>>> parse({"seed": 3}, Demo)[Demo].seed
3
>>> parse({"limit": 0}, Demo)  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
preflab.errors.ConfigError: limit must be at least 1, got 0
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar

from preflab.errors import ConfigError, Problem, about

T = TypeVar("T")


def option(default: Any, help: str, *, low: float | None = None, high: float | None = None,
           above: float | None = None, unbounded: bool = False, flag: str | Sequence[str] | None = None,
           objects: bool = False, reads: bool | Callable[[Any], Iterable[Any]] = False, nonfinite: bool = False) -> Any:
    """A dataclass field: its default, help text and range, and how the CLI spells it.

    ``low``/``high`` are inclusive bounds, ``above`` an exclusive lower bound; without any, the
    field's name picks the range (:data:`BOUNDS`) unless ``unbounded`` (the class's own
    ``problems()`` checks it). ``flag``: the CLI declaration(s) when not ``--field-name``
    (``"--bootstrap"``, ``("--format", "-f")``, ``"--normalize/--raw"``). ``objects``: a Python
    caller may pass an object (an opened LLM, a scorer) where the CLI takes a path or a spec.
    ``reads``: the value names a file or folder the command reads (a model, a data set, a
    YAML file), so the output guard refuses to write over it (:func:`read_paths`); a function
    instead of ``True`` finds the paths in a value that is more than a path (an LLM spec).
    A float is finite unless ``nonfinite`` (NaN passes every comparison with a bound, and an
    infinite value none: either would slip past a range into the run)."""
    metadata: dict[str, Any] = {"help": help, "objects": objects, "nonfinite": nonfinite}
    if reads:
        metadata["reads"] = reads
    if flag is not None:
        metadata["flag"] = (flag,) if isinstance(flag, str) else tuple(flag)
    if unbounded:
        metadata["bounds"] = None
    elif low is not None or high is not None or above is not None:
        metadata["bounds"] = (above if above is not None else low, high, above is not None)
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


#: Ranges by field name: (low, high, low is exclusive).
_AT_LEAST_1 = ("n", "k", "max_tokens", "batch_size", "grad_accum", "members", "rounds", "head_epochs", "log_every",
               "max_length", "max_aspects", "min_aspects", "meta_batch", "max_steps", "threads", "hidden", "limit",
               "in_flight", "max_tokens_budget", "n_boot", "page_size")
_NON_NEGATIVE = ("max_retries", "decimals", "eval_every", "min_oob", "lora_r", "weight_decay", "max_grad_norm",
                 "center_rewards", "contrastive_weight")
_POSITIVE = ("epochs", "lr", "meta_lr", "mix", "contrastive_temperature", "margin_scale", "max_cost")
_FRACTION = ("warmup_ratio", "val_fraction", "dropout", "p_better", "confidence_quantile", "flip_fraction",
             "smooth_fraction", "test_fraction")
BOUNDS: dict[str, tuple[Any, Any, bool]] = {
    **{name: (1, None, False) for name in _AT_LEAST_1},
    **{name: (0, None, False) for name in _NON_NEGATIVE},
    **{name: (0, None, True) for name in _POSITIVE},
    **{name: (0, 1, False) for name in _FRACTION},
    "temperature": (0, 2, False), "label_smoothing": (0, 0.5, False), "smooth_alpha": (0, 0.5, False),
}
#: Name endings that share a range (``rewrite_max_tokens``, ``lora_dropout``).
_SUFFIX_BOUNDS = {"_max_tokens": (1, None, False), "_dropout": (0, 1, False)}


def bounds_of(f: dataclasses.Field) -> tuple[Any, Any, bool] | None:
    if "bounds" in f.metadata:
        return f.metadata["bounds"]
    if f.name in BOUNDS:
        return BOUNDS[f.name]
    return next((b for suffix, b in _SUFFIX_BOUNDS.items() if f.name.endswith(suffix)), None)


def range_problem(name: str, value: Any, bounds: tuple[Any, Any, bool] | None) -> Problem | None:
    """The problem of ``value`` outside ``bounds`` (None when it lies inside, or is no number).

    >>> range_problem("temperature", -1, (0, 2, False)).render()
    'temperature must lie in [0, 2], got -1'
    """
    if bounds is None or not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    low, high, exclusive = bounds
    if exclusive and value <= low:
        return about(name, f"must be > {low:g}, got {value}")
    if not exclusive and low is not None and high is not None and not low <= value <= high:
        return about(name, f"must lie in [{low:g}, {high:g}], got {value}")
    if not exclusive and low is not None and value < low:
        return about(name, f"must be at least {low:g}, got {value}")
    if high is not None and value > high:
        return about(name, f"must be at most {high:g}, got {value}")
    if value != value:  # NaN lies in no range
        return about(name, "must be a number, got nan")
    return None


def finite_problem(name: str, value: Any) -> Problem | None:
    """The problem of a float that is NaN or infinite (None for any other value).

    >>> finite_problem("scale_min", float("nan")).render()
    'scale_min must be a finite number, got nan'
    """
    if isinstance(value, float) and not math.isfinite(value):
        return about(name, f"must be a finite number, got {value}")
    return None


def range_problems(config: Any) -> list[Problem]:
    """Fields of a config dataclass outside their range, or NaN or infinite where the field
    does not say it takes them (``option(..., nonfinite=True)``).

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Gen:
    ...     max_tokens: int = 5
    ...     temperature: float = 0.7
    >>> [p.render() for p in range_problems(Gen(max_tokens=-5, temperature=-1))]
    ['max_tokens must be at least 1, got -5', 'temperature must lie in [0, 2], got -1']
    """
    found = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        problem = None if f.metadata.get("nonfinite") else finite_problem(f.name, value)
        found.append(problem or range_problem(f.name, value, bounds_of(f)))
    return [p for p in found if p is not None]


def problems_of(config: Any) -> list[Problem]:
    """Every problem of a built config: its fields' ranges, then its class's own rules
    (``problems()``, which returns :class:`~preflab.errors.Problem` s)."""
    own = getattr(config, "problems", None)
    return range_problems(config) + (list(own()) if own is not None else [])


def problems_raised(*checks: Callable[[], Any]) -> list[Problem]:
    """The problems of the checks that raise :class:`ConfigError` (a lookup of a named domain
    or template), gathered instead of raised, for a class's ``problems()``."""
    found: list[Problem] = []
    for check in checks:
        try:
            check()
        except ConfigError as exc:
            found += exc.problems
    return found


def validate(config: T, where: str | None = None) -> T:
    """``config`` itself, or one :class:`ConfigError` naming every problem."""
    problems = problems_of(config)
    if problems:
        raise ConfigError(problems, where)
    return config


def help_of(cls: type, name: str) -> str:
    return field_of(cls, name).metadata.get("help", "")


def field_of(cls: type, name: str) -> dataclasses.Field:
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f
    raise KeyError(f"{cls.__name__} has no field {name!r}")


def read_paths(config: Any) -> list[str | os.PathLike]:
    """The paths an options instance reads: the values of its fields declared with
    ``option(..., reads=...)`` (docs/architecture.md#checks-before-work). Declared on the
    field, so a command cannot forget to protect one of its inputs from its outputs.

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Train:
    ...     model: str = option("minilm", "Backbone.", reads=True)
    ...     output_dir: str = option("rm", "Where it goes.")
    >>> read_paths(Train(model="ft1"))
    ['ft1']
    """
    found: list[str | os.PathLike] = []
    for f in dataclasses.fields(config):
        reads = f.metadata.get("reads")
        value = getattr(config, f.name)
        if not reads or value is None:
            continue
        values = reads(value) if callable(reads) else [value]
        found += [v for v in values if isinstance(v, (str, os.PathLike)) and str(v)]
    return found


def default_of(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return None


def read_yaml(path: str | Path, what: str = "file") -> Any:
    """The data in a YAML file preflab reads (a ``config`` file, a bench file, a price table),
    or one :class:`ConfigError` of one line: a missing file, a syntax error named by
    ``FILE:LINE:COLUMN``, or a key given twice in one mapping (YAML keeps the last silently,
    so ``name: a`` then ``name: b`` would run something the user did not ask for)."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the {what} ({exc})") from None
    try:
        return yaml.load(text, Loader=_loader(str(path)))  # noqa: S506 - a safe loader, see _loader
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(_yaml_problem(path, exc)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None


def _yaml_problem(path: Path, exc: Any) -> str:
    """``FILE:LINE:COL: not valid YAML: PROBLEM (CONTEXT at line L, column C)``, one line."""
    mark = exc.problem_mark or exc.context_mark
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    problem = " ".join(str(exc.problem or exc.context or "syntax error").split())
    context = ""
    if exc.context and exc.problem:
        at = exc.context_mark
        context = f" ({' '.join(exc.context.split())}" + (f" that starts at line {at.line + 1}, column {at.column + 1}"
                                                          if at is not None else "") + ")"
    return f"{where}: not valid YAML: {problem}{context}"


def _loader(name: str) -> type:
    """PyYAML's safe loader (no Python objects) refusing a key given twice in one mapping."""
    import yaml

    class Loader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, yaml.MappingNode):
                seen: dict[Any, Any] = {}
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue  # '<<: *base' then an explicit key overrides the merged one on purpose
                    key = self.construct_object(key_node, deep=True)
                    try:
                        first = seen.setdefault(key, key_node.start_mark)
                    except TypeError:  # an unhashable key: the constructor reports it
                        continue
                    if first is not key_node.start_mark:
                        mark = key_node.start_mark
                        raise ConfigError(f"{name}:{mark.line + 1}:{mark.column + 1}: key {key!r} is given twice in "
                                          f"one mapping (first at line {first.line + 1}); keep one")
            return super().construct_mapping(node, deep=deep)

    return Loader


def load_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML options file, keys with dashes read as underscores."""
    path = Path(path)
    data = read_yaml(path, "config file") or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of option names to values")
    options: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name in options:
            raise ConfigError(f"{path}: {name!r} is given twice (as {name!r} and {name.replace('_', '-')!r}); keep one")
        options[name] = value
    return options


def _union_args(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def type_problem(name: str, value: Any, hint: Any) -> Problem | None:
    """Whether ``value`` fits the type hint ``hint`` (a path also takes a string)."""
    for kind in _union_args(hint):
        if kind is Any or (kind is type(None) and value is None):
            return None
        if typing.get_origin(kind) is typing.Literal:
            if value in typing.get_args(kind):
                return None
            continue
        base = typing.get_origin(kind) or kind
        if base is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return None
        if isinstance(base, type) and issubclass(base, Path) and isinstance(value, str):
            return None
        if isinstance(base, type) and isinstance(value, base) and not (base is int and isinstance(value, bool)):
            return None
    choices = [c for k in _union_args(hint) if typing.get_origin(k) is typing.Literal for c in typing.get_args(k)]
    if choices and all(typing.get_origin(k) is typing.Literal or k is type(None) for k in _union_args(hint)):
        return about(name, f"must be one of {', '.join(map(str, choices))}, got {value!r}")
    shown = " or ".join(getattr(k, "__name__", str(k)).replace("NoneType", "None") for k in _union_args(hint))
    return Problem("{" + name + "}" + f": {value!r} is not a valid {shown}", (name,))


def _coerced(value: Any, hint: Any) -> Any:
    """An int where the field is a float becomes a float (YAML writes ``1`` for 1.0)."""
    kinds = _union_args(hint)
    if isinstance(value, int) and not isinstance(value, bool) and float in kinds and int not in kinds:
        return float(value)
    return value


def parse(given: Mapping[str, Any], *classes: type, where: str | None = None, config_file: str | Path | None = None,
          defaults: Mapping[str, Any] | None = None, elsewhere: Mapping[str, Sequence[str]] | None = None
          ) -> dict[type, Any]:
    """Build one instance of each of ``classes`` from the values ``given`` (by field name),
    over ``defaults`` and the YAML ``config_file``; a value of None means "not given".
    ``elsewhere`` maps an option that is not one of these classes' to the places it belongs
    (another method), for a better message. Raises one :class:`ConfigError` with every problem."""
    fields = {f.name: (cls, f) for cls in reversed(classes) for f in dataclasses.fields(cls)}
    hints = {cls: typing.get_type_hints(cls) for cls in classes}
    values: dict[str, Any] = {k: v for k, v in (defaults or {}).items() if k in fields}
    problems: list[Problem] = []
    if config_file is not None:
        from_file = load_yaml(config_file)
        problems += [Problem(f"{config_file}: unknown option {k!r}") for k in from_file if k not in fields]
        values.update({k: v for k, v in from_file.items() if k in fields})
    for name, value in given.items():
        if name in fields:
            if value is not None:
                values[name] = value
        elif (elsewhere or {}).get(name):
            problems.append(Problem(f"option {name!r} belongs to {', '.join(elsewhere[name])}, not to this call"))
        else:
            problems.append(Problem(f"unknown option {name!r}"))
    if any(p.text.startswith(("unknown option", "option ")) for p in problems):
        problems.append(Problem(f"allowed: {', '.join(sorted(fields))}"))
    built: dict[type, dict[str, Any]] = {cls: {} for cls in classes}
    for name, value in values.items():
        cls, f = fields[name]
        value = _coerced(value, hints[cls][name])
        if f.metadata.get("objects") and not isinstance(value, (str, int, float, bool, Path)):
            problem = None  # an object the caller opened: used as it is
        else:
            problem = type_problem(name, value, hints[cls][name])
        if problem:
            problems.append(problem)
        else:
            built[cls][name] = value
    # the well-typed values are built and checked too, so that every problem shows at once
    configs = {cls: cls(**built[cls]) for cls in classes}
    problems += [p for config in configs.values() for p in problems_of(config)]
    if problems:
        raise ConfigError(problems, where)
    return configs
