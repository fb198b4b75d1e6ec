"""``preflab.train_rm``, ``preflab.score`` and ``preflab.evaluate``: train a reward model on
pairs, score pairs with one, measure its accuracy on held-out human pairs.

>>> import preflab
>>> from preflab import PreferencePair, text_prompt
>>> pairs = [PreferencePair(prompt=text_prompt(f"Question {i}?"), chosen=f"A good answer {i}.",
...                         rejected=f"Bad {i}.") for i in range(8)]
>>> rm = preflab.train_rm(pairs, cheap=True, epochs=20, progress=False)   # frozen MiniLM + a head
>>> scored = preflab.score(rm, pairs[:2], progress=False)
>>> scored[0].chosen_score is not None
True
>>> result = preflab.evaluate(rm, pairs, n_boot=50, progress=False)
>>> 0.0 <= result["model"]["accuracy"] <= 1.0
True
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Any, Literal, Optional

from preflab.api.data import Pairs, read_pairs
from preflab.api.options import ExecutorOptions, config_option, fmt_option, overwrite_option, signed
from preflab.api.pair_step import step_result
from preflab.api.preflight import Preflight
from preflab.config import option
from preflab.errors import ConfigError, InputError, Problem
from preflab.rm.config import EmbedHeadConfig, TrainConfig


@dataclasses.dataclass(frozen=True)
class TrainRmOptions:
    """``preflab train-rm``'s own options (besides the recipe's: :class:`~preflab.rm.config.TrainConfig`,
    or with ``cheap`` :class:`~preflab.rm.config.EmbedHeadConfig`)."""

    fmt: str = fmt_option()
    val: str | Path | None = option(None, "Validation pairs (else --val-fraction of the input).", objects=True, reads=True)
    config: Optional[Path] = config_option()
    metrics: Optional[Path] = option(None, "Metrics JSONL (default: OUTPUT_DIR.metrics.jsonl).")
    cheap: bool = option(False, "Train the frozen-embedding head instead of fine-tuning (seconds on CPU): the embed-head "
                         "recipe, with the options it shares (max length, lr, epochs, loss options); others are refused.")
    lenient: bool = option(False, "Train on real data with degenerate rows: pairs with an empty response are kept (an "
                           "empty reply is a real, worse answer), pairs with identical responses are skipped; both are "
                           "counted.")
    overwrite: bool = overwrite_option()


@dataclasses.dataclass(frozen=True)
class ScoreOptions:
    """``preflab score``'s own options (besides the executor's)."""

    out: Optional[Path] = option(None, "Pairs with chosen_score/rejected_score, or rows with 'scores' (and OUT.run.json).",
                                 flag=("--output", "-o"))
    fmt: str = fmt_option()
    batch_size: int = option(16, "Sequences per forward pass.")
    normalize: bool = option(False, "(r - mean)/std with the statistics saved at training.", flag="--normalize/--raw")
    sort: bool = option(True, "Length-sorted batches (much faster on CPU).")
    overwrite: bool = overwrite_option()


@dataclasses.dataclass(frozen=True)
class EvalOptions:
    """``preflab eval``'s options."""

    out: Optional[Path] = option(None, "Where eval.json, reliability.png and run.json go (a folder).",
                                 flag=("--output-dir", "-o"))
    fmt: str = fmt_option()
    batch_size: int = option(16, "Sequences per forward pass.")
    n_boot: int = option(2000, "Bootstrap resamples for the 95% interval.", flag="--bootstrap")
    seed: int = option(0, "Bootstrap seed.")
    benchmark: Optional[Literal["rewardbench", "rewardbench2"]] = option(
        None, "Score as a benchmark, by its own rules: rewardbench (v1: subsets, the four sections, overall) or "
        "rewardbench2 (best-of-N per subset, the Ties score, the six-subset average). Default: sniffed from the "
        "input (hf:allenai/reward-bench[-2], a file of RewardBench subsets, rows whose chosen and rejected are "
        "lists); an explicit --format reads pairs instead.")
    prior_sets: str | Path | None = option(
        None, "RewardBench v1: the prior preference sets too (hf:allenai/pref-test-sets or a local copy), "
        "in the overall score at half the weight of a section.", objects=True)
    split: Optional[str] = option(None, "The split of a hub dataset or datasets folder (default: the benchmark's "
                                  "own, filtered or test; for pairs, train).")
    overwrite: bool = overwrite_option()


def _read(data: Any, fmt: str, degenerate: bool = False, counts: dict | None = None, split: str | None = None) -> Pairs:
    """All pairs of ``data``; ``degenerate`` applies io.DEGENERATE_RULE, counted in ``counts``."""
    from preflab import io

    report = io.ReadReport()
    pairs = read_pairs(data, fmt, degenerate=degenerate, report=report, **({"split": split} if split else {}))
    if counts is not None:
        counts.update(io.degenerate_counts(report))
    if not pairs:
        raise InputError("no preference pairs in the input", path=report.path or io.memory.NAME)
    return pairs


def _scorer(model: Any, batch_size: int, normalize: bool = False, sort: bool = True, executor: Any = None):
    """A scorer from a model folder (loaded here, or on Ray actors with ``executor``), what
    :func:`train_rm` returned, or a scorer object."""
    if isinstance(model, (str, Path)):
        from preflab.rm.on_executor import load_scorer_on

        return load_scorer_on(executor, str(model), batch_size=batch_size, normalize=normalize, sort=sort)
    return getattr(model, "scorer", model)


def _model_name(model: Any) -> Any:
    return model if isinstance(model, (str, Path)) else getattr(model, "path", None) or type(model).__name__


#: Every option a recipe takes: the fine-tuning one's (the CLI's flags) and the embedding head's.
_RECIPE_OPTIONS = tuple(dict.fromkeys(f.name for cls in (TrainConfig, EmbedHeadConfig) for f in dataclasses.fields(cls)))


@signed(TrainRmOptions)
def train_rm(pairs: Any, *, output_dir: str | Path | None = None, progress: bool = True, save_required: bool = False,
             **options: Any):
    """Train a reward model on ``pairs`` and return it (a
    :class:`~preflab.rm.recipes.TrainedScorer`: ``.scorer``, ``.path``, ``.val_accuracy``),
    fine-tuned or, with ``cheap=True``, a head on a frozen encoder. The recipe's options
    (``model``, ``epochs``, ``lr``, ``max_length``, loss options...: ``preflab train-rm --help``)
    are keyword arguments too. ``output_dir`` saves the model with its run.json; every option is
    checked before any training (``save_required``: refuse to train without an output folder,
    given here or in the ``config`` file, as ``preflab train-rm`` does)."""
    from preflab.io.outputs import file_output, folder_output
    from preflab.rm.recipes import train_scorer

    check = Preflight()
    own_names = [f.name for f in dataclasses.fields(TrainRmOptions)]
    known = sorted({*own_names, *_RECIPE_OPTIONS})
    unknown = [name for name in options if name not in known]
    for name in unknown:
        check.add(f"unknown option {name!r}")
    if unknown:
        check.add(f"allowed: {', '.join(known)}")
    parsed = check.options({k: v for k, v in options.items() if k in own_names}, TrainRmOptions, config_file=None)
    own = parsed[TrainRmOptions]
    flags = {k: v for k, v in options.items() if k in _RECIPE_OPTIONS}
    flags["output_dir"] = None if output_dir is None else str(output_dir)
    recipe, output_dir = check.run(_train_recipe, own.config, flags, own.cheap) or (None, None)
    if recipe is not None and not output_dir and save_required:
        check.add(Problem("no output folder: pass {output_dir} DIR (or output_dir in the config file)", ("output_dir",)))
    elif recipe is not None and output_dir:
        outputs = folder_output(output_dir)
        if recipe.recipe == "finetune":
            outputs += file_output(own.metrics or Path(output_dir + ".metrics.jsonl"))
        check.outputs(outputs, [pairs, recipe.options], overwrite=own.overwrite)  # and what the options read
    check.done()
    counts: dict = {}
    train = _read(pairs, own.fmt, own.lenient, counts)
    val = _read(own.val, own.fmt, own.lenient) if own.val is not None else None
    metrics = (own.metrics or Path(output_dir + ".metrics.jsonl")) if output_dir and recipe.recipe == "finetune" else None
    trained = train_scorer(train, recipe, output_dir=output_dir, val_pairs=val, metrics_path=metrics,
                           progress=None if progress else False,
                           inputs={"pairs": pairs, **({"val": own.val} if own.val is not None else {})})
    trained.info.update({"pairs": len(train), "degenerate_rows": counts})
    return trained


def _train_recipe(config: Optional[Path], flags: dict[str, Any], cheap: bool):
    """(recipe, output folder): the options given (config file < keywords; unset ones keep the
    recipe's own defaults, so ``cheap`` honours every option it shares with fine-tuning) as one
    validated :class:`~preflab.rm.config.RecipeConfig`."""
    from preflab.config import load_yaml
    from preflab.rm.config import RecipeConfig

    given = {**(load_yaml(config) if config else {}), **{k: v for k, v in flags.items() if v is not None}}
    output_dir = given.pop("output_dir", None)
    name = given.pop("recipe", None)
    if cheap and name not in (None, "embed-head"):
        raise ConfigError(Problem("{cheap} trains the embed-head recipe; the config file asks for recipe " + repr(name),
                                  ("cheap",)))
    recipe = RecipeConfig.from_dict({"recipe": "embed-head" if cheap else name or "finetune", **given})
    return recipe, None if output_dir is None else str(output_dir)


@signed(ScoreOptions, ExecutorOptions)
def score(model: Any, pairs: Any, *, progress: bool = True, **options: Any):
    """Rewards for pairs (``chosen_score``/``rejected_score``; returns
    :class:`~preflab.api.data.Pairs`), or for rows with a ``prompt`` and a ``responses`` list
    (returns the rows with ``scores``). ``model``: a folder saved by train-rm, what
    :func:`train_rm` returned, or a scorer. Pairs with an empty response are scored; pairs whose
    responses are identical are skipped; both are counted."""
    from preflab.io.outputs import pairs_output
    from preflab.provenance import run_record
    from preflab.rm.scoring import score_pairs_with_progress

    check = Preflight()
    check.scorer("model", model)
    parsed = check.parse(options, ScoreOptions, ExecutorOptions)
    out, overwrite = _output(parsed and parsed[ScoreOptions], options)
    check.outputs([] if out is None else pairs_output(out), [model, pairs], overwrite=overwrite)
    check.done()
    own = parsed[ScoreOptions]
    executor = parsed[ExecutorOptions].to_executor()
    settings = {"batch_size": own.batch_size, "normalize": own.normalize, "sort": own.sort,
                "executor": executor.record()}
    loaded = _scorer(model, own.batch_size, own.normalize, own.sort, executor)
    with closing_scorer(loaded, owned=isinstance(model, (str, Path))) as scorer:
        if hasattr(scorer, "sort_by_length"):
            scorer.sort_by_length = own.sort
        rows = _response_rows(pairs)
        if rows is not None:
            return _score_many(scorer, rows, out, model, pairs, settings, progress)
        counts: dict = {}
        data = _read(pairs, own.fmt, True, counts)
        rewards = score_pairs_with_progress(scorer, data, enabled=progress)
    scored = [p.model_copy(update={"chosen_score": c, "rejected_score": r}) for p, (c, r) in zip(data, rewards)]
    record = run_record("score", {"format": own.fmt, **settings}, inputs=_inputs(model, pairs),
                        counts={"pairs": len(scored), "degenerate_rows": counts}, seed=None)
    return step_result(scored, out, record, degenerate_rows=counts)


def _output(own: Any, options: dict[str, Any]) -> tuple[Any, bool]:
    """(``out``, ``overwrite``) of a call, from its parsed options or, when they had problems,
    from what was given, so that the outputs are checked in the same round."""
    if own is not None:
        return own.out, own.overwrite
    out = options.get("out")
    return (out if isinstance(out, (str, Path)) else None), options.get("overwrite") is True


@contextlib.contextmanager
def closing_scorer(scorer: Any, *, owned: bool):
    """``scorer``, closed on the way out when this call loaded it (Ray actors are released)."""
    try:
        yield scorer
    finally:
        if owned and hasattr(scorer, "close"):
            scorer.close()


def _inputs(model: Any, data: Any) -> dict[str, Any]:
    return {**({"model": model} if isinstance(model, (str, Path)) else {}), "input": data}


def _response_rows(data: Any) -> list[dict] | None:
    """Rows with a ``responses`` list (a JSONL file or rows in memory), else None (pairs)."""
    from preflab.io import containers, memory

    if memory.is_in_memory(data):
        rows = memory.as_rows(data)
        first = next(iter(rows), None)
        return list(rows) if isinstance(first, dict) and "responses" in first else None
    if not Path(data).name.lower().endswith((".jsonl", ".jsonl.gz")):
        return None
    first = next(containers.iter_rows(str(data)), None)
    if first is None or "responses" not in first[1]:
        return None
    return [row for _, row in containers.iter_rows(str(data))]


def _score_many(scorer, rows: list[dict], out, model, data, settings: dict[str, Any], progress: bool) -> list[dict]:
    from preflab.rm.scoring import score_with_progress
    from preflab.io import containers, memory
    from preflab.provenance import run_record, sidecar, write_run_json
    from preflab.records import text_prompt

    where = memory.NAME if memory.is_in_memory(data) else str(data)
    items, spans = [], []
    for i, row in enumerate(rows):
        prompt = row.get("prompt")
        if not isinstance(row.get("responses"), list) or prompt is None:
            raise InputError("expected 'prompt' and a list 'responses'", path=where, line=i + 1)
        msgs = text_prompt(prompt) if isinstance(prompt, str) else _messages(prompt, where, i)
        spans.append((len(items), len(items) + len(row["responses"])))
        items += [(msgs, str(r)) for r in row["responses"]]
    flat = score_with_progress(scorer, items, enabled=progress)
    scored = [{**row, "scores": flat[a:b]} for row, (a, b) in zip(rows, spans)]
    if out is not None:
        containers.write_jsonl(scored, out)
        write_run_json(sidecar(out), run_record("score", settings, inputs=_inputs(model, data),
                                                counts={"prompts": len(rows), "responses": len(items)}, seed=None))
    return scored


def _messages(prompt: Any, path: str, i: int):
    from preflab.records import Message

    try:
        return [Message(**m) for m in prompt]
    except Exception:  # noqa: BLE001 - any malformed message is the same input error
        raise InputError("prompt must be text or a list of {role, content} messages", path=path, line=i + 1) from None


@signed(EvalOptions)
def evaluate(model: Any, pairs: Any, *, progress: bool = True, **options: Any) -> dict[str, Any]:
    """Pairwise accuracy with its 95% interval, per category, on the high-confidence subset,
    calibration, and null baselines (longer response wins, first position wins) on the same
    pairs; what ``eval.json`` holds. ``out`` (a folder) also gets eval.json, reliability.png and
    run.json. Pairs with an empty response are scored; identical ones are skipped; both counted.

    On RewardBench or RewardBench 2 (``benchmark``, or sniffed from the input) it gives the
    benchmark's scores instead: per subset, RewardBench's four sections and overall score
    (``prior_sets`` adds the prior sets), RewardBench 2's best-of-N accuracy, Ties score and
    six-subset average, each beside the null baselines scored by the same rules; ``out`` gets
    eval.json, scores.jsonl (every row's rewards) and run.json."""
    from preflab.evaluation.report import evaluate_pairs, write_report
    from preflab.io.outputs import workdir_output
    from preflab.provenance import run_record, write_run_json
    from preflab.rm.scoring import score_pairs_with_progress

    check = Preflight()
    check.scorer("model", model)
    parsed = check.parse(options, EvalOptions)
    out, overwrite = _output(parsed and parsed[EvalOptions], options)
    own = parsed[EvalOptions] if parsed else None
    check.outputs([] if out is None else workdir_output(out), [model, pairs, own and own.prior_sets],
                  overwrite=overwrite)
    benchmark = check.run(_benchmark_of, pairs, own) if own is not None else None
    check.done()
    if benchmark is not None:
        return _evaluate_benchmark(model, pairs, benchmark, own, out, progress)
    counts: dict = {}
    data = _read(pairs, own.fmt, True, counts, own.split)
    scorer = _scorer(model, own.batch_size)
    result = evaluate_pairs(data, score_pairs_with_progress(scorer, data, enabled=progress), n_boot=own.n_boot,
                            seed=own.seed)
    result["model_path"] = str(_model_name(model))
    result["input"] = str(pairs) if isinstance(pairs, (str, Path)) else "<in memory>"
    result["degenerate_rows"] = counts
    if out is not None:
        result["files"] = write_report(result, out)
        write_run_json(Path(out) / "run.json", run_record(
            "eval", {"format": own.fmt, "batch_size": own.batch_size, "bootstrap": own.n_boot},
            inputs=_inputs(model, pairs), counts={"pairs": len(data), "accuracy": result["model"]["accuracy"]},
            seed=own.seed))
    return result


def _benchmark_of(data: Any, own: EvalOptions) -> str | None:
    """The benchmark to score ``data`` as: the one asked for, else the one its columns show
    (only when the format was left to sniffing); None for pairs. Option clashes are problems."""
    from preflab.evaluation.rewardbench import V1_SUBSETS
    from preflab.io.rewardbench import detect

    problems = []
    if own.benchmark is not None and own.fmt != "auto":
        problems.append(Problem("{benchmark} reads the benchmark's own layout; drop {fmt}", ("benchmark", "fmt")))
    benchmark = own.benchmark
    if benchmark is None and own.fmt == "auto":
        benchmark = detect(data, V1_SUBSETS, own.split)
    if own.prior_sets is not None and benchmark != "rewardbench":
        what = "this input is not RewardBench (v1)" if benchmark is None else f"this input is {benchmark}"
        problems.append(Problem("{prior_sets} belongs to RewardBench (v1); " + what, ("prior_sets",)))
    if problems:
        raise ConfigError(problems)
    return benchmark


def _evaluate_benchmark(model: Any, data: Any, benchmark: str, own: EvalOptions, out: Any,
                        progress: bool) -> dict[str, Any]:
    """``evaluate`` on RewardBench or RewardBench 2: every row read and checked, then scored."""
    from preflab.evaluation.benchmark_report import write_benchmark_report
    from preflab.evaluation.rewardbench import row_results, score_benchmark
    from preflab.io.rewardbench import read_benchmark
    from preflab.provenance import run_record, write_run_json
    from preflab.rm.scoring import score_with_progress

    rows = read_benchmark(data, benchmark, own.split)
    if own.prior_sets is not None:
        rows += read_benchmark(own.prior_sets, benchmark)
    items = [(row.prompt, c) for row in rows for c in row.completions]
    loaded = _scorer(model, own.batch_size)
    with closing_scorer(loaded, owned=isinstance(model, (str, Path))) as scorer:
        flat = score_with_progress(scorer, items, "Scoring completions", enabled=progress)
    rewards, start = [], 0
    for row in rows:
        rewards.append(flat[start:start + len(row.completions)])
        start += len(row.completions)
    result = score_benchmark(benchmark, rows, rewards, n_boot=own.n_boot, seed=own.seed)
    result.update({"score": result["model"]["score"], "model_path": str(_model_name(model)),
                   "input": str(data) if isinstance(data, (str, Path)) else "<in memory>",
                   "prior_sets": None if own.prior_sets is None else str(own.prior_sets), "split": own.split})
    if out is not None:
        result["files"] = write_benchmark_report(result, row_results(benchmark, rows, rewards), out)
        inputs = {**_inputs(model, data), **({"prior_sets": own.prior_sets} if own.prior_sets is not None else {})}
        write_run_json(Path(out) / "run.json", run_record(
            "eval", {"benchmark": benchmark, "split": own.split, "batch_size": own.batch_size,
                     "bootstrap": own.n_boot},
            inputs=inputs, counts={"rows": len(rows), "completions": len(items), "score": result["score"]},
            seed=own.seed))
    return result
