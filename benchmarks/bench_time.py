"""A whole ``preflab bench`` from an empty cache, once per generator spec: wall time side by side.

Issue 13's end-to-end figure: the same bench config run with today's generation path
(``llamacpp#weights=file&batch=1&prefix_block=8``: the shipped Q4_1 file, one sequence at a
time, 8-token pre-fill blocks) and with the default (``llamacpp``: Q8_0 weights, batched,
64-token pre-fill blocks), each in a fresh ``PREFLAB_CACHE`` and a fresh run
folder, one after the other in a child process of its own (so neither inherits the other's
imports or loaded model). Only the config's ``llm`` differs. Records per path the wall time, the
CPU seconds of the child (user + system, all threads), the load average around it, the bench's
own step times and cost per method, and its tables; then the ratio of wall times.

    python benchmarks/bench_time.py examples/hh_harmless_west_of_n.yaml            # ~40 min here
    python benchmarks/bench_time.py CONFIG --paths "today=llamacpp#weights=file&batch=1&prefix_block=8" "default=llamacpp"
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
PATHS = ["today=llamacpp#weights=file&batch=1&prefix_block=8", "default=llamacpp"]


def run_one(config: Path, spec: str, run_dir: Path) -> None:
    """Child process: the bench of ``config`` with its ``llm`` set to ``spec``; relative paths
    resolve against the config's folder as they would for the file itself."""
    from preflab.api.bench import bench

    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["llm"] = spec
    os.chdir(config.resolve().parent)
    bench(data, run_dir=run_dir)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config", type=Path)
    parser.add_argument("--paths", nargs="+", default=PATHS, help="NAME=SPEC, run in this order")
    parser.add_argument("--child", nargs=2, metavar=("SPEC", "RUN_DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "bench_time.json")
    args = parser.parse_args()
    if args.child:
        return run_one(args.config, args.child[0], Path(args.child[1]))
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for item in args.paths:
            name, spec = item.split("=", 1)
            run_dir = Path(tmp) / f"run-{name}"
            env = {**os.environ, "PREFLAB_CACHE": str(Path(tmp) / f"cache-{name}"), "HF_HUB_OFFLINE": "1",
                   "TRANSFORMERS_OFFLINE": "1"}
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            load_before, started = os.getloadavg(), time.perf_counter()
            subprocess.run([sys.executable, __file__, str(args.config), "--child", spec, str(run_dir)], env=env, check=True)
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            results = json.loads((run_dir / "results.json").read_text())
            rows[name] = {
                "spec": spec, "wall_s": round(wall, 1),
                "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
                "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
                "bench_wall_s": results.get("wall_s"), "methods": results.get("methods"),
                "results_md": (run_dir / "results.md").read_text(),
            }
            print(f"{name} ({spec}): wall {wall:.0f} s, CPU {rows[name]['cpu_s']:.0f} s", flush=True)
            write(args, rows)  # after every path: a stopped run keeps the finished ones


def write(args: argparse.Namespace, rows: dict) -> None:
    names = list(rows)
    result = {"config": str(args.config), "cpu_count": os.cpu_count(), "paths": rows,
              "wall_ratio": {f"{n}/{names[0]}": round(rows[n]["wall_s"] / rows[names[0]]["wall_s"], 3) for n in names[1:]},
              "command": f"python benchmarks/bench_time.py {args.config} --paths " + " ".join(f'"{p}"' for p in args.paths)}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["wall_ratio"]), flush=True)


if __name__ == "__main__":
    main()
