"""Preference strength on PandaLM: does μ separate unanimous (3-0) from split (2-1) human
pairs, per ensemble mode, and how closely does the cheap ``heads`` mode track ``seeds``?

    .venv/bin/python benchmarks/strength_pandalm.py --members 10 --max-length 128

Modes: ``heads`` (one fine-tuned MiniLM trunk + M heads), ``heads-frozen`` (the frozen
encoder + M heads), ``seeds`` (M fine-tuned MiniLM RMs, the paper), ``bootstrap`` (M
resampled members, out-of-bag scoring). Fine-tuned models use bf16 autocast, 1 epoch.

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
        "heads": StrengthConfig(mode="heads", members=args.members, recipe="finetune", max_length=args.max_length, precision="bf16"),
        "heads-frozen": StrengthConfig(mode="heads", members=args.members, recipe="embed-head", max_length=args.max_length),
        "seeds": StrengthConfig(mode="seeds", members=args.seeds_members or args.members, recipe=args.seeds_recipe, max_length=args.max_length,
                                precision="bf16"),
        "bootstrap": StrengthConfig(mode="bootstrap", members=args.members, recipe=args.bootstrap_recipe,
                                    max_length=args.max_length, precision="bf16"),
    }
    result: dict = {"pairs": len(pairs), "unanimous": int(unanimous.sum()), "split": int((~unanimous).sum()),
                    "members": args.members, "modes": {}}
    mus = {}
    done_dir = HERE / "results" / "strength_pandalm"  # finished modes: a killed run resumes (gitignored)
    done_dir.mkdir(parents=True, exist_ok=True)
    for name, cfg in modes.items():
        done = done_dir / f"{name}.json"
        key = {"config": repr(cfg), "pairs": len(pairs)}
        if done.exists() and json.loads(done.read_text())["key"] == key:
            saved = json.loads(done.read_text())
            mu, wall = np.array(saved["mu"]), saved["wall_s"]
        else:
            started = time.perf_counter()
            out = compute_strength(pairs, cfg)
            wall = time.perf_counter() - started
            mu = np.array([p.strength_mean for p in out.pairs])
            done.write_text(json.dumps({"key": key, "mu": mu.tolist(), "wall_s": wall}))
        mus[name] = mu
        result["modes"][name] = {"recipe": cfg.recipe, "members": cfg.members,
                                 "wall_s": wall, "wall_s_per_member": wall / cfg.members,
                                 "auc_unanimous_vs_split": auc(mu[unanimous], mu[~unanimous]),
                                 "mean_mu_unanimous": float(mu[unanimous].mean()), "mean_mu_split": float(mu[~unanimous].mean()),
                                 "fraction_mu_below_zero": float((mu < 0).mean())}
        print(name, json.dumps(result["modes"][name]), flush=True)
    for name in ("heads", "heads-frozen", "bootstrap"):
        result[f"spearman_{name}_vs_seeds"] = float(spearmanr(mus[name], mus["seeds"]).statistic)
    # the ensembles' total wall times at the same M (a seeds member is the heads mode's trunk)
    result["speedup_heads_over_seeds"] = result["modes"]["seeds"]["wall_s"] / result["modes"]["heads"]["wall_s"]
    result["command"] = "python benchmarks/strength_pandalm.py " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if v is not None)
    (HERE / "results" / "strength_pandalm.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
