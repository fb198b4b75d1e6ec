"""MetaRM on HH-RLHF harmless: the plain trainer and the trainer with a MetaRM meta set
sampled from the embedded SmolLM2, same data, seed and validation pairs, side by side.

    .venv/bin/python benchmarks/metarm_hh.py --train 200 --val 300 --meta-prompts 12 --meta-lr 1e-5 1e-3 1e-1

The meta set comes from prompts of the training half (the policy's own samples for them). A
second set of policy samples, for prompts of the validation half, measures what MetaRM is for:
how well the trained RM still tells the policy's own samples apart — the difference objective J
(SPEC §3; higher = more spread) on those held-out samples — beside validation accuracy.
Writes benchmarks/results/metarm_hh.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"


def main() -> None:
    from preflab import io
    from preflab.io.containers import write_jsonl
    from preflab.llm.client import open_llm
    import torch

    from preflab.rm import RewardModelScorer, TrainConfig, train_reward_model
    from preflab.rm.metarm import difference_objective, read_meta_set, sample_meta_set

    parser = argparse.ArgumentParser()
    parser.add_argument("--train", type=int, default=300)
    parser.add_argument("--val", type=int, default=300)
    parser.add_argument("--meta-prompts", type=int, default=16)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--meta-lr", type=float, nargs="+", default=[1e-5], help="One MetaRM run per step size η.")
    parser.add_argument("--max-length", type=int, default=128)
    args = parser.parse_args()
    work = HERE / "results" / "metarm_hh"
    work.mkdir(parents=True, exist_ok=True)
    pairs = list(io.read_pairs(DATA / "hh_rlhf_harmless_base_test.jsonl.gz"))
    train, val = io.split_pairs(pairs, 0.5, seed=0)
    train, val = train[: args.train], val[: args.val]
    meta_path, held_path = work / "meta.jsonl", work / "meta_heldout.jsonl"
    with open_llm("llamacpp", cache=work / "calls.sqlite") as llm:
        rows = sample_meta_set(list(io.prompts_of(train))[: args.meta_prompts], llm, k=args.k, temperature=0.9,
                               max_tokens=96, seed=0)
        held = sample_meta_set(list(io.prompts_of(val))[: args.meta_prompts], llm, k=args.k, temperature=0.9,
                               max_tokens=96, seed=0)
    write_jsonl(rows, meta_path)
    write_jsonl(held, held_path)
    held_set = read_meta_set(held_path)
    result: dict = {"train_pairs": len(train), "val_pairs": len(val), "meta_prompts": len(rows),
                    "heldout_meta_prompts": len(held), "k": args.k, "runs": {}}
    runs = [("plain", {})] + [(f"metarm eta={eta:g}", {"meta_set": str(meta_path), "meta_lr": eta}) for eta in args.meta_lr]
    for name, extra in runs:
        started = time.perf_counter()
        res = train_reward_model(train, TrainConfig(model="minilm", max_length=args.max_length, epochs=1, lr=1e-4,
                                                    seed=0, progress=False, **extra), val_pairs=val)
        scorer = RewardModelScorer(res.backbone, res.renderer)
        r = torch.tensor([scorer.score(prompt, responses) for prompt, responses in held_set])
        result["runs"][name] = {"val_accuracy": res.best_val_accuracy, "heldout_policy_J": float(difference_objective(r)),
                                "heldout_policy_reward_std": float(r.std(dim=1).mean()), "history": res.history,
                                "train_s": time.perf_counter() - started}
        print(name, json.dumps(result["runs"][name]), flush=True)
    result["command"] = "python benchmarks/metarm_hh.py " + " ".join(
        f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in vars(args).items())
    (HERE / "results" / "metarm_hh.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
