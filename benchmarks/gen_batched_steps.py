"""Where batched decoding's time goes: seconds per decode step against sequences in the step.

The batched llama.cpp backend (``llamacpp#batch=8``) decodes k samples of one short prompt
(40 tokens each, T = 0.8); wall time over decode steps gives the cost of one step with k
sequences, and k / that the tokens/s. Alternating k, medians of ``--rounds``. If a step's cost
grew little with k (memory-bound decoding), tokens/s would grow about k-fold.

    python benchmarks/gen_batched_steps.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    from preflab.llm import open_llm

    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    sizes = (1, 2, 4, 8)
    per_step: dict[int, list[float]] = {k: [] for k in sizes}
    with open_llm(f"llamacpp#batch=8&n_threads={args.threads}", cache=False) as llm:
        llm.complete("Hi.", max_tokens=2)  # load, make the batched context
        for r in range(args.rounds):
            for k in sizes if r % 2 == 0 else sizes[::-1]:
                decoder = llm.backend._decoder
                steps, started = decoder.steps, time.perf_counter()
                llm.complete("Write a long story about a dragon.", n=k, temperature=0.8, max_tokens=args.tokens,
                             seed=100 * r + k)
                per_step[k].append((time.perf_counter() - started) / (decoder.steps - steps))
    medians = {k: statistics.median(v) for k, v in per_step.items()}
    result = {"seconds_per_step": per_step, "median_seconds_per_step": medians,
              "tokens_per_s_at_full_steps": {k: k / m for k, m in medians.items()},
              "step_cost_vs_one_sequence": {k: m / medians[1] for k, m in medians.items()},
              "load_average_at_end": os.getloadavg(),
              "command": f"python benchmarks/gen_batched_steps.py --rounds {args.rounds} --tokens {args.tokens} --threads {args.threads}"}
    (HERE / "results" / "gen_batched_steps.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
