"""The ``openai`` backend with requests in flight vs a sequential plain-client loop, against a
real llama.cpp OpenAI-compatible server (``python -m llama_cpp.server``, embedded SmolLM2).

Reference: the loop a user would write with the ``openai`` SDK: one
``client.chat.completions.create`` after another. preflab: ``LLM.complete_many`` with
``concurrency`` requests in flight (default 8), cache off. Same prompts, options and seeds.
Rounds alternate the order; medians of tokens/s and their ratio are reported, with the
server's parallel setting: llama-cpp-python's server has no parallel slots (one lock around
the model), so requests in flight cannot add throughput there; the figure shows what the
client costs or saves, not what a batching server (vLLM, llama.cpp's C++ ``llama-server
--parallel N``) would gain.

    .venv/bin/python benchmarks/llm_server.py [--rounds 3 --prompts 16 --concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import openai

from preflab.llm import Request, open_llm, sample_seed
from preflab.llm.embedded import default_model_path

RESULTS = Path(__file__).parent / "results" / "llm_server.json"
TOPICS = ["the sea", "tax law", "a red bicycle", "photosynthesis", "chess openings", "bread baking", "volcanoes",
          "jazz", "honey bees", "rainbows", "recycling", "mountain hiking", "binary search", "the moon", "tea", "owls"]


def start_server(log: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(default_model_path()), "--model_alias", "smollm2",
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", str(min(os.cpu_count() or 1, 8)),
           "--interrupt_requests", "False"]
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            env={**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")})
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server did not start: {log.read_text()[-2000:]}")


def run_plain(url: str, prompts: list[str], max_tokens: int, temperature: float) -> tuple[float, int]:
    client = openai.OpenAI(base_url=url, api_key="no-key")
    tokens = 0
    start = time.perf_counter()
    for p in prompts:
        out = client.chat.completions.create(model="smollm2", messages=[{"role": "user", "content": p}],
                                             max_tokens=max_tokens, temperature=temperature, seed=sample_seed(0, 0))
        tokens += out.usage.completion_tokens
    elapsed = time.perf_counter() - start
    client.close()
    return elapsed, tokens


def run_preflab(url: str, prompts: list[str], max_tokens: int, temperature: float, concurrency: int) -> tuple[float, int]:
    llm = open_llm(f"openai:{url}#model=smollm2&concurrency={concurrency}", cache=False)
    start = time.perf_counter()
    results = llm.complete_many([Request(p, {"max_tokens": max_tokens, "temperature": temperature, "seed": 0}) for p in prompts])
    elapsed = time.perf_counter() - start
    llm.close()
    return elapsed, sum(r[0].completion_tokens for r in results)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    prompts = [f"Write two sentences about {t}." for t in TOPICS][: args.prompts]
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp) / "server.log")
        try:
            run_plain(url, prompts[:2], 8, 0.0)  # warm-up
            rows = []
            for r in range(args.rounds):
                row = {}
                for side in (["plain", "preflab"] if r % 2 == 0 else ["preflab", "plain"]):
                    s, n = (run_plain(url, prompts, args.max_tokens, args.temperature) if side == "plain"
                            else run_preflab(url, prompts, args.max_tokens, args.temperature, args.concurrency))
                    row[side] = {"seconds": s, "completion_tokens": n, "tokens_per_s": n / s}
                row["ratio"] = row["preflab"]["tokens_per_s"] / row["plain"]["tokens_per_s"]
                rows.append(row)
                print(json.dumps({"round": r, "plain": round(row["plain"]["tokens_per_s"], 1),
                                  "preflab": round(row["preflab"]["tokens_per_s"], 1), "ratio": round(row["ratio"], 3)}), flush=True)
        finally:
            proc.terminate()
            proc.wait(10)
    med = lambda side: statistics.median(r[side]["tokens_per_s"] for r in rows)  # noqa: E731
    result = {
        "server": "python -m llama_cpp.server (llama-cpp-python), --interrupt_requests False",
        "server_parallel": "none: one lock around one model, requests are served one at a time",
        "prompts": len(prompts), "max_tokens": args.max_tokens, "temperature": args.temperature,
        "preflab_concurrency": args.concurrency, "rounds": args.rounds,
        "plain_sequential_tokens_per_s_median": med("plain"), "preflab_in_flight_tokens_per_s_median": med("preflab"),
        "ratio_of_medians": med("preflab") / med("plain"),
        "ratio_median_of_rounds": statistics.median(r["ratio"] for r in rows),
        "load_average_after": os.getloadavg(), "rounds_detail": rows,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "rounds_detail"}, indent=2))


if __name__ == "__main__":
    main()
