"""What ``import preflab`` costs over a bare interpreter, and what reaching a public function
costs (its module loads on first use), measured side by side: alternating fresh processes,
medians.

    python benchmarks/import_cost.py --rounds 15
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

CASES = {
    "bare python": "pass",
    "import preflab": "import preflab",
    "preflab.generate (first use)": "import preflab; preflab.generate",
    "import preflab.records (pydantic)": "import preflab.records",
}


def wall(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "import_cost.json"))
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.rounds):
        for name, code in CASES.items():
            times[name].append(wall(code))
    bare = statistics.median(times["bare python"])
    rows = {name: {"median_s": statistics.median(t), "extra_over_bare_s": statistics.median(t) - bare,
                   "ratio_to_bare": statistics.median(t) / bare} for name, t in times.items()}
    Path(args.out).write_text(json.dumps({"rounds": args.rounds, "python": sys.version.split()[0], "cases": rows},
                                         indent=2) + "\n")
    for name, row in rows.items():
        print(f"{name:36} {row['median_s']:.3f} s  (+{row['extra_over_bare_s']:.3f} s, {row['ratio_to_bare']:.2f}x)")


if __name__ == "__main__":
    main()
