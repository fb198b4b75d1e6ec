"""The bench configuration: one YAML file, validated whole before any compute is spent.

Every problem in the file (unknown keys, wrong types, unknown method names, bad method
options, missing files) is reported at once, one :class:`~preflab.errors.Problem` each, named
by its key path in the file::

    error: bench.yaml: methods.1.options.n: Input should be a valid integer; methods.2.name: unknown method 'rmbost'
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from preflab.errors import ConfigError, Problem


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
    """A generation method with its options, or (``pairs:``) a pairs file made elsewhere: a
    vendor's set, last quarter's synthetic set, a cleaned file, pairs generated on a cluster.
    A file's rows are trained and evaluated like a method's (docs/bench.md#pairs-files)."""

    name: str
    label: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    pairs: str | None = Field(None, description="a pairs file instead of a method; relative to the bench file")
    format: str = "auto"
    column_map: str | dict[str, str] | None = None
    limit: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _pairs_or_method(self) -> "MethodEntry":
        if self.pairs is None:
            given = sorted({"format", "column_map", "limit"} & self.model_fields_set)
            if given:
                raise ValueError(f"{', '.join(given)} only go with pairs: (a pairs file); a method takes options")
        elif self.options:
            raise ValueError("a pairs: entry takes no method options (its pairs are already made)")
        return self

    @property
    def key(self) -> str:
        return self.label or self.name


Ratio = Annotated[float, Field(gt=0)]


class RMRecipe(_Strict):
    recipe: Literal["embed-head", "finetune"] = "embed-head"
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], min_length=1)
    mix: Ratio | list[Ratio] = Field(1.0, description="synthetic pairs per base pair in base+method rows (1.0 = 1:1); "
                                     "a list (0.5, 1, 2, 4) makes one row per ratio and a plot")
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("mix")
    @classmethod
    def _ratios(cls, value: Any) -> Any:
        if isinstance(value, list) and (not value or len(set(value)) != len(value)):
            raise ValueError("give one ratio or a list of distinct ratios")
        return value

    @property
    def ratios(self) -> list[float]:
        """The mix ratios, smallest first."""
        return sorted(self.mix) if isinstance(self.mix, list) else [self.mix]


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
    base_human: bool = Field(False, description="add base+human rows: the human pairs of the generation prompts, as many "
                             "as the largest base+method row adds")
    eval: list[EvalSet] = Field(min_length=1)
    gold_judge_llm: str | None = None
    samples_per_method: int = Field(20, ge=0)
    executor: str | dict[str, Any] | None = Field(None, description="local, ray, or {kind: ray, address, actors, "
                                                  "cpus_per_actor, gpus_per_actor}: where the generator's calls run")

    @field_validator("executor")
    @classmethod
    def _executor(cls, value: Any) -> Any:
        from preflab.executor import Executor

        try:
            Executor.from_config(value)
        except ConfigError as exc:  # reported with the file's other problems
            raise ValueError(str(exc)) from None
        return value

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
        from preflab.io.outputs import safe_file_name

        names = [safe_file_name(k) for k in keys]
        if len(set(names)) != len(names):
            raise ValueError(f"method labels must stay unique as file names ({', '.join(names)}); rename them")
        if not self.has_base and (self.base_human or len(self.rm.ratios) > 1):
            raise ValueError(f"{'base_human' if self.base_human else 'rm.mix with several ratios'} needs labelled base "
                             "data (base or split)")
        if self.base_human and "human" in keys:
            raise ValueError("base_human adds the row base+human; give the method labelled human another label")
        return self

    @property
    def has_base(self) -> bool:
        return self.base is not None or self.split is not None


def _method_problems(methods: Any, scorer: Any, has_base: bool) -> list[str]:
    """Method names and options checked against the registry (each method's own config,
    option ranges included). Works on the raw file data, so it runs even when other parts of
    the file are wrong and every problem is reported in one round."""
    from preflab.config import parse
    from preflab.methods import methods as registry

    known = registry()
    problems = []
    for i, entry in enumerate(methods if isinstance(methods, list) else []):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or entry.get("pairs") is not None:
            continue  # the schema check reports it; a pairs file names no method
        method = known.get(entry["name"])
        if method is None:
            problems.append(f"methods.{i}.name: unknown method {entry['name']!r} (known: {', '.join(sorted(known))})")
            continue
        options = entry.get("options") or {}
        try:
            method_cfg = parse(options if isinstance(options, dict) else {}, method.config, defaults=method.defaults)[method.config]
        except ConfigError as exc:
            problems.append(f"methods.{i}.options: {exc}")
            continue
        needs = method.needs_for(method_cfg)
        if "scorer" in needs and scorer is None:
            problems.append(f"methods.{i}: {entry['name']} needs a scorer; set scorer: base-embed-head "
                            "(trained on the base data) or a reward-model folder")
    if scorer == "base-embed-head" and not has_base:
        problems.append("scorer: base-embed-head needs labelled base data (base or split)")
    return problems


def rm_recipe_config(recipe: str, options: dict[str, Any]):
    """The validated :class:`~preflab.rm.config.RecipeConfig` of a bench file's ``rm`` block:
    unknown options, options the recipe cannot honour, wrong types and out-of-range values are
    one :class:`ConfigError` before any compute. The one place a bench turns its ``rm`` block
    into a recipe; :func:`preflab.rm.recipes.train_scorer` trains it with each row's seed."""
    from preflab.rm.config import RecipeConfig

    return RecipeConfig.from_dict({"recipe": recipe, **options})


def _rm_problems(rm: Any) -> list[str]:
    if not isinstance(rm, dict):
        return []
    recipe, options = rm.get("recipe", "embed-head"), rm.get("options") or {}
    if recipe not in ("embed-head", "finetune") or not isinstance(options, dict):
        return []  # the schema check reports it
    from preflab.rm.config import recipe_problems

    return [f"rm.options ({recipe} recipe): {problem.render()}" for problem in recipe_problems({"recipe": recipe, **options})]


def _spec_problems(data: dict[str, Any]) -> list[str]:
    """Every LLM spec in the file, checked without loading a model."""
    from preflab.llm.checks import spec_problem

    problems = []
    methods = data.get("methods") if isinstance(data.get("methods"), list) else []
    generates = any(not isinstance(m, dict) or m.get("pairs") is None for m in methods) or not methods
    for key in ("llm", "judge_llm", "gold_judge_llm"):
        # a bench of pairs files only opens no generator: its default spec needs no model file
        spec = data.get(key, "llamacpp" if key == "llm" and generates else None)
        if isinstance(spec, (str, dict)):
            problem = spec_problem(spec)
            if problem:
                problems.append(f"{key}: {problem}")
    return problems


def _file_problems(data: dict[str, Any], root: Path) -> list[str]:
    problems = []
    sources = [(key, data.get(key)) for key in ("prompts", "base", "split")]
    evals = data.get("eval") if isinstance(data.get("eval"), list) else []
    sources += [(f"eval.{i}", e) for i, e in enumerate(evals)]
    methods = data.get("methods") if isinstance(data.get("methods"), list) else []
    sources += [(f"methods.{i}", {"pairs": m["pairs"]}) for i, m in enumerate(methods)
                if isinstance(m, dict) and isinstance(m.get("pairs"), str)]
    for where, source in sources:
        if not isinstance(source, dict):
            continue
        key = "pairs" if "pairs" in source else "path"
        if not isinstance(source.get(key), str):
            continue
        path = resolve_path(source[key], root)
        if not source[key].startswith("hf:") and not path.exists():
            problems.append(f"{where}.{key}: {path} does not exist")
    return problems


def input_paths(cfg: BenchConfig, root: Path) -> list[Path]:
    """Every local file or folder a bench reads (the run folder must hold none of them)."""
    sources = [cfg.prompts, cfg.base, cfg.split, *cfg.eval]
    paths = [resolve_path(s.path, root) for s in sources if s is not None and getattr(s, "path", None)]
    paths += [resolve_path(m.pairs, root) for m in cfg.methods if m.pairs]
    if cfg.scorer and cfg.scorer != "base-embed-head":
        paths.append(resolve_path(cfg.scorer, root))
    from preflab.config import read_paths
    from preflab.llm.spec import spec_paths

    recipe = rm_recipe_config(cfg.rm.recipe, cfg.rm.options).options
    paths += [Path(p) for p in read_paths(recipe) if Path(p).exists()]  # a backbone folder (an alias is none)
    paths += [Path(p) for spec in (cfg.llm, cfg.judge_llm, cfg.gold_judge_llm) for p in spec_paths(spec)]
    return [p for p in paths if not str(p).startswith("hf:")]


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
        from preflab.config import read_yaml

        data = read_yaml(path, "bench file") or {}
    problems: list[str] = []
    try:
        cfg = BenchConfig.model_validate(data)
    except ValidationError as exc:
        cfg = None
        problems = [f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
    if isinstance(data, dict):
        has_base = bool(data.get("base") or data.get("split"))
        problems += _method_problems(data.get("methods"), data.get("scorer"), has_base)
        problems += _rm_problems(data.get("rm")) + _spec_problems(data) + _file_problems(data, root)
    if problems:  # one Problem per key path; the keys are no command options, so nothing to rename
        raise ConfigError([Problem(problem) for problem in problems], where)
    return cfg, root
