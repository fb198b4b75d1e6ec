"""How consistent and how right is SmolLM2 as a pairwise judge? 200 PandaLM pairs (three human
annotators each), asked in both orders.

    .venv/bin/python benchmarks/judge_pandalm.py --limit 200

Runs `preflab judge` (the CLI's code path) with its own call cache; writes
benchmarks/results/judge_pandalm.json: order consistency, agreement with the human majority
(all pairs, and when the judge was consistent), share of "A" votes (position bias), per
agreement level (unanimous vs 2-1).
"""

from __future__ import annotations

import argparse
import os
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--llm", default="llamacpp")
    args = parser.parse_args()
    work = HERE / "results" / "judge_pandalm"
    work.mkdir(parents=True, exist_ok=True)
    out = work / "verdicts.jsonl"
    cmd = [sys.executable, "-m", "preflab", "judge", str(DATA / "pandalm_testset_v1.json"), "--out", str(out),
           "--llm", args.llm, "--limit", str(args.limit), "--cache-path", str(work / "calls.sqlite")]
    subprocess.run(cmd, check=True)
    run = json.loads(Path(str(out) + ".run.json").read_text())
    result = {"command": " ".join(["preflab", *(os.path.relpath(c, HERE.parent) if c.startswith("/") else c for c in cmd[3:])]), "judge": run["judge"], "summary": run["summary"],
              "tokens": run["usage"]["total"]}
    (HERE / "results" / "judge_pandalm.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
