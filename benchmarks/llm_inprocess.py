"""preflab's in-process llama.cpp backend vs raw llama-cpp-python calls, same 32 prompts.

Both load the embedded SmolLM2-135M-Instruct GGUF with the same settings (n_ctx 4096, all
cores) in this one process, and generate with the same sampling options and the same
per-prompt seeds. The reference is the plain loop a user would write:
``Llama.create_chat_completion`` per prompt. preflab goes through everything a real job
does: ``LLM.complete_many`` (async loop, worker thread, seeds, usage) with the call cache ON
(a fresh file per round, so every call is generated and written). Rounds alternate the order;
tokens/s = completion tokens / wall time; medians and their ratio are reported.

Goal (issue 3): preflab >= 0.95 x raw tokens/s.

    .venv/bin/python benchmarks/llm_inprocess.py [--rounds 3 --max-tokens 48]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # what preflab sets; both sides share it

from preflab.llm import CallCache, Request, open_llm, sample_seed  # noqa: E402
from preflab.llm.embedded import default_model_path  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "llm_inprocess.json"
TOPICS = ["the sea", "tax law", "a red bicycle", "photosynthesis", "chess openings", "bread baking", "volcanoes",
          "the French revolution", "binary search", "jazz", "honey bees", "rainbows", "the moon landing",
          "compound interest", "recycling", "mountain hiking"]
PROMPTS = [f"Write two sentences about {t}." for t in TOPICS] + [f"Give three tips about {t}." for t in TOPICS]


def run_raw(llama, max_tokens: int, temperature: float) -> tuple[float, int]:
    tokens = 0
    start = time.perf_counter()
    for prompt in PROMPTS:
        out = llama.create_chat_completion(messages=[{"role": "user", "content": prompt}], temperature=temperature,
                                           top_p=1.0, max_tokens=max_tokens, seed=sample_seed(0, 0))
        tokens += out["usage"]["completion_tokens"]
    return time.perf_counter() - start, tokens


def run_preflab(llm, cache_dir: Path, round_no: int, max_tokens: int, temperature: float) -> tuple[float, int]:
    llm.cache = CallCache(cache_dir / f"round{round_no}.sqlite3")
    start = time.perf_counter()
    results = llm.complete_many([Request(p, {"temperature": temperature, "max_tokens": max_tokens, "seed": 0}) for p in PROMPTS])
    elapsed = time.perf_counter() - start
    assert not any(r[0].cached for r in results)
    llm.cache.close()
    return elapsed, sum(r[0].completion_tokens for r in results)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--spec-options", default="", help="Extra backend options, e.g. reuse_prefix=true (results go to llm_inprocess_<options>.json).")
    args = parser.parse_args()
    from llama_cpp import Llama

    path = default_model_path()
    threads = max(1, min(os.cpu_count() or 1, 8))
    raw = Llama(model_path=str(path), n_ctx=4096, n_threads=threads, n_batch=512, verbose=False)
    spec = f"llamacpp:{path}#n_ctx=4096&n_threads={threads}" + (f"&{args.spec_options}" if args.spec_options else "")
    llm = open_llm(spec, cache=False)
    llm.backend.load()
    # warm both up (first decode pages weights in)
    raw.create_chat_completion(messages=[{"role": "user", "content": "hi"}], max_tokens=8)
    llm.complete("hi", max_tokens=8)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            order = ["raw", "preflab"] if r % 2 == 0 else ["preflab", "raw"]
            row = {}
            for side in order:
                if side == "raw":
                    raw.reset()
                    s, n = run_raw(raw, args.max_tokens, args.temperature)
                else:
                    s, n = run_preflab(llm, Path(tmp), r, args.max_tokens, args.temperature)
                row[side] = {"seconds": s, "completion_tokens": n, "tokens_per_s": n / s}
            row["ratio"] = row["preflab"]["tokens_per_s"] / row["raw"]["tokens_per_s"]
            rows.append(row)
            print(json.dumps({"round": r, **{k: (round(v["tokens_per_s"], 1) if isinstance(v, dict) else round(v, 3)) for k, v in row.items()}}), flush=True)
    llm.close()
    med = lambda side: statistics.median(r[side]["tokens_per_s"] for r in rows)  # noqa: E731
    result = {
        "prompts": len(PROMPTS), "max_tokens": args.max_tokens, "temperature": args.temperature, "rounds": args.rounds,
        "preflab_spec": spec.split("#")[1], "n_threads": threads, "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "raw_tokens_per_s_median": med("raw"), "preflab_tokens_per_s_median": med("preflab"),
        "ratio_of_medians": med("preflab") / med("raw"),
        "ratio_median_of_rounds": statistics.median(r["ratio"] for r in rows),
        "load_average_after": os.getloadavg(), "rounds_detail": rows,
    }
    out = RESULTS.with_name(f"llm_inprocess_{args.spec_options.replace('=', '-').replace('&', '_')}.json") if args.spec_options else RESULTS
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "rounds_detail"}, indent=2))


if __name__ == "__main__":
    main()
