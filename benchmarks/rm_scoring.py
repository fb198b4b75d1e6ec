"""Length-sorted vs unsorted scoring batches, same model, same items, same batch size.

Reference: ``RewardModelScorer(sort_by_length=False)`` — batches in input order, padded to the
longest member (what a plain loop over a dataset does). Both run in this process, alternating,
``--repeats`` times; medians of items/s and their ratio are reported, and the scores are
checked to agree (1e-4). Items: both responses of real HH-RLHF harmless-base pairs.

    .venv/bin/python benchmarks/rm_scoring.py --backbone minilm --pairs 256 --max-length 512

Writes benchmarks/results/rm_scoring.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "hh_rlhf_harmless_base_test.jsonl.gz"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backbone", default="minilm")
    ap.add_argument("--pairs", type=int, default=256)
    ap.add_argument("--max-length", type=int, default=512)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()

    import torch

    from preflab.io import read_pairs
    from preflab.rm.backbone import disable_dropout, load_backbone
    from preflab.rm.render import Renderer
    from preflab.rm.scorer import RewardModelScorer

    torch.set_num_threads(2)
    torch.manual_seed(0)
    bb = load_backbone(a.backbone)
    disable_dropout(bb.model)
    renderer = Renderer(bb.tokenizer, a.max_length, is_decoder=bb.is_decoder)
    pairs = list(itertools.islice(read_pairs(DATA, "hh-rlhf"), a.pairs))
    items = [(p.prompt, r) for p in pairs for r in (p.chosen, p.rejected)]
    lengths = [len(renderer.encode_one(p, r).full(0)) for p, r in items]
    scorers = {s: RewardModelScorer(bb, renderer, batch_size=a.batch_size, sort_by_length=s) for s in (True, False)}
    times: dict[bool, list[float]] = {True: [], False: []}
    scores = {}
    for _ in range(a.repeats):
        for s in (False, True):
            start = time.perf_counter()
            scores[s] = scorers[s].score_many(items)
            times[s].append(time.perf_counter() - start)
            print(f"sorted={s}: {times[s][-1]:.1f}s", flush=True)
    worst = max(abs(x - y) for x, y in zip(scores[True], scores[False]))
    rate = {s: len(items) / statistics.median(t) for s, t in times.items()}

    def padded(order):
        total = 0
        for i in range(0, len(order), a.batch_size):
            b = order[i:i + a.batch_size]
            total += len(b) * max(lengths[j] for j in b)
        return total

    out = {
        "benchmark": "rm_scoring", "backbone": a.backbone, "items": len(items), "batch_size": a.batch_size,
        "max_length": a.max_length, "repeats": a.repeats, "threads": 2,
        "median_items_per_second": {"sorted": rate[True], "unsorted": rate[False]},
        "speedup": rate[True] / rate[False], "max_score_difference": worst,
        "padded_tokens": {"sorted": padded(sorted(range(len(items)), key=lengths.__getitem__)),
                          "unsorted": padded(list(range(len(items)))), "real": sum(lengths)},
        "seconds": {"sorted": times[True], "unsorted": times[False]},
        "command": "python benchmarks/rm_scoring.py " + " ".join(sys.argv[1:]),
    }
    if worst > 1e-4:
        raise SystemExit(f"sorted and unsorted scores differ by {worst}")
    path = REPO / "benchmarks" / "results" / "rm_scoring.json"
    path.write_text(json.dumps(out, indent=2))
    print(json.dumps({k: out[k] for k in ("median_items_per_second", "speedup", "padded_tokens")}, indent=2))


if __name__ == "__main__":
    main()
