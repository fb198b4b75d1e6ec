"""How fast is `preflab data inspect` on 100k records, next to the floor of just parsing?

Reference: a bare loop of ``json.loads`` over the same lines (no validation, no stats). Both
run in this process, alternating, 3 repeats; medians and their ratio are reported. The CLI is
also timed end to end (process start included) once.

    .venv/bin/python benchmarks/data_inspect.py [--records 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from preflab.quality.pair_stats import pair_stats
from preflab.io import read_pairs

WORDS = "the a reward model prefers helpful honest answers über 数据 🙂 to vague replies".split()


def make_file(path: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            turns = [{"role": "user", "content": " ".join(rng.choices(WORDS, k=rng.randint(5, 40)))}]
            fh.write(json.dumps({
                "prompt": turns,
                "chosen": f"{i} " + " ".join(rng.choices(WORDS, k=rng.randint(10, 120))),
                "rejected": f"{i}r " + " ".join(rng.choices(WORDS, k=rng.randint(10, 120))),
                "category": rng.choice(["chat", "code", "safety"]),
            }, ensure_ascii=False) + "\n")


def time_preflab(path: Path) -> float:
    start = time.perf_counter()
    stats = pair_stats(read_pairs(path))
    elapsed = time.perf_counter() - start
    assert stats.records > 0
    return elapsed


def time_reference(path: Path) -> float:
    start = time.perf_counter()
    with open(path, "rb") as fh:
        rows = [json.loads(line) for line in fh]
    elapsed = time.perf_counter() - start
    assert rows
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pairs.jsonl"
        make_file(path, args.records)
        ours, ref = [], []
        for _ in range(args.repeats):
            ref.append(time_reference(path))
            ours.append(time_preflab(path))
        start = time.perf_counter()
        cli = subprocess.run([sys.executable, "-m", "preflab", "data", "inspect", str(path)], capture_output=True, text=True)
        cli_s = time.perf_counter() - start
        if cli.returncode != 0:
            raise SystemExit(cli.stderr)
    result = {
        "records": args.records,
        "preflab_inspect_median_s": statistics.median(ours),
        "json_loads_only_median_s": statistics.median(ref),
        "ratio_preflab_over_json_loads": statistics.median(ours) / statistics.median(ref),
        "cli_end_to_end_s": cli_s,
        "records_per_s": args.records / statistics.median(ours),
    }
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results" / "data_inspect.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
