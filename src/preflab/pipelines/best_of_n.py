"""Best-of-N, the downstream check of a reward model: sample N responses per prompt once from a
policy, let each RM under test pick its best, and score the picks with a gold scorer
(docs/reward-models.md#best-of-n). ``preflab bon`` runs it; ``bench`` runs its steps for every row.

The steps, each cached by fingerprint in ``OUT/steps/`` (:class:`~preflab.pipelines.bench.steps.Steps`),
so a rerun redoes only what changed or never finished:

1. **samples**: n samples per prompt from the policy through the LLM client (call cache,
   budgets; sample i of every prompt seeded with (seed, i), as West-of-N draws them, so the two
   share cached samples). Each finished prompt is appended to a partial file and flushed; a
   killed run resumes where it stopped. With an LLM judge as gold, one more sample per prompt,
   seeded apart, is the reference every sample is judged against. A prompt too long for the
   policy's context is recorded as failed and left out.
2. **scores**: every sample scored by each RM under test and by the gold RM.
3. **gold judge** (instead of a gold RM): each sample against the reference, asked in both
   orders (:class:`~preflab.judges.PairwiseJudge`); its gold score is P(sample ≻ reference).
4. **picks and numbers**: nested seeded subsets, picks, random and oracle picks, intervals
   (:mod:`preflab.evaluation.best_of_n`); the win rate of RM A's pick over RM B's, from the gold
   RM's scores, or with a judge by asking it about the two picks (both orders; the same pick is a tie).

The stages are method-like: a coroutine over one prompt, run by the methods' sliding-window
driver (:func:`~preflab.methods.base.stream_outcomes`), with results in prompt order.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from preflab.errors import InputError
from preflab.evaluation.best_of_n import (best_of, bon_curves, gold_wins, subset_orders, win_summary)
from preflab.io.containers import iter_jsonl, write_jsonl
from preflab.llm.base import PromptTooLongError
from preflab.methods.base import Context, Method, derived_seed, stream_outcomes
from preflab.pipelines.bench.steps import Steps
from preflab.progress import Bar
from preflab.records import Message, PromptRecord

log = logging.getLogger(__name__)
Say = Callable[[str], None]


@dataclass(frozen=True)
class Sampling:
    """How the policy samples: ``n`` per prompt, and a reference sample for a judge."""

    n: int = 16
    temperature: float = 0.7
    max_tokens: int = 256
    repeat_penalty: float = 1.0
    seed: int = 0
    reference: bool = False

    def options(self) -> dict[str, Any]:
        return {"n": self.n, "temperature": self.temperature, "max_tokens": self.max_tokens, "seed": self.seed,
                "repeat_penalty": self.repeat_penalty}


@dataclass
class RMSource:
    """A reward model under test, or the gold one: its folder (fingerprinted, so its scores are
    cached) or a scorer object given in Python (scored anew each run)."""

    label: str
    path: str | None = None
    scorer: Any = None
    fingerprint: str | None = None
    batch_size: int = 16

    def load(self):
        if self.scorer is not None:
            return getattr(self.scorer, "scorer", self.scorer)
        from preflab.rm.loading import load_scorer

        return load_scorer(self.path, batch_size=self.batch_size)

    def record(self) -> dict[str, Any]:
        return {"path": self.path, "fingerprint": self.fingerprint} if self.path else {"object": type(self.scorer).__name__}


# -- resumable per-prompt stages -----------------------------------------------------------------
def _read_partial(path: Path) -> dict[int, dict[str, Any]]:
    """The entries of a partial file by index; a torn last line (a crash) is cut off."""
    done: dict[int, dict[str, Any]] = {}
    if not path.exists():
        return done
    good = 0
    with open(path, "rb") as fh:
        for line in fh:
            if not line.endswith(b"\n"):
                break
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                break
            done[entry["index"]] = entry
            good += len(line)
    with open(path, "r+b") as fh:
        fh.truncate(good)
    return done


def _stage(folder: Path, name: str, items: Sequence[Any], make: Callable, cfg: Any, ctx: Context, *, in_flight: int,
           label: str, progress: bool) -> list[dict[str, Any]]:
    """Run ``make(item, cfg, ctx)`` over ``items`` (a sliding window of ``in_flight``), each
    result appended to ``folder/NAME.partial.jsonl`` as it comes (in order); the items already
    there are skipped. Writes ``folder/NAME.jsonl`` atomically at the end and returns its rows."""
    partial = folder / f"{name}.partial.jsonl"
    done = _read_partial(partial)
    todo = [i for i in range(len(items)) if i not in done]
    stage = Method(f"bon-{name}", type(cfg), make)
    with Bar(label, progress) as bar, open(partial, "a", encoding="utf-8") as fh:
        bar(len(done), len(items))
        for index, (_, result) in zip(todo, stream_outcomes((items[i] for i in todo), stage, cfg, ctx,
                                                            in_flight=in_flight)):
            entry = {"index": index, **result}
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            fh.flush()
            done[index] = entry
            bar(len(done), len(items))
        os.fsync(fh.fileno())
    rows = [done[i] for i in range(len(items))]
    write_jsonl(rows, folder / f"{name}.jsonl")
    partial.unlink()
    return rows


def _rows(path: Path) -> list[dict[str, Any]]:
    return [row for _, row in iter_jsonl(str(path))]


def messages(row: dict[str, Any]) -> list[Message]:
    return [Message(**m) for m in row["prompt"]]


def prompts_fingerprint(prompts: Sequence[PromptRecord]) -> str:
    """Of the prompts' ids (which hash their text), in order."""
    return hashlib.sha256("\n".join(p.id for p in prompts).encode()).hexdigest()[:16]


# -- 1. samples ----------------------------------------------------------------------------------
async def _sample(prompt: PromptRecord, cfg: Sampling, ctx: Context) -> dict[str, Any]:
    opts = cfg.options()
    calls = [ctx.llm.acomplete(prompt.prompt, opts, method="bon")]
    if cfg.reference:
        calls.append(ctx.llm.acomplete(prompt.prompt, {**opts, "n": 1, "seed": derived_seed(cfg.seed, "bon-reference")},
                                       method="bon"))
    row: dict[str, Any] = {"prompt_id": prompt.id, "prompt": [m.model_dump() for m in prompt.prompt]}
    try:
        outs = await asyncio.gather(*calls)
    except PromptTooLongError as exc:
        return {**row, "failure": "prompt_too_long", "detail": str(exc)}
    samples = outs[0]
    row.update(responses=[s.text.strip() for s in samples], finish_reasons=[s.finish_reason for s in samples],
               tokens=sum(s.completion_tokens for s in samples), cached=sum(s.cached for s in samples))
    if cfg.reference:
        row["reference"] = outs[1][0].text.strip()
    return row


def sample_step(steps: Steps, prompts: Sequence[PromptRecord], llm: Any, sampling: Sampling, *, in_flight: int = 8,
                progress: bool = True) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(one row per prompt: its ``responses``, or its ``failure``; the step's info)."""
    payload = {"prompts": prompts_fingerprint(prompts), "llm": [llm.kind, llm.model_id], "sampling": asdict(sampling)}

    def work(folder: Path) -> dict[str, Any]:
        started = time.perf_counter()
        resumed = len(_read_partial(folder / "samples.partial.jsonl"))
        rows = _stage(folder, "samples", list(prompts), _sample, sampling, Context(llm=llm, seed=sampling.seed),
                      in_flight=in_flight, label=f"Sampling {sampling.n} per prompt", progress=progress)
        failed = [r for r in rows if "failure" in r]
        return {"prompts": len(rows), "failed": len(failed), "resumed_prompts": resumed,
                "tokens_out": sum(r.get("tokens", 0) for r in rows), "samples_cached": sum(r.get("cached", 0) for r in rows),
                "wall_s": time.perf_counter() - started, "generator": {"backend": llm.kind, "model": llm.model_id,
                                                                        "batching": getattr(llm, "batching", None)}}

    folder, info = steps.run("bon-samples", 1, payload, work, resumable=True)
    return _rows(folder / "samples.jsonl"), info


# -- 2. scores -----------------------------------------------------------------------------------
def score_step(steps: Steps, rows: Sequence[dict[str, Any]], samples_fp: str, rm: RMSource, *,
               progress: bool = True) -> np.ndarray:
    """``[prompts, n]``: ``rm``'s reward of every sample (cached in a step when it is a folder)."""
    from preflab.rm.scoring import score_with_progress

    items = [(messages(row), response) for row in rows for response in row["responses"]]
    n = len(rows[0]["responses"]) if rows else 0

    def scores() -> list[float]:
        return score_with_progress(rm.load(), items, f"Scoring samples with {rm.label}", enabled=progress)

    if rm.fingerprint is None:
        return np.asarray(scores(), dtype=np.float64).reshape(len(rows), n)

    def work(folder: Path) -> dict[str, Any]:
        (folder / "scores.json").write_text(json.dumps(scores()))
        return {"rm": rm.record(), "samples": len(items)}

    folder, _ = steps.run(f"bon-scores-{rm.label}", 1, {"samples": samples_fp, "rm": rm.fingerprint}, work)
    return np.asarray(json.loads((folder / "scores.json").read_text()), dtype=np.float64).reshape(len(rows), n)


# -- 3. a judge as the gold scorer ---------------------------------------------------------------
async def _against_reference(row: dict[str, Any], _cfg: Any, ctx: Context) -> dict[str, Any]:
    reference, prompt = row["reference"], messages(row)
    distinct = sorted({r for r in row["responses"] if r != reference})
    verdicts = await asyncio.gather(*(ctx.judge.compare(prompt, r, reference, method="bon-gold") for r in distinct))
    p = dict(zip(distinct, (v.p_first for v in verdicts)))
    return {"gold": [p.get(r, 0.5) for r in row["responses"]]}


def judge_gold_step(steps: Steps, rows: Sequence[dict[str, Any]], samples_fp: str, judge: Any, *, in_flight: int = 8,
                    progress: bool = True) -> np.ndarray:
    """``[prompts, n]``: the judge's P(sample ≻ the prompt's reference sample), both orders
    asked (a sample equal to the reference: 0.5)."""
    def work(folder: Path) -> dict[str, Any]:
        _stage(folder, "gold", list(rows), _against_reference, None, Context(llm=judge.llm, judge=judge),
               in_flight=in_flight, label="Judging samples against the reference", progress=progress)
        return {"judge": judge.id, "prompts": len(rows)}

    folder, _ = steps.run("bon-gold-judge", 1, {"samples": samples_fp, "judge": judge.id}, work, resumable=True)
    return np.asarray([r["gold"] for r in _rows(folder / "gold.jsonl")], dtype=np.float64)


async def _pairs_verdicts(item: tuple[dict[str, Any], list[list[int]]], _cfg: Any, ctx: Context) -> dict[str, Any]:
    row, pairs = item
    prompt, texts = messages(row), row["responses"]
    verdicts = await asyncio.gather(*(ctx.judge.compare(prompt, texts[i], texts[j], method="bon-wins") for i, j in pairs))
    return {"pairs": pairs, "p_first": [v.p_first for v in verdicts]}


def judge_pairs_step(steps: Steps, rows: Sequence[dict[str, Any]], samples_fp: str, judge: Any,
                     needed: Sequence[set[tuple[int, int]]], *, in_flight: int = 8,
                     progress: bool = True) -> list[dict[tuple[int, int], float]]:
    """Per prompt: P(sample i ≻ sample j) for each (i, j) of ``needed`` (i < j, distinct texts),
    from the judge asked in both orders."""
    wanted = [sorted(map(list, pairs)) for pairs in needed]
    digest = hashlib.sha256(json.dumps(wanted).encode()).hexdigest()[:16]

    def work(folder: Path) -> dict[str, Any]:
        _stage(folder, "verdicts", list(zip(rows, wanted)), _pairs_verdicts, None, Context(llm=judge.llm, judge=judge),
               in_flight=in_flight, label="Judging the picks against each other", progress=progress)
        return {"judge": judge.id, "comparisons": sum(len(w) for w in wanted)}

    folder, _ = steps.run("bon-judge-picks", 1, {"samples": samples_fp, "judge": judge.id, "pairs": digest}, work,
                          resumable=True)
    return [{(i, j): p for (i, j), p in zip(r["pairs"], r["p_first"])} for r in _rows(folder / "verdicts.jsonl")]


def pairs_to_judge(rows: Sequence[dict[str, Any]], pick_pairs: Iterable[tuple[np.ndarray, np.ndarray]]
                   ) -> list[set[tuple[int, int]]]:
    """Per prompt, the (i, j) sample pairs (i < j) that two picks put against each other and
    that differ in text (the same text is a tie without asking)."""
    needed: list[set[tuple[int, int]]] = [set() for _ in rows]
    for a, b in pick_pairs:
        for p, (i, j) in enumerate(zip(a.reshape(len(rows), -1), b.reshape(len(rows), -1))):
            texts = rows[p]["responses"]
            needed[p].update((min(x, y), max(x, y)) for x, y in zip(i.tolist(), j.tolist()) if texts[x] != texts[y])
    return needed


def judge_wins(rows: Sequence[dict[str, Any]], verdicts: Sequence[dict[tuple[int, int], float]], picks_a: np.ndarray,
               picks_b: np.ndarray) -> np.ndarray:
    """``[prompts, draws]``: the judge's P(A's pick ≻ B's pick); 0.5 for the same text."""
    out = np.full(picks_a.shape, 0.5)
    for p, (row, seen) in enumerate(zip(rows, verdicts)):
        texts = row["responses"]
        for d, (i, j) in enumerate(zip(picks_a[p].tolist(), picks_b[p].tolist())):
            if texts[i] != texts[j]:
                out[p, d] = seen[(i, j)] if i < j else 1.0 - seen[(j, i)]
    return out


# -- 4. the run of ``preflab bon`` ----------------------------------------------------------------
@dataclass
class BonRun:
    """What one ``preflab bon`` run compares."""

    prompts: Sequence[PromptRecord]
    rms: dict[str, RMSource]
    gold: RMSource | Any  # an RMSource, or a PairwiseJudge
    sampling: Sampling
    ns: Sequence[int]
    subsets: int = 4
    n_boot: int = 2000
    in_flight: int = 8


def gold_record(gold: Any) -> dict[str, Any]:
    if isinstance(gold, RMSource):
        return {"kind": "rm", "label": gold.label, **gold.record()}
    return {"kind": "judge", "judge": gold.id, "score": "P(sample ≻ an independent policy sample), both orders"}


def gold_scores(steps: Steps, rows: Sequence[dict[str, Any]], samples_fp: str, gold: Any, *, in_flight: int,
                progress: bool) -> np.ndarray:
    if isinstance(gold, RMSource):
        return score_step(steps, rows, samples_fp, gold, progress=progress)
    return judge_gold_step(steps, rows, samples_fp, gold, in_flight=in_flight, progress=progress)


def win_rates(steps: Steps, rows: Sequence[dict[str, Any]], samples_fp: str, gold: Any, gold_array: np.ndarray,
              picks: dict[str, dict[int, list[np.ndarray]]], versus: Sequence[tuple[str, str]], ks: Sequence[int], *,
              n_boot: int, seed: int, in_flight: int, progress: bool) -> dict[str, Any]:
    """``"A over B"`` → k → the win rate of A's picks over B's (:func:`win_summary`); ``picks``:
    label → k → one ``[prompts, draws]`` array per run (RM seed; runs are paired in order)."""
    pairs = [(picks[a][k][s], picks[b][k][s]) for a, b in versus for k in ks
             for s in range(min(len(picks[a][k]), len(picks[b][k])))]
    verdicts = None
    if not isinstance(gold, RMSource) and pairs:
        verdicts = judge_pairs_step(steps, rows, samples_fp, gold, pairs_to_judge(rows, pairs), in_flight=in_flight,
                                    progress=progress)
    out: dict[str, Any] = {}
    for a, b in versus:
        out[f"{a} over {b}"] = {}
        for k in ks:
            runs = [gold_wins(gold_array, pa, pb) if verdicts is None else judge_wins(rows, verdicts, pa, pb)
                    for pa, pb in zip(picks[a][k], picks[b][k])]
            out[f"{a} over {b}"][str(k)] = win_summary(runs, n_boot, seed)
    return out


def run_best_of_n(plan: BonRun, llm: Any, out: Path, *, progress: bool = True, say: Say = log.info,
                  record: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run (or resume) best-of-N into ``out``: steps/, picks.jsonl, results.json, results.md,
    bon.png and run.json. Returns the results."""
    from preflab.provenance import run_record, write_run_json

    started = time.perf_counter()
    steps = Steps(out)
    rows, sampled = sample_step(steps, plan.prompts, llm, plan.sampling, in_flight=plan.in_flight, progress=progress)
    ok = [r for r in rows if "failure" not in r]
    say(f"samples: {len(ok)} prompts × {plan.sampling.n} ({sampled['failed']} failed)")
    if not ok:
        raise InputError(f"no prompt could be sampled ({rows[0].get('detail', rows[0].get('failure')) if rows else 'none'})")
    fp = sampled["fingerprint"]
    proxies = {label: score_step(steps, ok, fp, rm, progress=progress) for label, rm in plan.rms.items()}
    gold = gold_scores(steps, ok, fp, plan.gold, in_flight=plan.in_flight, progress=progress)
    seed = plan.sampling.seed
    orders = subset_orders([r["prompt_id"] for r in ok], plan.sampling.n, plan.subsets, seed)
    results = bon_curves(gold, {label: [s] for label, s in proxies.items()}, orders, plan.ns, plan.n_boot, seed)
    picks = {label: {k: [best_of(s, orders, k)] for k in plan.ns} for label, s in proxies.items()}
    results["wins"] = win_rates(steps, ok, fp, plan.gold, gold, picks, list(itertools.combinations(plan.rms, 2)),
                                plan.ns, n_boot=plan.n_boot, seed=seed, in_flight=plan.in_flight, progress=progress)
    results.update(n=plan.sampling.n, ns=list(plan.ns), subsets=plan.subsets, prompts=len(ok),
                   failed_prompts=sampled["failed"], gold=gold_record(plan.gold),
                   rms={label: rm.record() for label, rm in plan.rms.items()},
                   sampling={**asdict(plan.sampling), **{k: sampled[k] for k in ("tokens_out", "samples_cached",
                                                                                  "resumed_prompts", "wall_s",
                                                                                  "generator")}},
                   steps={"reused": steps.reused, "ran": steps.ran}, wall_s=time.perf_counter() - started)
    write_picks(out / "picks.jsonl", ok, gold, proxies, picks)
    write_results(results, out)
    extra = dict(record or {})
    config = extra.pop("config", {})
    write_run_json(out / "run.json", run_record("bon", config, **extra, seed=seed, gold=results["gold"],
                                                counts={"prompts": len(rows), "sampled": len(ok),
                                                        "failed": sampled["failed"]},
                                                steps=results["steps"], wall_s=results["wall_s"],
                                                usage=llm.usage.summary() if hasattr(llm, "usage") else {}))
    return results


def write_picks(path: Path, rows: Sequence[dict[str, Any]], gold: np.ndarray, proxies: dict[str, np.ndarray],
                picks: dict[str, dict[int, list[np.ndarray]]]) -> None:
    """One line per prompt: its samples, every score, and each RM's pick per N and subset."""
    def line(p: int, row: dict[str, Any]) -> dict[str, Any]:
        return {"prompt_id": row["prompt_id"], "prompt": row["prompt"], "responses": row["responses"],
                **({"reference": row["reference"]} if "reference" in row else {}),
                "gold": gold[p].tolist(), "scores": {label: s[p].tolist() for label, s in proxies.items()},
                "picks": {label: {str(k): runs[0][p].tolist() for k, runs in by_k.items()} for label, by_k in picks.items()}}

    write_jsonl((line(p, row) for p, row in enumerate(rows)), path)


def write_results(results: dict[str, Any], out: Path) -> None:
    from preflab.io.atomic import atomic_path
    from preflab.report.bon import bon_markdown, plot_bon

    with atomic_path(out / "results.json") as tmp:
        tmp.write_text(json.dumps(results, indent=2, default=str))
    with atomic_path(out / "results.md") as tmp:
        tmp.write_text(bon_markdown(results))
    plot_bon(results, out / "bon.png")
