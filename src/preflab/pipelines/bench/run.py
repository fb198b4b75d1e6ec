"""Run a bench: data → (scorer) → generate per method → train RMs per row and seed →
evaluate on every set and the null baselines → results.json, results.md, results.png.

Rows: ``base-only`` and ``base+METHOD`` when labelled base data is given (West-of-N's
HF50% setting), else ``METHOD`` alone; a METHOD may be a pairs file made elsewhere
(:mod:`~preflab.pipelines.bench.pairs_files`), and ``base+human`` adds as much human data
(:mod:`~preflab.pipelines.bench.rows`). Every row is trained with the same RM recipe and
seeds and evaluated on the same sets. Each step is cached by fingerprint
(:mod:`preflab.pipelines.bench.steps`), so a rerun redoes only what changed or never finished.
"""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from preflab import io
from preflab.pipelines.bench.config import BenchConfig, resolve_path
from preflab.pipelines.bench.data import human_pool, labelled_prompt_pairs, split_parts
from preflab.pipelines.bench.pairs_files import pairs_step
from preflab.pipelines.bench.rows import build_rows
from preflab.pipelines.bench.steps import Steps
from preflab.provenance import file_fingerprint, run_record, write_run_json
from preflab.records import PreferencePair, prompt_id

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


class JudgeLLMs:
    """The LLMs a bench asks besides its generator (``judge_llm``, ``gold_judge_llm``): each
    opened once, when a step first needs it (a reused step loads no model), the way the
    generator is opened (on the bench's executor, with the run's call cache), and closed with
    the generator when the generation steps are done."""

    def __init__(self, executor: Any, cache: Path) -> None:
        self.executor, self.cache = executor, cache
        self.opened: dict[str, Any] = {}
        self._closing = ExitStack()

    def get(self, spec: str):
        from preflab.llm.on_executor import open_llm_on

        if spec not in self.opened:
            llm = open_llm_on(self.executor, spec, cache=self.cache)
            self._closing.callback(llm.close)
            self.opened[spec] = llm
        return self.opened[spec]

    def __enter__(self) -> "JudgeLLMs":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.opened = {}
        self._closing.close()


@dataclass
class BenchState:
    cfg: BenchConfig
    root: Path
    run_dir: Path
    steps: Steps
    say: Progress
    judges: JudgeLLMs
    data: dict[str, Any] = field(default_factory=dict)


# -- data --------------------------------------------------------------------------------
def _source_fp(state: BenchState, source) -> dict[str, Any]:
    path = resolve_path(source.path, state.root)
    return {"fp": file_fingerprint(path) if path.exists() else str(path), **source.model_dump(exclude={"path"})}


def _data_step(state: BenchState) -> dict[str, Any]:
    cfg = state.cfg
    payload = {"seed": cfg.seed,
               "split": _source_fp(state, cfg.split) if cfg.split else None,
               "prompts": _source_fp(state, cfg.prompts) if cfg.prompts else None,
               "base": _source_fp(state, cfg.base) if cfg.base else None,
               "eval": [_source_fp(state, e) if e.path else e.model_dump() for e in cfg.eval]}

    def work(folder: Path) -> dict[str, Any]:
        counts: dict[str, Any] = {}
        held_out: list[PreferencePair] = []
        if cfg.split:
            base, for_prompts, held_out, read = split_parts(cfg.split, state.root)
            io.write_pairs(base, folder / "base.jsonl")
            counts["prompts"] = io.write_prompts(io.prompts_of(for_prompts), folder / "prompts.jsonl")
            counts.update(base=len(base), held_out=len(held_out), split_source=read)
        else:
            prompts = list(io.read_prompts(resolve_path(cfg.prompts.path, state.root)))[: cfg.prompts.limit]
            counts["prompts"] = io.write_prompts(prompts, folder / "prompts.jsonl")
            if cfg.base:
                base = list(io.read_pairs(resolve_path(cfg.base.path, state.root), cfg.base.format))[: cfg.base.limit]
                counts["base"] = io.write_pairs(base, folder / "base.jsonl")
        for ev in cfg.eval:
            pairs = held_out if ev.from_split else list(io.read_pairs(resolve_path(ev.path, state.root), ev.format))
            counts[f"eval:{ev.name}"] = io.write_pairs(pairs[: ev.limit], folder / f"eval_{ev.name}.jsonl")
        return {"counts": counts}

    folder, info = state.steps.run("data", 1, payload, work)
    state.say(f"data: {info['counts']}")
    return {"folder": folder, **info}


# -- reward models -----------------------------------------------------------------------
def _train_rm(state: BenchState, pairs: list[PreferencePair], seed: int, out: Path) -> str:
    from preflab.pipelines.bench.config import rm_recipe_config
    from preflab.rm.recipes import train_scorer

    recipe = rm_recipe_config(state.cfg.rm.recipe, state.cfg.rm.options)
    return train_scorer(pairs, recipe, seed, output_dir=out / "model", cache_dir=state.run_dir / "embeddings", progress=False).path


def _scorer_step(state: BenchState, data: dict[str, Any]):
    from preflab.rm.loading import load_scorer

    if state.cfg.scorer is None:
        return None, None
    if state.cfg.scorer != "base-embed-head":
        path = resolve_path(state.cfg.scorer, state.root)
        return load_scorer(str(path)), {"path": str(path), "fp": file_fingerprint(path)}

    def work(folder: Path) -> dict[str, Any]:
        pairs = list(io.read_pairs(data["folder"] / "base.jsonl"))
        from preflab.rm.recipes import train_scorer

        train_scorer(pairs, {"recipe": "embed-head"}, state.cfg.seed, output_dir=folder / "model", cache_dir=state.run_dir / "embeddings")
        return {"pairs": len(pairs)}

    folder, info = state.steps.run("scorer", 1, {"data": data["fingerprint"], "seed": state.cfg.seed}, work)
    return load_scorer(str(folder / "model")), {"fp": info["fingerprint"]}


# -- generation --------------------------------------------------------------------------
def _generate_step(state: BenchState, data: dict[str, Any], entry, scorer, scorer_fp, llm) -> dict[str, Any]:
    from preflab.config import parse
    from preflab.pipelines.generation import failure_reasons, run_generation
    from preflab.methods import get_method
    from preflab.methods.context import Lazy

    method = get_method(entry.name)
    method_cfg = parse(entry.options, method.config, defaults=method.defaults)[method.config]
    cfg = state.cfg
    payload = {"data": data["fingerprint"], "method": entry.name, "config": asdict(method_cfg), "llm": [llm.kind, llm.model_id],
               "judge": cfg.judge_llm, "seed": cfg.seed, "budget": cfg.budget_prompts, "scorer": scorer_fp}

    def work(folder: Path) -> dict[str, Any]:
        from preflab.llm.usage import Usage

        view = llm.with_method(entry.key)
        view.usage = Usage()  # this method's own tokens, judge calls included
        started = time.perf_counter()
        result = run_generation(data["folder"] / "prompts.jsonl", folder / "pairs.jsonl", method, method_cfg, view,
                                seed=cfg.seed, scorer=scorer, judge=Lazy(lambda: _judge(state, view)),
                                limit=cfg.budget_prompts, in_flight=cfg.in_flight)
        usage = result.run["usage"]["total"]
        return {"pairs": len(result.pairs), "prompts": result.counts["prompts"], "failures": failure_reasons(result.counts),
                "tokens_in": usage.get("prompt_tokens", 0), "tokens_out": usage.get("completion_tokens", 0),
                "tokens_cached": usage.get("cached_tokens", 0), "wall_s": time.perf_counter() - started,
                "length": result.run["length"]}

    state.say(f"generate: {entry.key}")
    # v2: cached tokens counted; v3: the method's post-filters applied (West-of-N's confidence_quantile);
    # v4: keyed on the resolved method config, so a changed default (a template version) regenerates
    folder, info = state.steps.run(f"generate-{entry.key}", 4, payload, work, resumable=True)
    state.say(f"generate: {entry.key}: {info['pairs']} pairs from {info['prompts']} prompts")
    return {"folder": folder, **info}


def _judge(state: BenchState, generator):
    """The bench's pairwise judge: ``judge_llm`` when set, else the generator itself."""
    from preflab.judges import PairwiseJudge

    cfg = state.cfg
    return PairwiseJudge(state.judges.get(cfg.judge_llm) if cfg.judge_llm else generator)


def _gold_agreement(state: BenchState, gen: dict[str, Any]) -> dict[str, Any] | None:
    """Synthetic-label accuracy: how often a stronger (gold) judge agrees with the label."""
    if not state.cfg.gold_judge_llm:
        return None
    from preflab.judges import PairwiseJudge
    from preflab.judges.agreement import agreement_summary, judge_pairs

    def work(folder: Path) -> dict[str, Any]:
        gold = state.judges.get(state.cfg.gold_judge_llm)
        rows = judge_pairs(PairwiseJudge(gold), list(io.read_pairs(gen["folder"] / "pairs.jsonl")))
        return agreement_summary(rows)["all"]

    _, info = state.steps.run("gold-judge", 1, {"pairs": gen["fingerprint"], "judge": state.cfg.gold_judge_llm}, work)
    return info


# -- rows, training and evaluation --------------------------------------------------------
def _human_step(state: BenchState, data: dict[str, Any]) -> dict[str, Any]:
    """The base+human rows' pool: the labelled pairs of the prompts the methods were given."""
    cfg = state.cfg

    def work(folder: Path) -> dict[str, Any]:
        pool = human_pool(labelled_prompt_pairs(cfg, state.root) or [], data["folder"] / "prompts.jsonl", cfg.budget_prompts)
        io.write_pairs(pool, folder / "human.jsonl")
        return {"pairs": len(pool), "prompts": len({prompt_id(p.prompt) for p in pool})}

    folder, info = state.steps.run("human", 1, {"data": data["fingerprint"], "budget": cfg.budget_prompts}, work)
    return {"folder": folder, **info}


def _rows(state: BenchState, data: dict[str, Any], gens: dict[str, dict[str, Any]],
          human: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    base = list(io.read_pairs(data["folder"] / "base.jsonl")) if state.cfg.has_base else []
    sources = {key: (list(io.read_pairs(gen["folder"] / "pairs.jsonl")), gen["fingerprint"]) for key, gen in gens.items()}
    pool = (list(io.read_pairs(human["folder"] / "human.jsonl")), human["fingerprint"]) if human else None
    return build_rows(base, data["fingerprint"], sources, state.cfg.rm.ratios, state.cfg.seed, pool)


def _eval_sets(state: BenchState, data: dict[str, Any]) -> dict[str, list[PreferencePair]]:
    return {ev.name: list(io.read_pairs(data["folder"] / f"eval_{ev.name}.jsonl")) for ev in state.cfg.eval}


def _train_and_eval(state: BenchState, row: str, spec: dict[str, Any], seed: int, evals: dict[str, list[PreferencePair]],
                    data_fp: str) -> dict[str, Any]:
    from preflab.evaluation import correctness
    from preflab.rm.loading import load_scorer
    from preflab.rm.scorer import score_pairs

    # the row's fingerprint decides its pairs (the mix ratio included), so rm.mix is not part of the recipe's
    payload = {"row": spec["fp"], "rm": state.cfg.rm.model_dump(exclude={"seeds", "mix"}), "seed": seed, "evals": data_fp}

    def work(folder: Path) -> dict[str, Any]:
        if len(spec["pairs"]) < 2:
            return {"skipped": f"only {len(spec['pairs'])} training pairs"}
        started = time.perf_counter()
        model = _train_rm(state, spec["pairs"], seed, folder)
        train_s = time.perf_counter() - started
        scorer = load_scorer(model)
        results = {}
        for name, pairs in evals.items():
            rewards = score_pairs(scorer, pairs)
            results[name] = {"correct": correctness([c - r for c, r in rewards]).tolist()}
        return {"train_pairs": len(spec["pairs"]), "train_s": train_s, "eval": results}

    state.say(f"train+eval: {row} seed {seed}")
    _, info = state.steps.run("rm", 1, payload, work)
    return info


def _seed_runs(per_seed: list[dict[str, Any]], eval_name: str) -> list[np.ndarray]:
    return [np.asarray(r["eval"][eval_name]["correct"], dtype=float) for r in per_seed if "eval" in r]


def summarise(per_seed: list[dict[str, Any]], eval_name: str, n_boot: int = 2000, seed: int = 0,
              pairs: list[PreferencePair] | None = None) -> dict[str, Any]:
    """Accuracy over RM seeds on one evaluation set (:func:`preflab.evaluation.seed_summary`),
    and, given the set's ``pairs``, the length-controlled metrics of the seed-averaged
    correctness (:func:`preflab.evaluation.length.length_metrics`)."""
    from preflab.evaluation import seed_summary
    from preflab.evaluation.length import length_metrics
    from preflab.evaluation.response_length import pair_lengths

    runs = _seed_runs(per_seed, eval_name)
    out = seed_summary(runs, n_boot, seed)
    if runs and pairs is not None:
        out["length"] = length_metrics(np.mean(runs, axis=0), *pair_lengths(pairs), n_boot=n_boot, seed=seed)
    return out


def _baselines(evals: dict[str, list[PreferencePair]], n_boot: int = 2000, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Every null baseline (:func:`preflab.evaluation.baselines.null_baselines`) on every
    evaluation set, as cells of the bench table: no model, so no seeds. results.json spells a
    baseline's name with hyphens, like the table's other rows."""
    from preflab.evaluation.baselines import null_baselines

    out: dict[str, dict[str, Any]] = {}
    for name, pairs in evals.items():
        for baseline, r in null_baselines(pairs, n_boot=n_boot, seed=seed).items():
            out.setdefault(baseline.replace("_", "-"), {})[name] = {"accuracy": r["accuracy"], "ci95": list(r["ci95"]),
                                                                   "n": r["n"], "seed_std": 0.0, "seeds": 0}
    return out


def run_bench(cfg: BenchConfig, root: Path, run_dir: Path, say: Progress = log.info) -> dict[str, Any]:
    """Run (or resume) the whole bench; returns the results dictionary also written to
    ``run_dir/results.json``."""
    from preflab.executor import Executor
    from preflab.llm.on_executor import open_llm_on

    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    executor, cache = Executor.from_config(cfg.executor), run_dir / "llm_cache.sqlite"
    state = BenchState(cfg, root, run_dir, Steps(run_dir), say, JudgeLLMs(executor, cache))
    data = _data_step(state)
    scorer, scorer_fp = _scorer_step(state, data)
    gens, gold = {}, {}
    with ExitStack() as opened:
        opened.enter_context(state.judges)
        llm = None
        for entry in cfg.methods:
            if entry.pairs:  # a pairs file: read, not generated; no generator is opened for it
                gens[entry.key] = pairs_step(state.steps, entry, root, say)
            else:
                if llm is None:  # opened for the first method that generates
                    llm = opened.enter_context(open_llm_on(executor, cfg.llm, cache=cache))
                gens[entry.key] = _generate_step(state, data, entry, scorer, scorer_fp, llm)
            gold[entry.key] = _gold_agreement(state, gens[entry.key])
    human = _human_step(state, data) if cfg.base_human else None
    evals = _eval_sets(state, data)
    table: dict[str, dict[str, Any]] = {}
    seed_runs: dict[str, list[dict[str, Any]]] = {}
    for row, spec in _rows(state, data, gens, human).items():
        seed_runs[row] = [_train_and_eval(state, row, spec, seed, evals, data["fingerprint"]) for seed in cfg.rm.seeds]
        table[row] = {name: summarise(seed_runs[row], name, pairs=pairs) for name, pairs in evals.items()}
        table[row]["_train_pairs"] = len(spec["pairs"])
        if "mix" in spec:
            table[row]["_mix"] = spec["mix"]
    if "base-only" in seed_runs:
        from preflab.evaluation import paired_difference

        for row in table:
            if row != "base-only":
                for name in evals:
                    table[row][name]["vs_base"] = paired_difference(_seed_runs(seed_runs[row], name),
                                                                    _seed_runs(seed_runs["base-only"], name))
    results = {
        "name": cfg.name, "table": table, "baselines": _baselines(evals),
        "methods": {k: {**{key: g[key] for key in ("pairs", "prompts", "failures", "tokens_in", "tokens_out", "wall_s")},
                        "tokens_cached": g.get("tokens_cached", 0), "length": g.get("length"),
                        "pairs_file": str((g["folder"] / "pairs.jsonl").relative_to(run_dir)),
                        **({"source": g["source"]} if "source" in g else {})}
                    for k, g in gens.items()},
        "mix": {"ratios": cfg.rm.ratios, "base_pairs": data["counts"].get("base", 0)},
        **({"human": {"pool": human["pairs"], "prompts": human["prompts"], "seed": cfg.seed}} if human else {}),
        "gold_agreement": {k: v for k, v in gold.items() if v is not None},
        "eval_sets": {name: len(pairs) for name, pairs in evals.items()},
        "steps": {"reused": state.steps.reused, "ran": state.steps.ran},
        "wall_s": time.perf_counter() - started,
    }
    write_results(results, run_dir)
    write_run_json(run_dir / "run.json", run_record("bench", cfg, counts={"rows": len(table)}, seed=cfg.seed,
                                                    steps=results["steps"]))
    return results


def write_results(results: dict[str, Any], run_dir: Path) -> None:
    from preflab.report.tables import plot_length, plot_mix, plot_results, results_markdown
    from preflab.io.atomic import atomic_path
    from preflab.io.portable import record_json

    with atomic_path(run_dir / "results.json") as tmp:
        tmp.write_text(record_json(results, indent=2, default=str))
    with atomic_path(run_dir / "results.md") as tmp:
        tmp.write_text(results_markdown(results))
    plot_results(results, run_dir / "results.png")
    plot_length(results, run_dir / "length.png")
    if plot_mix(results, run_dir / "mix.png") is None:
        (run_dir / "mix.png").unlink(missing_ok=True)  # a rerun with one ratio leaves no stale plot
