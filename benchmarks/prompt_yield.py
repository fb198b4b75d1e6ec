"""Prompts that give a pair: RMBoost and RLCD with the embedded SmolLM2 (llama.cpp, batched),
and why the other prompts give none.

Two prompt sets: the 20 example prompts shipped with preflab (domain ``general``) and 60
HH-RLHF harmless prompts (domain ``harmlessness``; the first 60 distinct prompts of the test
split after a seeded shuffle, multi-turn ones included). Every method runs with its defaults
(budgets included) except the template version, so ``--versions v1 v2`` compares the old
templates (no answer-length instruction) with today's on the same prompts and seeds. Validity
is the methods' own: truncated responses count as failures, as by default.

    .venv/bin/python benchmarks/prompt_yield.py                    # today's templates (v2)
    .venv/bin/python benchmarks/prompt_yield.py --versions v1 v2   # before / after

``--quickstart N`` measures the quickstart's own generation instead: the first N prompts of the
HH prompts shipped with preflab (the quickstart takes the first ``budget`` of them), each method
with exactly the options ``preflab quickstart`` gives it (from
:func:`preflab.pipelines.bench.quickstart.quickstart_config` at the defaults of
``QuickstartOptions``), seed 0 and 8 prompts in flight as in the bench. ``--max-tokens`` and
``--truncated-retries`` compare other budgets side by side on the same prompts:

    .venv/bin/python benchmarks/prompt_yield.py --quickstart 100 --results prompt_yield_quickstart.json

Calls are cached under benchmarks/results/prompt_yield/ (a rerun is free); writes
benchmarks/results/prompt_yield.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = REPO.parent / "shared" / "data"
EXAMPLES = REPO / "src" / "preflab" / "data" / "example_prompts.txt"


def hh_prompts(n: int, seed: int, out: Path) -> Path:
    """The first ``n`` distinct HH prompts after a seeded shuffle, written as a prompt file."""
    from preflab import io

    prompts = list(io.prompts_of(io.read_pairs(DATA / "hh_rlhf_harmless_base_test.jsonl.gz", "hh-rlhf")))
    random.Random(seed).shuffle(prompts)
    io.write_prompts(prompts[:n], out)
    return out


def repeats(text: str) -> int:
    """How many words of ``text`` are a word that already occurred among the 10 before it."""
    words = text.lower().split()
    return sum(w in words[max(0, i - 10):i] for i, w in enumerate(words))


def measure(llm, prompts: Path, method_name: str, options: dict, out: Path) -> dict:
    from preflab.config import parse
    from preflab.pipelines.generation import failure_reasons, retried_reasons, run_generation
    from preflab.llm.usage import Usage
    from preflab.methods import get_method

    method = get_method(method_name)
    cfg = parse(options, method.config, defaults=method.defaults)[method.config]
    view = llm.with_method(method_name)
    view.usage = Usage()
    started, cpu = time.perf_counter(), os.times()
    result = run_generation(prompts, out, method, cfg, view, seed=0)
    cpu_s = sum(os.times()[:4]) - sum(cpu[:4])  # this process and its children (a llama.cpp server), all threads
    responses = [text for p in result.pairs for text in (p.chosen, p.rejected)]
    usage = result.run["usage"]["total"]
    n = result.counts["prompts"]
    row = {"repeat_penalty": cfg.repeat_penalty, "prompts": n, "pairs": len(result.pairs), "yield": len(result.pairs) / n if n else 0.0,
           "failures": failure_reasons(result.counts), "retried": retried_reasons(result.counts), "tokens_in": usage.get("prompt_tokens", 0),
           "tokens_out": usage.get("completion_tokens", 0), "tokens_cached": usage.get("cached_tokens", 0), "wall_s": round(time.perf_counter() - started, 1),
           "cpu_s": round(cpu_s, 1), "load_average_1min": round(os.getloadavg()[0], 2),
           "median_words": {side: statistics.median(len(getattr(p, side).split()) for p in result.pairs)
                            for side in ("chosen", "rejected")} if result.pairs else None,
           # a penalty that wrecks answers shows here first: words that are the same as the one before
           "repeated_word_share": round(sum(repeats(t) for t in responses) / max(1, sum(len(t.split()) for t in responses)), 4)}
    if method_name == "rmboost":
        row["failed_rewrite_attempts_in_pairs"] = dict(Counter(r for p in result.pairs for r in p.provenance["failed_attempts"]))
    return row


def quickstart_methods(max_tokens: int | None, truncated_retries: int | None) -> tuple[dict[str, dict], int]:
    """The quickstart's methods and their options, as ``preflab quickstart`` builds them (the
    defaults of its options; ``max_tokens`` / ``truncated_retries`` override them), and its budget."""
    import dataclasses

    from preflab.api.bench import QuickstartOptions
    from preflab.pipelines.bench.quickstart import quickstart_config

    defaults = {f.name: f.default for f in dataclasses.fields(QuickstartOptions)}
    cfg = quickstart_config(None, "llamacpp", None, "auto", defaults["budget"],
                            defaults["max_tokens"] if max_tokens is None else max_tokens, None, defaults["base_limit"])
    methods = {m["name"]: dict(m["options"]) for m in cfg["methods"]}
    if truncated_retries is not None:
        for options in methods.values():
            options["truncated_retries"] = truncated_retries
    return methods, cfg["budget_prompts"]


def kept_among_first(row: dict, failures: list[dict], n: int) -> int:
    """Pairs kept among the first ``n`` prompts (the quickstart with ``--budget n``)."""
    return min(n, row["prompts"]) - sum(f["index"] < n for f in failures)


def run_quickstart(args, llm, work: Path, result: dict) -> None:
    from preflab import io

    shipped = REPO / "src" / "preflab" / "data" / "hh_harmless_prompts.jsonl"
    prompts = work / f"quickstart_prompts_{args.quickstart}.jsonl"
    io.write_prompts(list(io.read_prompts(shipped))[: args.quickstart], prompts)
    result["prompt_ids"] = [p.id for p in io.read_prompts(prompts)]  # the quickstart takes the first `budget` of these
    for max_tokens in args.max_tokens:
        for retries in args.truncated_retries:
            methods, budget = quickstart_methods(max_tokens, retries)
            result["quickstart_budget"] = budget
            for method in args.methods:
                options = methods[method]
                tag = f"qs{args.quickstart}_mt{options['max_tokens']}_tr{options.get('truncated_retries', 'default')}"
                row = measure(llm, prompts, method, options, work / f"{tag}_{method}.jsonl")
                failures = [json.loads(line) for line in (work / f"{tag}_{method}.jsonl.failures.jsonl").read_text().splitlines()]
                row["kept_among_first"] = {n: kept_among_first(row, failures, n) for n in sorted({20, budget, row["prompts"]})}
                row["failure_details"] = dict(Counter(f.get("detail") or f["reason"] for f in failures))
                result["rows"].append({"set": f"quickstart-{args.quickstart}", "method": method, "options": options,
                                       "repeat_penalty": row.pop("repeat_penalty"), **row})
                print(json.dumps(result["rows"][-1]), flush=True)
                result["load_average_1min"] = {"start": result["load_average_1min"]["start"], "now": os.getloadavg()[0]}
                (HERE / "results" / args.results).write_text(json.dumps(result, indent=2) + "\n")


def main() -> None:
    from preflab.llm.client import open_llm

    parser = argparse.ArgumentParser()
    parser.add_argument("--versions", nargs="+", default=["v2"], help="template versions to compare (v1 = before)")
    parser.add_argument("--hh", type=int, default=60, help="HH prompts")
    parser.add_argument("--methods", nargs="+", default=["rmboost", "rlcd"])
    parser.add_argument("--llm", default="llamacpp")
    parser.add_argument("--sets", nargs="+", default=["example-prompts", "hh"], help="prompt sets to run (example-prompts, hh)")
    parser.add_argument("--results", default="prompt_yield.json", help="results file name in benchmarks/results/")
    parser.add_argument("--repeat-penalties", nargs="+", type=float, default=[None],
                        help="repeat_penalty values to compare (1.0 = off; default: each method's default)")
    parser.add_argument("--quickstart", type=int, metavar="N",
                        help="the quickstart's own generation on the first N shipped HH prompts, with its options")
    parser.add_argument("--max-tokens", type=int, nargs="+", default=[None],
                        help="with --quickstart: token budgets to compare (default: the quickstart's)")
    parser.add_argument("--truncated-retries", type=int, nargs="+", default=[None],
                        help="with --quickstart: truncated_retries values to compare (default: the quickstart's)")
    args = parser.parse_args()
    work = HERE / "results" / "prompt_yield"
    work.mkdir(parents=True, exist_ok=True)
    if args.quickstart:
        from preflab.llm.client import open_llm

        result = {"command": f"benchmarks/prompt_yield.py --quickstart {args.quickstart} --methods {' '.join(args.methods)}"
                             + (f" --max-tokens {' '.join(map(str, args.max_tokens))}" if args.max_tokens != [None] else "")
                             + (f" --truncated-retries {' '.join(map(str, args.truncated_retries))}" if args.truncated_retries != [None] else "")
                             + f" --results {args.results}",
                  "llm": args.llm, "seed": 0, "in_flight": 8, "cpu_count": os.cpu_count(),
                  "load_average_1min": {"start": os.getloadavg()[0]}, "rows": []}
        started = time.time()
        with open_llm(args.llm, cache=work / "calls.sqlite") as llm:
            run_quickstart(args, llm, work, result)
        result["wall_s_total"] = round(time.time() - started, 1)
        (HERE / "results" / args.results).write_text(json.dumps(result, indent=2) + "\n")
        return
    sets = {"example-prompts": (EXAMPLES, "general"), f"hh-{args.hh}": (hh_prompts(args.hh, 0, work / "hh_prompts.jsonl"), "harmlessness")}
    sets = {name: value for name, value in sets.items() if name.split("-")[0] in {s.split("-")[0] for s in args.sets}}
    load_before = os.getloadavg()
    result = {"command": f"benchmarks/prompt_yield.py --versions {' '.join(args.versions)} --hh {args.hh} "
                         f"--methods {' '.join(args.methods)} --sets {' '.join(args.sets)}"
                         + (f" --repeat-penalties {' '.join(map(str, args.repeat_penalties))}" if args.repeat_penalties != [None] else ""),
              "llm": args.llm, "repeat_penalties": args.repeat_penalties, "seed": 0, "cpu_count": os.cpu_count(), "rows": []}
    with open_llm(args.llm, cache=work / "calls.sqlite") as llm:
        for version, penalty in ((v, p) for v in args.versions for p in args.repeat_penalties):
            for set_name, (path, domain) in sets.items():
                for method in args.methods:
                    options = {"domain": domain, "template_version": version}
                    if penalty is not None:
                        options["repeat_penalty"] = penalty
                    tag = version if penalty is None else f"{version}_rp{penalty}"
                    row = measure(llm, path, method, options, work / f"{set_name}_{method}_{tag}.jsonl")
                    result["rows"].append({"set": set_name, "method": method, "template_version": version,
                                           "repeat_penalty": row.pop("repeat_penalty"), **row})
                    print(json.dumps(result["rows"][-1]), flush=True)
                    # written after every row, so a long run that is stopped keeps what it finished
                    result["load_average_1min"] = {"start": load_before[0], "now": os.getloadavg()[0]}
                    (HERE / "results" / args.results).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
