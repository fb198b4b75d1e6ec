"""What do the reader's checks for values no file can hold cost (NaN/Infinity tokens, lone
surrogates, rows nested too deep; docs/formats.md#validation-and-writing)?

`read_pairs` over 100,000 pairs, this tree against the tree of ``--before`` (a git revision
without the checks), each in its own process, alternating, ``--repeats`` rounds; medians and
their ratio. Two files: UTF-8 text (``ensure_ascii=False``), and the same rows as Python's
``json.dumps`` writes them by default (non-ASCII as ``\\u`` escapes: its emoji are surrogate
pairs, so every such row takes the slow path that looks for a lone surrogate). And the real
HH-RLHF harmless test file (../shared/data, 2,312 pairs in its own layout) when it is there.

    .venv/bin/python benchmarks/read_checks.py [--records 100000] [--repeats 3] [--before bcb70e0]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORDS = "the a reward model prefers helpful honest answers über 数据 🙂 to vague replies".split()
TIMER = """
import sys, time
from preflab.io import read_pairs
start = time.perf_counter()
n = sum(1 for _ in read_pairs(sys.argv[1]))
print(time.perf_counter() - start, n)
"""


def make_file(path: Path, n: int, ascii_escapes: bool, seed: int = 0) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({
                "prompt": [{"role": "user", "content": " ".join(rng.choices(WORDS, k=rng.randint(5, 40)))}],
                "chosen": f"{i} " + " ".join(rng.choices(WORDS, k=rng.randint(10, 120))),
                "rejected": f"{i}r " + " ".join(rng.choices(WORDS, k=rng.randint(10, 120))),
                "chosen_score": rng.random(), "provenance": {"method": "rlcd", "scores": [rng.random(), rng.random()]},
            }, ensure_ascii=ascii_escapes) + "\n")


def source_of(revision: str, into: Path) -> Path:
    archive = into / "src.tar"
    subprocess.run(["git", "-C", str(REPO), "archive", "-o", str(archive), revision, "src"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def timed(src: Path, data: Path) -> float:
    out = subprocess.run([sys.executable, "-c", TIMER, str(data)], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"})
    seconds, count = out.stdout.split()
    assert int(count) > 0
    return float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--before", default="bcb70e0")
    args = parser.parse_args()
    result: dict = {"records": args.records, "before": args.before, "repeats": args.repeats}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        before, now = source_of(args.before, tmp), REPO / "src"
        real = REPO.parent / "shared" / "data" / "hh_rlhf_harmless_base_test.jsonl.gz"
        for name, escapes in (("utf8_text", False), ("ascii_escapes", True), ("hh_rlhf_real", None)):
            data = real if escapes is None else tmp / f"{name}.jsonl"
            if escapes is None and not real.exists():
                continue
            if escapes is not None:
                make_file(data, args.records, escapes)
            old, new = [], []
            for _ in range(args.repeats):
                old.append(timed(before, data))
                new.append(timed(now, data))
            result[name] = {"before_median_s": statistics.median(old), "checks_median_s": statistics.median(new),
                            "ratio": statistics.median(new) / statistics.median(old)}
    print(json.dumps(result, indent=2))
    (Path(__file__).parent / "results" / "read_checks.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
