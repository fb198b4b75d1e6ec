"""Time the test suite (or part of it) test by test: runs ``pytest -q -rs --durations=0`` on the
given paths, or reads the log of such a run (``--log``), and writes the per-test times (setup +
call + teardown), the pytest total, the counts and the skip list as JSON.

    .venv/bin/python benchmarks/suite_durations.py --out benchmarks/results/ci_durations.json tests/
    .venv/bin/python benchmarks/suite_durations.py --log run.log --out ...   # a finished run's log
    .venv/bin/python benchmarks/suite_durations.py --compare before.json after.json
    .venv/bin/python benchmarks/suite_durations.py --against OLD_CHECKOUT --out ... tests/a.py::t tests/b.py

``--compare`` prints the totals and the tests whose time changed most. The machine is shared:
compare the tests you changed side by side, not one absolute total. ``--against`` does that: for
each argument in turn (``file::a+b``: tests a and b in one session) it runs the test(s) in OLD_CHECKOUT (with its own ``src``) and then here,
and sums the per-test times of each side (a test that exists on one side only counts there).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

DURATION = re.compile(r"^([\d.]+)s (setup|call|teardown)\s+(\S+)$")
SUMMARY = re.compile(r"^=*\s*(.*\bin ([\d.]+)s\b.*?)\s*=*$")
SKIP = re.compile(r"^SKIPPED \[\d+\] (.*)$")


def parse(log: str) -> dict:
    tests: dict[str, dict[str, float]] = defaultdict(dict)
    total, summary, skipped = None, "", []
    for line in log.splitlines():
        line = line.strip()
        if m := DURATION.match(line):
            tests[m.group(3)][m.group(2)] = float(m.group(1))
        elif m := SKIP.match(line):
            skipped.append(m.group(1))
        elif (m := SUMMARY.match(line)) and (" passed" in line or " failed" in line):
            summary, total = m.group(1), float(m.group(2))
    per_test = {name: round(sum(parts.values()), 2) for name, parts in tests.items()}
    return {"pytest_total_s": total, "summary": summary, "skipped": sorted(skipped),
            "sum_of_test_times_s": round(sum(per_test.values()), 1),
            "tests": dict(sorted(per_test.items(), key=lambda kv: -kv[1])), "phases": tests}


def compare(before: dict, after: dict, top: int = 25) -> None:
    print(f"pytest total: {before['pytest_total_s']} s -> {after['pytest_total_s']} s")
    print(f"sum of per-test times: {before['sum_of_test_times_s']} s -> {after['sum_of_test_times_s']} s")
    names = set(before["tests"]) | set(after["tests"])
    rows = sorted(names, key=lambda n: -abs(after["tests"].get(n, 0) - before["tests"].get(n, 0)))
    for name in rows[:top]:
        print(f"{before['tests'].get(name, '-'):>8} {after['tests'].get(name, '-'):>8}  {name}")
    if before["skipped"] != after["skipped"]:
        print("skip lists differ:", sorted(set(before["skipped"]) ^ set(after["skipped"])))


def run_pytest(repo: Path, paths: list[str]) -> dict:
    cmd = [sys.executable, "-m", "pytest", "-q", "-rs", "--durations=0", "-p", "no:cacheprovider", *paths]
    env = {**os.environ, "PYTHONPATH": str(repo / "src")}
    return parse(subprocess.run(cmd, capture_output=True, text=True, cwd=repo, env=env).stdout)


def exists(repo: Path, node: str) -> bool:
    path, _, name = node.partition("::")
    return (repo / path).exists() and (not name or f"def {name.split('[')[0]}(" in (repo / path).read_text())


def side_by_side(old: Path, new: Path, nodes: list[str]) -> dict:
    sides: dict[str, dict] = {"before": {}, "after": {}}
    summaries: dict[str, list] = {"before": [], "after": []}
    for node in nodes:  # "file::a+b" runs tests a and b of file in one session (shared fixtures)
        path, _, names = node.partition("::")
        group = [f"{path}::{name}" for name in names.split("+")] if names else [path]
        for side, repo in (("before", old), ("after", new)):
            if here := [n for n in group if exists(repo, n)]:
                result = run_pytest(repo, here)
                sides[side].update(result["tests"])
                summaries[side].append(f"{node}: {result['summary']}")
                print(f"{side:6} {result['sum_of_test_times_s']:8.1f}s  {node}  ({result['summary']})", flush=True)
    return {side: {"sum_of_test_times_s": round(sum(t.values()), 1), "runs": summaries[side], "tests": t}
            for side, t in sides.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", help="pytest arguments (test paths, -k ...)")
    ap.add_argument("--log", type=Path, help="parse this pytest log instead of running pytest")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    ap.add_argument("--against", type=Path, metavar="OLD_CHECKOUT", help="time each argument there, then here")
    args = ap.parse_args()
    if args.against:
        result = {"command": "suite_durations.py --against OLD " + " ".join(args.paths),
                  **side_by_side(args.against.resolve(), Path(__file__).resolve().parents[1], args.paths)}
        print(f"sum of per-test times: before {result['before']['sum_of_test_times_s']} s, "
              f"after {result['after']['sum_of_test_times_s']} s")
        if args.out:
            args.out.write_text(json.dumps(result, indent=1) + "\n")
        return
    if args.compare:
        compare(*(json.loads(p.read_text()) for p in args.compare))
        return
    if args.log:
        log = args.log.read_text(errors="replace")
    else:
        cmd = [sys.executable, "-m", "pytest", "-q", "-rs", "--durations=0", *args.paths]
        log = subprocess.run(cmd, capture_output=True, text=True).stdout
    result = {"command": "pytest -q -rs --durations=0 " + " ".join(args.paths) if not args.log else "(from a log)",
              **parse(log)}
    print(f"{result['summary']}; sum of per-test times {result['sum_of_test_times_s']} s")
    for name, seconds in list(result["tests"].items())[:15]:
        print(f"{seconds:8.2f}s  {name}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
