"""How much does a cache hit cost? 10,000 finished calls answered again from the SQLite cache.

A rerun of an interrupted job is answered from the cache, so the per-hit cost bounds how fast
a resumed job catches up. Three ways to read the same 10,000 entries, alternating, 3 repeats:

* preflab ``LLM.complete`` one prompt at a time (sync: hits answered in the caller's thread),
* preflab ``LLM.complete_many`` with all 10,000 prompts (through the async loop),
* reference: a bare ``SELECT response FROM calls WHERE key = ?`` + ``json.loads`` per key,
  with the keys precomputed (the floor: no hashing, no objects, no accounting).

    .venv/bin/python benchmarks/llm_cache.py [--hits 10000]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from preflab.llm import CallCache, Request, open_llm
from preflab.llm.fake import FakeBackend

RESULTS = Path(__file__).parent / "results" / "llm_cache.json"


def prompts(n: int) -> list[str]:
    return [f"Question {i}: explain why a reward model needs preference pairs, briefly." for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hits", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    texts = prompts(args.hits)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "calls.sqlite3"
        fill = open_llm(FakeBackend(default="a cached answer of a few words", max_concurrency=64), cache=path)
        fill.complete_many([Request(t) for t in texts])
        fill.close()
        with sqlite3.connect(path) as db:
            keys = [row[0] for row in db.execute("SELECT key FROM calls")]
        assert len(keys) == args.hits

        llm = open_llm(FakeBackend(strict=True), cache=CallCache(path))  # any miss would raise
        single, many, floor = [], [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            for t in texts:
                llm.complete(t)
            single.append(time.perf_counter() - start)

            start = time.perf_counter()
            out = llm.complete_many([Request(t) for t in texts])
            many.append(time.perf_counter() - start)
            assert len(out) == args.hits and all(o[0].cached for o in out)

            db = sqlite3.connect(path)
            start = time.perf_counter()
            for k in keys:
                json.loads(db.execute("SELECT response FROM calls WHERE key = ?", (k,)).fetchone()[0])
            floor.append(time.perf_counter() - start)
            db.close()
        assert llm.backend.calls == []
        llm.close()

    us = lambda s: statistics.median(s) / args.hits * 1e6  # noqa: E731
    result = {
        "hits": args.hits,
        "repeats": args.repeats,
        "preflab_complete_us_per_hit": us(single),
        "preflab_complete_many_us_per_hit": us(many),
        "sqlite_select_json_floor_us_per_hit": us(floor),
        "ratio_complete_over_floor": us(single) / us(floor),
        "ratio_complete_many_over_floor": us(many) / us(floor),
        "raw_seconds": {"complete": single, "complete_many": many, "floor": floor},
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "raw_seconds"}, indent=2))


if __name__ == "__main__":
    main()
