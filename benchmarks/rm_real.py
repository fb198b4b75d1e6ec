"""Accuracy on real human preferences, and the cheap embedding-head RM beside the fine-tuned one.

Data (../shared/data): HH-RLHF harmless-base test split, halved by prompt with a seed
(``split_pairs``, test fraction 0.5); the model trains on one half and is evaluated on the
other, then on PandaLM's test set (majority label; unanimous pairs = high-confidence subset).
Null baselines (longer-response-wins; first-position-wins where the position is known) are
scored on the same pairs. The cheap recipe (frozen MiniLM embeddings cached on disk + a small
BT-trained head) trains on the same half and is evaluated on the same pairs.

    .venv/bin/python benchmarks/rm_real.py --backbone minilm --max-length 256 --epochs 1
    .venv/bin/python benchmarks/rm_real.py --skip-finetune          # cheap recipe only

Writes benchmarks/results/rm_real_<backbone>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


def _summary(result: dict) -> dict:
    def one(r):
        out = {"n": r["n"], "accuracy": r["accuracy"], "ci95": r["ci95"]}
        if "high_confidence" in r:
            out["high_confidence"] = {k: r["high_confidence"][k] for k in ("n", "accuracy", "ci95")}
        return out

    return {"model": {**one(result["model"]), "ece": result["model"]["calibration"]["ece"]},
            **{name: one(r) for name, r in result["baselines"].items()}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backbone", default="minilm")
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--train-limit", type=int, default=None, help="Use only the first N training pairs (smaller budget).")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-finetune", action="store_true")
    ap.add_argument("--embed-max-length", type=int, default=128, help="Encoder tokens per text for the cheap recipe.")
    ap.add_argument("--gradient-checkpointing", action="store_true")
    a = ap.parse_args()

    import torch

    from preflab.evaluation.report import evaluate_pairs
    from preflab.io import read_pairs, split_pairs
    from preflab.rm import EmbedHeadConfig, RewardModelScorer, TrainConfig, score_pairs, train_embed_head, train_reward_model

    torch.set_num_threads(2)
    hh = list(read_pairs(DATA / "hh_rlhf_harmless_base_test.jsonl.gz", "hh-rlhf"))
    train, test = split_pairs(hh, 0.5, a.seed)
    if a.train_limit:
        train = train[: a.train_limit]
    panda = list(read_pairs(DATA / "pandalm_testset_v1.json", "pandalm"))
    out: dict = {"benchmark": "rm_real", "backbone": a.backbone, "train_pairs": len(train), "hh_test_pairs": len(test),
                 "pandalm_pairs": len(panda), "seed": a.seed, "command": "python benchmarks/rm_real.py " + " ".join(sys.argv[1:])}

    start = time.perf_counter()
    head = train_embed_head(train, EmbedHeadConfig(model="minilm", seed=a.seed, max_length=a.embed_max_length))
    out["cheap_train_seconds_incl_embedding"] = time.perf_counter() - start
    start = time.perf_counter()
    head = train_embed_head(train, EmbedHeadConfig(model="minilm", seed=a.seed, max_length=a.embed_max_length), cache=head.cache)
    out["cheap_train_seconds_cached"] = time.perf_counter() - start
    out["cheap"] = {"hh_test": _summary(evaluate_pairs(test, score_pairs(head, test))),
                    "pandalm": _summary(evaluate_pairs(panda, score_pairs(head, panda)))}
    print(json.dumps({"cheap": out["cheap"]}, indent=1), flush=True)

    if not a.skip_finetune:
        cfg = TrainConfig(model=a.backbone, max_length=a.max_length, epochs=a.epochs, lr=a.lr, batch_size=a.batch_size,
                          seed=a.seed, threads=2, gradient_checkpointing=a.gradient_checkpointing, progress=False)
        start = time.perf_counter()
        res = train_reward_model(train, cfg)
        out["finetune_seconds"] = time.perf_counter() - start
        out["finetune_pairs_per_second"] = res.pairs_per_second
        scorer = RewardModelScorer(res.backbone, res.renderer, batch_size=16)
        out["finetuned"] = {"config": {"max_length": a.max_length, "epochs": a.epochs, "lr": a.lr, "batch_size": a.batch_size},
                            "hh_test": _summary(evaluate_pairs(test, score_pairs(scorer, test))),
                            "pandalm": _summary(evaluate_pairs(panda, score_pairs(scorer, panda)))}
        print(json.dumps({"finetuned": out["finetuned"]}, indent=1), flush=True)
    name = "rm_real_cheap" if a.skip_finetune else f"rm_real_{a.backbone}"
    (REPO / "benchmarks" / "results" / f"{name}.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
