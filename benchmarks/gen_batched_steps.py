"""Where batched decoding's time goes: the cost of one decode step against the sequences in it,
per weight type and prompt length.

The batched llama.cpp backend decodes k samples of one prompt (T = 0.8, ``--tokens`` each) for
every k in ``--sizes``, on each weight type in ``--weights`` (``llamacpp#weights=...``: the
shipped Q4_1 file, its Q8_0 copy) and each prompt length in ``--prompt-tokens``. The decoder's
own step function is timed, and only steps holding all k sequences count, so neither the
pre-fill of the prompt nor the last lone sequences blur the figure: seconds per step with k
sequences, and k / that as tokens/s. A longer prompt shows what attention over a longer KV
stream adds to each sequence's share of a step. Paths and sizes alternate order each round;
medians of ``--rounds``.

And the pre-fill: tokens/s of pre-filling ``--prefill-prompts`` HH-RLHF harmless prompts (each
once, a fresh context per round) for each first block size in ``--prefix-blocks``
(``llamacpp#prefix_block=...``, Q8_0 weights), timing the decoder's own pre-fill.

    python benchmarks/gen_batched_steps.py --weights file q8_0 --sizes 1 4 8 16 --prompt-tokens 40 400 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # gen_batched.hh_prompts
FILLER = ("The committee met on a grey morning to read the long report about the river, the bridge, "
          "the schools and the new market, and every member had a question about the cost. ")


def prompt_of(llm, tokens: int) -> str:
    """A request whose chat-templated prompt is about ``tokens`` tokens long."""
    from preflab.records import Message

    text = "Write a long story about a dragon."
    while len(llm.backend._prompt_tokens([Message(role="user", content=text)])) < tokens:
        text = FILLER + text
    return text


def timed_steps(decoder, k: int, sink: list[float]):
    """Wrap ``decoder._step`` so that each step holding exactly ``k`` sequences adds its seconds to ``sink``."""
    step = decoder._step

    def wrapper(live):
        started = time.perf_counter()
        step(live)
        if len(live) == k:
            sink.append(time.perf_counter() - started)
    return wrapper


def prefill_rates(blocks: list[int], prompts: list, rounds: int, threads: int) -> dict:
    """Median tokens/s of the batched decoder's canonical pre-fill, per first block size."""
    from preflab.llm import Request, open_llm

    rates: dict[int, list[float]] = {b: [] for b in blocks}
    for r in range(rounds):
        for b in blocks if r % 2 == 0 else blocks[::-1]:
            with open_llm(f"llamacpp#batch=8&prefix_block={b}&n_threads={threads}", cache=False) as llm:
                llm.complete("Hi.", max_tokens=2)
                decoder, spent = llm.backend._decoder, [0.0, 0]
                prefill = decoder._prefill

                def timed(slot, target, prefill=prefill, spent=spent):
                    started = time.perf_counter()
                    prefill(slot, target)
                    spent[0] += time.perf_counter() - started
                    spent[1] += len(target)
                decoder._prefill = timed
                llm.complete_many([Request(p, {"max_tokens": 1, "temperature": 0}) for p in prompts])
            rates[b].append(spent[1] / spent[0])
    return {str(b): {"tokens_per_s": v, "median_tokens_per_s": statistics.median(v)} for b, v in rates.items()}


def main() -> None:
    from preflab.llm import open_llm

    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", nargs="+", default=["file", "q8_0"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--prompt-tokens", type=int, nargs="+", default=[40, 400])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--prefix-blocks", type=int, nargs="*", default=[8, 64])
    parser.add_argument("--prefill-prompts", type=int, default=32)
    parser.add_argument("--out", default=str(HERE / "results" / "gen_batched_steps.json"))
    args = parser.parse_args()
    batch = max(args.sizes)
    table: dict[str, dict] = {}
    llms = {w: open_llm(f"llamacpp#weights={w}&batch={batch}&n_threads={args.threads}", cache=False)
            for w in args.weights}
    try:
        for llm in llms.values():
            llm.complete("Hi.", max_tokens=2)  # load, make the batched context
        prompts = {n: prompt_of(next(iter(llms.values())), n) for n in args.prompt_tokens}
        per_step: dict[tuple[str, int, int], list[float]] = {}
        cells = [(w, n, k) for w in args.weights for n in args.prompt_tokens for k in args.sizes]
        for r in range(args.rounds):
            for w, n, k in cells if r % 2 == 0 else cells[::-1]:
                llm = llms[w]
                decoder = llm.backend._decoder
                steps: list[float] = []
                decoder._step = timed_steps(decoder, k, steps)
                try:
                    llm.complete(prompts[n], n=k, temperature=0.8, max_tokens=args.tokens, seed=1000 * r + k)
                finally:
                    del decoder._step  # back to the class's method
                if steps:
                    per_step.setdefault((w, n, k), []).append(statistics.median(steps))
        for (w, n, k), values in per_step.items():
            median = statistics.median(values)
            table.setdefault(w, {}).setdefault(str(n), {})[str(k)] = {
                "seconds_per_step": values, "median_seconds_per_step": median, "tokens_per_s": k / median}
    finally:
        for llm in llms.values():
            llm.close()
    prefill = {}
    if args.prefix_blocks:
        from gen_batched import hh_prompts

        prefill = prefill_rates(args.prefix_blocks, hh_prompts(args.prefill_prompts), args.rounds, args.threads)
    result = {"steps": table, "prefill": prefill, "load_average_at_end": os.getloadavg(),
              "command": "python benchmarks/gen_batched_steps.py --weights " + " ".join(args.weights)
              + " --sizes " + " ".join(map(str, args.sizes)) + " --prompt-tokens "
              + " ".join(map(str, args.prompt_tokens)) + f" --rounds {args.rounds} --tokens {args.tokens}"
              + f" --threads {args.threads} --prefix-blocks " + " ".join(map(str, args.prefix_blocks))
              + f" --prefill-prompts {args.prefill_prompts}"}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    for w, by_len in table.items():
        for n, by_k in by_len.items():
            row = "  ".join(f"{k}: {v['median_seconds_per_step'] * 1000:.0f} ms, {v['tokens_per_s']:.0f} tok/s"
                            for k, v in by_k.items())
            print(f"{w:6s} prompt ~{n:>4s} tokens  {row}")
    for b, v in prefill.items():
        print(f"pre-fill in {b}-token first blocks: {v['median_tokens_per_s']:.0f} prompt tokens/s")


if __name__ == "__main__":
    main()
