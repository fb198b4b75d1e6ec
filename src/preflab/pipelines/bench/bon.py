"""A bench's optional ``bon:`` evaluation: every row judged downstream by best-of-N
(docs/bench.md#best-of-n), with the steps of :mod:`preflab.pipelines.best_of_n`.

The policy samples n responses per prompt once (a cached, resumable step shared by all rows);
every RM a row trained (one per seed) scores them (a step per RM, keyed by its training step's
fingerprint); the gold RM or judge scores them once. Per row, the gold score of its pick at each
N is averaged over seeds per prompt (± seed std, bootstrap interval over prompts), beside the
random and oracle picks, and the win rate of each row's pick over base-only's pairs seed s with
seed s.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from preflab.pipelines.best_of_n import (RMSource, Sampling, gold_record, gold_scores, sample_step, score_step,
                                         win_rates)
from preflab.pipelines.bench.config import resolve_path


def _prompts(state: Any, data: dict[str, Any]):
    from preflab import io

    bon = state.cfg.bon
    if bon.eval is not None:
        records = list(io.read_prompts(data["folder"] / f"eval_{bon.eval}.jsonl"))
    else:
        path = resolve_path(bon.prompts.path, state.root)
        records = list(io.read_prompts(path) if bon.prompts.format == "auto"
                       else io.prompts_of(io.read_pairs(path, bon.prompts.format)))
        records = records[: bon.prompts.limit]
    return records[: bon.limit]


def _gold(state: Any, llms: Any):
    from preflab.provenance import file_fingerprint

    bon = state.cfg.bon
    if bon.gold is not None:
        path = resolve_path(bon.gold, state.root)
        return RMSource("gold", str(path), fingerprint=file_fingerprint(path))
    from preflab.judges import JudgeConfig, PairwiseJudge

    return PairwiseJudge(llms.get(bon.gold_judge), JudgeConfig(**({"criteria": bon.judge_criteria}
                                                                  if bon.judge_criteria else {})))


def bench_bon(state: Any, data: dict[str, Any], seed_runs: dict[str, list[dict[str, Any]]], llms: Any) -> dict[str, Any]:
    """``results["bon"]`` of a bench: curves per row, random, oracle, wins over base-only."""
    from preflab.evaluation.best_of_n import best_of, bon_curves, default_ns, subset_orders

    cfg, bon = state.cfg, state.cfg.bon
    prompts = _prompts(state, data)
    sampling = Sampling(bon.n, bon.temperature, bon.max_tokens, bon.repeat_penalty, cfg.seed,
                        reference=bon.gold_judge is not None)
    state.say(f"best-of-N: sampling {bon.n} per prompt for {len(prompts)} prompts")
    rows, sampled = sample_step(state.steps, prompts, llms.get(bon.llm or cfg.llm), sampling, in_flight=cfg.in_flight,
                                progress=False)
    ok = [r for r in rows if "failure" not in r]
    if not ok:
        return {"skipped": f"no prompt could be sampled ({sampled['failed']} failed)"}
    fp = sampled["fingerprint"]
    gold = _gold(state, llms)
    gold_array = gold_scores(state.steps, ok, fp, gold, in_flight=cfg.in_flight, progress=False)
    proxies = {}
    for row, runs in seed_runs.items():
        models = [r for r in runs if "model" in r]
        if models:
            state.say(f"best-of-N: {row} picks ({len(models)} seeds)")
            proxies[row] = [score_step(state.steps, ok, fp, RMSource(f"{row}-seed{i}", str(r["model"]),
                                                                     fingerprint=r["fingerprint"]), progress=False)
                            for i, r in enumerate(models)]
    ks = sorted(set(bon.ns)) if bon.ns else default_ns(bon.n)
    orders = subset_orders([r["prompt_id"] for r in ok], bon.n, bon.subsets, cfg.seed)
    results = bon_curves(gold_array, proxies, orders, ks, seed=cfg.seed)
    picks = {row: {k: [best_of(s, orders, k) for s in runs] for k in ks} for row, runs in proxies.items()}
    versus = [(row, "base-only") for row in proxies if row != "base-only"] if "base-only" in proxies else []
    results["wins"] = win_rates(state.steps, ok, fp, gold, gold_array, picks, versus, ks, n_boot=2000, seed=cfg.seed,
                                in_flight=cfg.in_flight, progress=False)
    results.update(n=bon.n, ns=ks, subsets=bon.subsets, prompts=len(ok), failed_prompts=sampled["failed"],
                   gold=gold_record(gold), sampling={**asdict(sampling), **{k: sampled[k] for k in (
                       "tokens_out", "samples_cached", "wall_s", "generator")}})
    return results
