"""A generation run that survives crashes: append-only progress, atomic final output.

While a run goes, every finished prompt's outcome (pair or failure) is appended as one JSON
line to ``OUT.partial.jsonl`` and flushed. Killed at any point, the rerun of the same command
reads that file, skips the prompts already done (their LLM calls are not even looked up),
and carries on; calls that finished but whose prompt did not are answered by the LLM cache.
Only at the end are the pairs ordered by prompt, de-duplicated by id, filtered, and written
atomically to ``OUT`` with ``OUT.failures.jsonl`` and ``OUT.run.json``; then the partial file
goes. So a finished ``OUT`` is always complete, and equals an uninterrupted run's.

The run builds the method's context from what the caller offers
(:func:`~preflab.methods.context.method_context`: only what the method declares it needs is
used) and applies the method's declared post-filters to the finished pairs, so
``preflab generate``, ``bench`` and ``west-of-n-rounds`` run a method the same way.

The partial file starts with a header holding the fingerprint of the method, config, seed,
generator and prompt file: resuming with anything different is refused rather than mixed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections import Counter
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from preflab import io
from preflab.errors import ConfigError
from preflab.io.atomic import write_all
from preflab.io.refusals import writing
from preflab.io.containers import write_jsonl
from preflab.methods.base import Context, Failure, Method, stream_outcomes
from preflab.methods.context import method_context
from preflab.evaluation.data_stats import generation_length_stats
from preflab.provenance import file_fingerprint, run_record, write_run_json
from preflab.records import PreferencePair, PromptRecord

log = logging.getLogger(__name__)
PARTIAL_VERSION = 1


@dataclass
class GenerationResult:
    pairs: list[PreferencePair]
    failures: list[dict[str, Any]]
    counts: Counter = field(default_factory=Counter)
    resumed: int = 0
    wall_s: float = 0.0
    run: dict[str, Any] = field(default_factory=dict)


def partial_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.name + ".partial.jsonl")


def _fingerprint(method: Method, cfg: Any, ctx: Context, prompts_fp: str, limit: int | None) -> str:
    payload = {"method": method.name, "config": asdict(cfg), "seed": ctx.seed, "llm": [ctx.llm.kind, ctx.llm.model_id],
               "scorer": getattr(ctx.scorer, "id", None) if ctx.scorer else None,
               "judge": ctx.judge.id if ctx.judge else None, "prompts": prompts_fp, "limit": limit,
               "version": PARTIAL_VERSION}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _prompts_fingerprint(prompts: Any) -> str:
    """Of the prompt file's bytes, or of prompts held in memory (:mod:`preflab.io.memory`)."""
    from preflab.io import memory

    return memory.fingerprint(prompts) if memory.is_in_memory(prompts) else file_fingerprint(prompts)


def _read_partial(path: Path, fingerprint: str) -> dict[int, dict[str, Any]]:
    """Outcomes already done, by prompt index. A torn last line (the crash) is cut off."""
    done: dict[int, dict[str, Any]] = {}
    good_bytes = 0
    with open(path, "rb") as fh:
        for number, line in enumerate(fh):
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                break
            if not line.endswith(b"\n"):
                break
            if number == 0:
                if entry.get("fingerprint") != fingerprint:
                    raise ConfigError(
                        f"{path} holds a run with a different method, config, seed, model or prompt file; "
                        "delete it to start over, or write to another --out")
            else:
                done[entry["index"]] = entry
            good_bytes += len(line)
    with open(path, "r+b") as fh:
        fh.truncate(good_bytes)
    return done


def _entry(index: int, outcome: PreferencePair | Failure) -> dict[str, Any]:
    if isinstance(outcome, Failure):
        return {"index": index, "failure": asdict(outcome)}
    return {"index": index, "pair": outcome.model_dump()}


def run_generation(
    prompts_path: str | Path, out: str | Path, method: Method, cfg: Any, llm: Any, *, seed: int = 0,
    scorer: Any = None, judge: Any = None, limit: int | None = None, in_flight: int = 8,
    progress: Callable[[int, int], None] | None = None, extra_run: dict[str, Any] | None = None,
    records: list[PromptRecord] | None = None,
) -> GenerationResult:
    """Generate pairs for the prompts in ``prompts_path`` into ``out`` (resumable) with the
    generator ``llm``; ``scorer`` and ``judge`` (objects or :class:`~preflab.methods.context.Lazy`
    factories) are used only if the method needs them. Unmet needs fail before any file is
    written; the method's post-filters run over the finished pairs. ``records``: the prompts
    of ``prompts_path`` when the caller has read them already (they are read once)."""
    ctx = method_context(method, cfg, llm, seed=seed, scorer=scorer, judge=judge)
    started = time.perf_counter()
    prompts: list[PromptRecord] = list(io.read_prompts(prompts_path)) if records is None else list(records)
    if limit is not None:
        prompts = prompts[:limit]
    fingerprint = _fingerprint(method, cfg, ctx, _prompts_fingerprint(prompts_path), limit)
    partial = partial_path(out)
    done = _read_partial(partial, fingerprint) if partial.exists() else {}
    resumed = len(done)
    with writing(partial):  # a full disk or a read-only folder: one line naming the file
        if not partial.exists():
            partial.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(json.dumps({"fingerprint": fingerprint, "method": method.name}) + "\n")
        fh = open(partial, "ab", buffering=0)  # unbuffered: a line is on disk when written, nothing left to flush
    todo = [(i, p) for i, p in enumerate(prompts) if i not in done]
    if progress:
        progress(len(done), len(prompts))
    # closing: an interrupt (Ctrl-C) or an error while an outcome is written cancels the prompts
    # under way now, before the LLM closes, not whenever the generator happens to be collected
    with fh, closing(stream_outcomes((p for _, p in todo), method, cfg, ctx, in_flight=in_flight)) as outcomes:
        for (index, _), (_, outcome) in zip(todo, outcomes):
            entry = _entry(index, outcome)
            with writing(partial, KEPT):
                write_all(fh, (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8"))
            done[index] = entry
            if progress:
                progress(len(done), len(prompts))
        with writing(partial, KEPT):
            os.fsync(fh.fileno())
    return _finish(prompts_path, out, method, cfg, ctx, done, resumed, started, extra_run or {})


#: What a partial file that could not take another line still holds.
KEPT = "the prompts finished before are kept in it: make room and run the same command again to continue"


def _finish(prompts_path, out, method, cfg, ctx, done, resumed, started, extra_run) -> GenerationResult:
    counts: Counter = Counter()
    pairs, failures, seen = [], [], set()
    for index in sorted(done):
        entry = done[index]
        if "failure" in entry:
            failures.append({"index": index, **entry["failure"]})
            counts[f"failure:{entry['failure']['reason']}"] += 1
            continue
        pair = PreferencePair.model_validate(entry["pair"])
        if pair.id in seen:
            counts["duplicate_dropped"] += 1
            continue
        seen.add(pair.id)
        pairs.append(pair)
    before = len(pairs)
    pairs, filter_info = method.post_filter(pairs, cfg)
    if before > len(pairs):
        counts["failure:filtered_after_run"] += before - len(pairs)
    counts["prompts"] = len(done)
    counts["pairs"] = len(pairs)
    result = GenerationResult(pairs, failures, counts, resumed, time.perf_counter() - started)
    io.write_pairs(pairs, out)
    write_jsonl(failures, Path(str(out) + ".failures.jsonl"))
    usage = ctx.llm.usage.summary() if hasattr(ctx.llm, "usage") else {}
    result.run = run_record(f"generate/{method.name}", cfg, inputs={"prompts": prompts_path}, counts=dict(counts),
                            seed=ctx.seed, generator={"backend": ctx.llm.kind, "model": ctx.llm.model_id,
                                                      "batching": getattr(ctx.llm, "batching", None),
                                                      **_endpoints(ctx.llm)},
                            judge=ctx.judge.id if ctx.judge else None,
                            scorer=getattr(ctx.scorer, "id", None) if ctx.scorer else None,
                            usage=usage, wall_s=result.wall_s, resumed_prompts=resumed, post_filter=filter_info,
                            length=generation_length_stats(pairs),
                            **extra_run)
    write_run_json(Path(str(out) + ".run.json"), result.run)
    partial_path(out).unlink(missing_ok=True)
    return result


def _endpoints(llm: Any) -> dict[str, Any]:
    """Usage per endpoint of a multi-endpoint backend (:mod:`preflab.llm.openai_multi`)."""
    usage = getattr(getattr(llm, "backend", None), "endpoint_usage", None)
    return {"endpoints": usage()} if callable(usage) else {}


def failure_reasons(counts: Counter) -> dict[str, int]:
    return {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("failure:")}
