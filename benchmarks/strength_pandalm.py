"""Preference strength on PandaLM: does μ separate unanimous (3-0) from split (2-1) human
pairs, per ensemble mode, and how closely does the cheap ``heads`` mode track ``seeds``?

    .venv/bin/python benchmarks/strength_pandalm.py --members 10 --seeds-recipe finetune

Each mode runs in this one process, timed side by side. AUC = P(μ of a random unanimous pair >
μ of a random split pair). Writes benchmarks/results/strength_pandalm.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"


def auc(scores_pos: np.ndarray, scores_neg: np.ndarray) -> float:
    from scipy.stats import mannwhitneyu

    u = mannwhitneyu(scores_pos, scores_neg, alternative="two-sided").statistic
    return float(u / (len(scores_pos) * len(scores_neg)))


def main() -> None:
    from scipy.stats import spearmanr

    from preflab import io
    from preflab.quality.strength import StrengthConfig, compute_strength

    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--seeds-members", type=int, default=None, help="Members of the seeds ensemble (default: --members).")
    parser.add_argument("--seeds-recipe", default="finetune", choices=["finetune", "embed-head"])
    parser.add_argument("--bootstrap-recipe", default="embed-head", choices=["finetune", "embed-head"])
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    pairs = list(io.read_pairs(DATA / "pandalm_testset_v1.json"))[: args.limit]
    unanimous = np.array([p.provenance["agreement"] == "unanimous" for p in pairs])
    modes = {
        "heads": StrengthConfig(mode="heads", members=args.members, max_length=args.max_length),
        "seeds": StrengthConfig(mode="seeds", members=args.seeds_members or args.members, recipe=args.seeds_recipe, max_length=args.max_length,
                                precision="bf16"),
        "bootstrap": StrengthConfig(mode="bootstrap", members=args.members, recipe=args.bootstrap_recipe,
                                    max_length=args.max_length, precision="bf16"),
    }
    result: dict = {"pairs": len(pairs), "unanimous": int(unanimous.sum()), "split": int((~unanimous).sum()),
                    "members": args.members, "modes": {}}
    mus = {}
    for name, cfg in modes.items():
        started = time.perf_counter()
        out = compute_strength(pairs, cfg)
        wall = time.perf_counter() - started
        mu = np.array([p.strength_mean for p in out.pairs])
        mus[name] = mu
        result["modes"][name] = {"recipe": cfg.recipe if name != "heads" else "embed-head", "members": cfg.members,
                                 "wall_s": wall, "wall_s_per_member": wall / cfg.members,
                                 "auc_unanimous_vs_split": auc(mu[unanimous], mu[~unanimous]),
                                 "mean_mu_unanimous": float(mu[unanimous].mean()), "mean_mu_split": float(mu[~unanimous].mean()),
                                 "fraction_mu_below_zero": float((mu < 0).mean())}
        print(name, json.dumps(result["modes"][name]), flush=True)
    result["spearman_heads_vs_seeds"] = float(spearmanr(mus["heads"], mus["seeds"]).statistic)
    result["spearman_bootstrap_vs_seeds"] = float(spearmanr(mus["bootstrap"], mus["seeds"]).statistic)
    result["speedup_heads_over_seeds_per_member"] = (result["modes"]["seeds"]["wall_s_per_member"]
                                                     / result["modes"]["heads"]["wall_s_per_member"])
    result["command"] = "python benchmarks/strength_pandalm.py " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if v is not None)
    (HERE / "results" / "strength_pandalm.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
