"""The bench configuration: one YAML file, validated whole before any compute is spent.

Every problem in the file (unknown keys, wrong types, unknown method names, bad method
options, missing files) is reported at once, with its place in the file::

    error: bench.yaml: methods.1.options.n: Input should be a valid integer; methods.2.name: unknown method 'rmbost'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from preflab.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSource(_Strict):
    path: str
    format: str = "auto"
    limit: int | None = Field(None, ge=1)


class SplitSource(_Strict):
    """One labelled human set cut into: a labelled base (West-of-N's "HF50%"), unlabelled
    prompts for generation, and a held-out evaluation part — all by prompt, seeded."""

    path: str
    format: str = "auto"
    base_fraction: float = Field(0.5, gt=0, lt=1)
    eval_fraction: float = Field(0.2, gt=0, lt=1)
    seed: int = 0

    @model_validator(mode="after")
    def _fractions(self) -> "SplitSource":
        if self.base_fraction + self.eval_fraction >= 1:
            raise ValueError("base_fraction + eval_fraction must leave room for the prompts (< 1)")
        return self


class MethodEntry(_Strict):
    name: str
    label: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.label or self.name


class RMRecipe(_Strict):
    recipe: Literal["embed-head", "finetune"] = "embed-head"
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], min_length=1)
    mix: float = Field(1.0, gt=0, description="synthetic pairs per base pair in base+method rows (1.0 = 1:1)")
    options: dict[str, Any] = Field(default_factory=dict)


class EvalSet(_Strict):
    name: str
    path: str | None = None
    format: str = "auto"
    limit: int | None = Field(None, ge=1)
    from_split: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> "EvalSet":
        if (self.path is None) == (not self.from_split):
            raise ValueError("give either path or from_split: true")
        return self


class BenchConfig(_Strict):
    name: str = "bench"
    seed: int = 0
    llm: str = "llamacpp"
    judge_llm: str | None = None
    prompts: DataSource | None = None
    base: DataSource | None = None
    split: SplitSource | None = None
    budget_prompts: int = Field(20, ge=1, description="prompts per method, the same for every method")
    in_flight: int = Field(8, ge=1)
    methods: list[MethodEntry] = Field(min_length=1)
    scorer: Literal["base-embed-head"] | str | None = None
    rm: RMRecipe = Field(default_factory=RMRecipe)
    eval: list[EvalSet] = Field(min_length=1)
    gold_judge_llm: str | None = None
    samples_per_method: int = Field(20, ge=0)

    @model_validator(mode="after")
    def _sources(self) -> "BenchConfig":
        if self.split is None and self.prompts is None:
            raise ValueError("give prompts (and optionally base), or split")
        if self.split is not None and (self.prompts is not None or self.base is not None):
            raise ValueError("split makes the base and the prompts; do not also give prompts or base")
        if any(e.from_split for e in self.eval) and self.split is None:
            raise ValueError("an eval set uses from_split but there is no split")
        keys = [m.key for m in self.methods]
        if len(set(keys)) != len(keys):
            raise ValueError(f"method labels must be unique, got {keys}")
        return self

    @property
    def has_base(self) -> bool:
        return self.base is not None or self.split is not None


def _method_problems(cfg: BenchConfig) -> list[str]:
    """Method names and options checked against the registry (each method's own config)."""
    from preflab.config import resolve
    from preflab.methods import methods

    known = methods()
    problems = []
    for i, entry in enumerate(cfg.methods):
        method = known.get(entry.name)
        if method is None:
            problems.append(f"methods.{i}.name: unknown method {entry.name!r} (known: {', '.join(sorted(known))})")
            continue
        try:
            method_cfg = resolve(method.config, None, entry.options, defaults=method.defaults)
        except ConfigError as exc:
            problems.append(f"methods.{i}.options: {exc}")
            continue
        needs = method.needs_for(method_cfg)
        if "scorer" in needs and cfg.scorer is None:
            problems.append(f"methods.{i}: {entry.name} needs a scorer; set scorer: base-embed-head "
                            "(trained on the base data) or a reward-model folder")
    if cfg.scorer == "base-embed-head" and not cfg.has_base:
        problems.append("scorer: base-embed-head needs labelled base data (base or split)")
    return problems


def _rm_problems(cfg: BenchConfig) -> list[str]:
    """RM options checked against the recipe's own config fields."""
    import dataclasses

    if cfg.rm.recipe == "embed-head":
        from preflab.rm.embed_head import EmbedHeadConfig as recipe_config
    else:
        from preflab.rm.config import TrainConfig as recipe_config
    known = {f.name for f in dataclasses.fields(recipe_config)} - {"seed", "output_dir"}
    return [f"rm.options.{key}: unknown option of the {cfg.rm.recipe} recipe (known: {', '.join(sorted(known))})"
            for key in cfg.rm.options if key not in known]


def _file_problems(cfg: BenchConfig, root: Path) -> list[str]:
    problems = []
    sources = [("prompts", cfg.prompts), ("base", cfg.base), ("split", cfg.split)]
    sources += [(f"eval.{i}", e) for i, e in enumerate(cfg.eval) if e.path]
    for where, source in sources:
        if source is None:
            continue
        path = resolve_path(source.path, root)
        if not str(source.path).startswith("hf:") and not path.exists():
            problems.append(f"{where}.path: {path} does not exist")
    return problems


def resolve_path(path: str, root: Path) -> Path:
    """Paths in a bench file are relative to the file's folder."""
    p = Path(path).expanduser()
    return p if p.is_absolute() or str(path).startswith("hf:") else (root / p)


def load_bench_config(path: str | Path | None = None, data: dict[str, Any] | None = None) -> tuple[BenchConfig, Path]:
    """Parse and validate a bench file (or a dict); returns the config and the folder its
    relative paths are resolved against."""
    root = Path(path).resolve().parent if path else Path.cwd()
    where = str(path) if path else "<bench config>"
    if data is None:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ConfigError(f"{where}: file not found") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{where}: not valid YAML ({exc})") from None
    try:
        cfg = BenchConfig.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
        raise ConfigError(f"{where}: " + "; ".join(problems)) from None
    problems = _method_problems(cfg) + _rm_problems(cfg) + _file_problems(cfg, root)
    if problems:
        raise ConfigError(f"{where}: " + "; ".join(problems))
    return cfg, root
