"""``preflab quickstart`` from an empty cache: wall time, CPU time and its table.

Runs the command exactly as a user would (``python -m preflab quickstart``) with a fresh
``PREFLAB_CACHE`` and a fresh run folder, and records the wall time, the CPU seconds of the
command (user + system, all its threads: a load-independent measure of the work; on an idle
2-core machine the wall time lies between CPU/2 and CPU), the load average before and after,
and the quickstart's own results (accuracies, paired differences, cost per method).

    .venv/bin/python benchmarks/quickstart_time.py            # writes benchmarks/results/quickstart.json
    .venv/bin/python benchmarks/quickstart_time.py --results quickstart_other.json -- --budget 50
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("extra", nargs="*", help="extra quickstart options, e.g. -- --budget 10")
    parser.add_argument("--results", default="quickstart.json", help="results file name in benchmarks/results/")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PREFLAB_CACHE": str(Path(tmp) / "cache"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        out = Path(tmp) / "quickstart"
        load_before = os.getloadavg()
        started = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "preflab", "quickstart", "--out", str(out), *args.extra], env=env,
                             stderr=subprocess.PIPE, text=True)
        sys.stderr.write(run.stderr)
        run.check_returncode()
        step_log = [line for line in run.stderr.splitlines() if re.match(r"\d\d:\d\d:\d\d ", line)]  # where the time went
        wall = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        results = json.loads((out / "results.json").read_text())
        table = (out / "results.md").read_text()
    result = {
        "command": " ".join(["preflab quickstart", *args.extra]),
        "wall_s": round(wall, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "cpu_count": os.cpu_count(), "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
        "step_log": step_log,
        "results_md": table,
        "table": results["table"], "methods": results["methods"], "eval_sets": results["eval_sets"],
    }
    (HERE / "results" / args.results).write_text(json.dumps(result, indent=2) + "\n")
    print(table)
    print(f"wall {wall:.0f} s, CPU {result['cpu_s']:.0f} s, load {load_before[0]:.1f} -> {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
