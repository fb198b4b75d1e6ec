"""Label repair on HH-RLHF harmless: how much noise does the ensemble see, and does repairing
it help a reward model on held-out human pairs?

One seeded half (by prompt) is the training data; its preference strength comes from an
ensemble (default: 10 MiniLM heads); RMs are trained on the raw, flip (lowest 10% μ), margin,
flip+margin and smoothing (α = 0.1 on the lowest 20% μ) versions with several seeds, and
evaluated on the other half. One table, one command:

    .venv/bin/python benchmarks/hh_treatments.py --seeds 0 1 2

Writes benchmarks/results/hh_treatments.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"

TREATMENTS = {
    "raw": None,
    "flip": {"flip_fraction": 0.1},
    "margin": {"margin": True},
    "flip+margin": {"flip_fraction": 0.1, "margin": True},
    "smoothing": {"smooth_alpha": 0.1, "smooth_fraction": 0.2},
}


def train_and_score(recipe: str, train, test, seed: int, max_length: int, work: Path) -> float:
    from preflab.evaluation import pairwise_accuracy
    from preflab.rm.recipes import train_scorer
    from preflab.rm.scorer import score_pairs

    options = {"precision": "bf16", "progress": False} if recipe == "finetune" else {}
    scorer = train_scorer(train, {"recipe": recipe, "max_length": max_length, **options}, seed, cache_dir=work / "embeddings").scorer
    return pairwise_accuracy([c - r for c, r in score_pairs(scorer, test)])  # the one accuracy (ties count half)


def main() -> None:
    from preflab import io
    from preflab.pipelines.strength import compute_strength
    from preflab.quality.strength import StrengthConfig
    from preflab.quality.treatments import CleanConfig, clean_pairs

    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--strength-mode", default="heads")
    parser.add_argument("--strength-recipe", default="embed-head", choices=["embed-head", "finetune"],
                        help="Trunk of the heads ensemble (member model of seeds/bootstrap).")
    parser.add_argument("--recipe", default="embed-head", choices=["embed-head", "finetune"])
    parser.add_argument("--max-length", type=int, default=256)
    args = parser.parse_args()
    work = HERE / "results" / "hh_treatments"
    work.mkdir(parents=True, exist_ok=True)
    pairs = list(io.read_pairs(DATA / "hh_rlhf_harmless_base_test.jsonl.gz"))
    train, test = io.split_pairs(pairs, 0.5, seed=0)
    started = time.perf_counter()
    strength = compute_strength(train, StrengthConfig(mode=args.strength_mode, members=args.members, recipe=args.strength_recipe,
                                                        max_length=args.max_length, precision="bf16"))
    result = {"train_pairs": len(train), "test_pairs": len(test), "strength": {
        "mode": args.strength_mode, "recipe": args.strength_recipe, "members": args.members, "fraction_mu_below_zero": strength.info["fraction_mu_below_zero"],
        "wall_s": time.perf_counter() - started}, "recipe": args.recipe, "seeds": args.seeds, "rows": {}}
    for name, options in TREATMENTS.items():
        data = strength.pairs if options is None else clean_pairs(strength.pairs, CleanConfig(**options))[0]
        accs = [train_and_score(args.recipe, data, test, s, args.max_length, work) for s in args.seeds]
        result["rows"][name] = {"mean": float(np.mean(accs)), "std": float(np.std(accs)), "per_seed": accs}
        print(name, json.dumps(result["rows"][name]), flush=True)
    lines = ["| training data | accuracy on held-out half (mean ± std over seeds) |", "|---|---|"]
    lines += [f"| {k} | {v['mean']:.3f} ± {v['std']:.3f} |" for k, v in result["rows"].items()]
    result["table"] = "\n".join(lines)
    result["command"] = "python benchmarks/hh_treatments.py " + " ".join(
        f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in vars(args).items())
    name = "hh_treatments" if args.recipe == "embed-head" else f"hh_treatments_{args.recipe}"
    (HERE / "results" / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(result["table"])


if __name__ == "__main__":
    main()
