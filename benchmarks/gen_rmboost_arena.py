"""RMBoost on Arena-Hard prompts with the embedded SmolLM2 (llama.cpp in-process): how many
prompts yield a valid pair, the label balance, and why the others failed.

    .venv/bin/python benchmarks/gen_rmboost_arena.py --limit 50
    .venv/bin/python benchmarks/gen_rmboost_arena.py --limit 50 --keep-truncated

Runs `preflab generate rmboost` (the same code path as the CLI) with its own call cache under
benchmarks/results/, so a rerun is free; writes benchmarks/results/gen_rmboost_arena.json.
"""

from __future__ import annotations

import argparse
import os
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--keep-truncated", action="store_true", help="Keep first responses cut at max-tokens (flagged).")
    args = parser.parse_args()
    name = "gen_rmboost_arena" + ("_keep_truncated" if args.keep_truncated else "")
    work = HERE / "results" / name
    work.mkdir(parents=True, exist_ok=True)
    out = work / "pairs.jsonl"
    cmd = [sys.executable, "-m", "preflab", "generate", "rmboost", "--prompts", str(DATA / "arena_hard_v0.1_questions.jsonl"),
           "--out", str(out), "--limit", str(args.limit), "--cache-path", str(work / "calls.sqlite"),
           "--max-tokens", str(args.max_tokens), "--rewrite-max-tokens", str(args.max_tokens + 128)]
    if args.keep_truncated:
        cmd.append("--keep-truncated")
    subprocess.run(cmd, check=True)
    pairs = [json.loads(line) for line in out.read_text().splitlines()]
    failures = [json.loads(line) for line in Path(str(out) + ".failures.jsonl").read_text().splitlines()]
    run = json.loads(Path(str(out) + ".run.json").read_text())
    labels = Counter(p["provenance"]["label"] for p in pairs)
    attempts = Counter(p["provenance"]["attempts"] for p in pairs)
    result = {
        "command": " ".join(["preflab", *(os.path.relpath(c, HERE.parent) if c.startswith("/") else c for c in cmd[3:])]),
        "prompts": args.limit,
        "valid_pairs": len(pairs),
        "valid_share": len(pairs) / args.limit,
        "labels": dict(labels),
        "attempts_of_valid_pairs": dict(attempts),
        "failure_reasons": dict(Counter(f["reason"] for f in failures)),
        "rewrite_attempt_failures": dict(Counter(r for p in pairs for r in p["provenance"]["failed_attempts"])),
        "aspects_drawn": dict(Counter(a for p in pairs for a in p["provenance"]["aspects"])),
        "tokens": run["usage"]["total"],
        "wall_s": run["wall_s"],
    }
    result["first_response_truncated_in_pairs"] = sum(p["provenance"].get("base_truncated", False) for p in pairs)
    (HERE / "results" / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
