"""Preference strength on PandaLM: does μ separate unanimous (3-0) from split (2-1) human
pairs, per ensemble mode, and how closely do the cheap modes track ``seeds``, on its scale?

    .venv/bin/python benchmarks/strength_pandalm.py --members 10 --max-length 128

Modes: ``heads`` (one fine-tuned MiniLM trunk + M heads, calibrated to the trunk RM's scale),
``heads-raw`` (the same, uncalibrated: heads fitted ``head_epochs`` steps, raw differences),
``heads-frozen`` (the frozen encoder + M heads), ``seeds`` (M fine-tuned MiniLM RMs, the
paper), ``bootstrap`` (M resampled members, out-of-bag scoring, rescaled to one RM on all
pairs). Fine-tuned models use bf16 autocast, 1 epoch.

Each mode runs in this one process, timed side by side. AUC = P(μ of a random unanimous pair >
μ of a random split pair). Against ``seeds``: Spearman of μ, and the μ < 0 share minus seeds'
(in points). ``--modes`` runs a subset; finished modes are kept in results/strength_pandalm/
(gitignored, keyed by config and pairs) so a killed run resumes. Writes
benchmarks/results/strength_pandalm.json (``--limit N``: strength_pandalm_limitN.json).
"""

from __future__ import annotations

import argparse
import json
import logging
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
    from preflab.pipelines.strength import compute_strength, trunk_of
    from preflab.quality.strength import StrengthConfig, member_recipe
    from preflab.rm.recipes import train_scorer

    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--seeds-members", type=int, default=None, help="Members of the seeds ensemble (default: --members).")
    parser.add_argument("--seeds-recipe", default="finetune", choices=["finetune", "embed-head"])
    parser.add_argument("--bootstrap-recipe", default="embed-head", choices=["finetune", "embed-head"])
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--modes", nargs="+", default=None, help="Run only these modes (default: all).")
    parser.add_argument("--data", type=Path, default=DATA / "pandalm_testset_v1.json")
    parser.add_argument("--precision", default="bf16", choices=["bf16", "fp32"],
                        help="Fine-tuned models: bf16 autocast (fast with AMX) or fp32 (CPUs without bf16).")
    args = parser.parse_args()
    logging.basicConfig(format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("preflab").setLevel(logging.INFO)  # member and trunk timings as they finish
    pairs = list(io.read_pairs(args.data))[: args.limit]
    unanimous = np.array([p.provenance["agreement"] == "unanimous" for p in pairs])
    modes = {  # seeds first: every other mode is compared with it
        "seeds": StrengthConfig(mode="seeds", members=args.seeds_members or args.members, recipe=args.seeds_recipe, max_length=args.max_length,
                                precision=args.precision),
        "heads": StrengthConfig(mode="heads", members=args.members, recipe="finetune", max_length=args.max_length, precision=args.precision),
        "heads-raw": StrengthConfig(mode="heads", members=args.members, recipe="finetune", max_length=args.max_length,
                                    precision=args.precision, calibrate=False),
        "heads-frozen": StrengthConfig(mode="heads", members=args.members, recipe="embed-head", max_length=args.max_length),
        "bootstrap": StrengthConfig(mode="bootstrap", members=args.members, recipe=args.bootstrap_recipe,
                                    max_length=args.max_length, precision=args.precision),
    }
    result: dict = {"pairs": len(pairs), "unanimous": int(unanimous.sum()), "split": int((~unanimous).sum()),
                    "members": args.members, "modes": {}}
    mus = {}
    done_dir = HERE / "results" / "strength_pandalm"  # finished modes: a killed run resumes (gitignored)
    done_dir.mkdir(parents=True, exist_ok=True)
    modes = {k: v for k, v in modes.items() if args.modes is None or k in args.modes or k == "seeds"}
    kept: dict = {}

    def shared(name, cfg) -> dict:
        """The heads trunk is the seeds member of seed ``cfg.seed`` (same recipe, same seed, the
        same model): it is trained once, and its time is added to each heads mode's wall time."""
        if name == "seeds" and cfg.recipe == "finetune":
            recipe = member_recipe(cfg)

            def trainer(train, seed):
                started = time.perf_counter()
                scorer = train_scorer(train, recipe, seed).scorer
                if seed == cfg.seed:
                    kept.update(recipe=recipe, scorer=scorer, seconds=time.perf_counter() - started)
                return scorer
            return {"trainer": trainer}
        if cfg.mode == "heads" and cfg.recipe == "finetune" and kept.get("recipe") == member_recipe(cfg):
            if "trunk" not in kept:
                started = time.perf_counter()
                kept["trunk"] = trunk_of(kept["scorer"], pairs)
                kept["seconds"] += time.perf_counter() - started
            return {"features": lambda _: kept["trunk"]}
        return {}

    for name, cfg in modes.items():
        done = done_dir / f"{name}.json"
        key = {"config": repr(cfg), "pairs": len(pairs)}
        if done.exists() and json.loads(done.read_text())["key"] == key:
            saved = json.loads(done.read_text())
            mu, wall = np.array(saved["mu"]), saved["wall_s"]
        else:
            started = time.perf_counter()
            extra = shared(name, cfg)
            out = compute_strength(pairs, cfg, **extra)
            wall = time.perf_counter() - started + (kept["seconds"] if "features" in extra else 0.0)
            mu = np.array([p.strength_mean for p in out.pairs])
            calibration = out.info.get("calibration")
            done.write_text(json.dumps({"key": key, "mu": mu.tolist(), "wall_s": wall, "calibration": calibration}))
        calibration = json.loads(done.read_text()).get("calibration")
        mus[name] = mu
        result["modes"][name] = {"recipe": cfg.recipe, "members": cfg.members, "calibrate": cfg.calibrate,
                                 "wall_s": wall, "wall_s_per_member": wall / cfg.members, "mean_mu": float(mu.mean()),
                                 "auc_unanimous_vs_split": auc(mu[unanimous], mu[~unanimous]),
                                 "mean_mu_unanimous": float(mu[unanimous].mean()), "mean_mu_split": float(mu[~unanimous].mean()),
                                 "fraction_mu_below_zero": float((mu < 0).mean()),
                                 **({"calibration": calibration} if calibration else {})}
        print(name, json.dumps(result["modes"][name]), flush=True)
    below = result["modes"]["seeds"]["fraction_mu_below_zero"]
    for name in (n for n in modes if n != "seeds"):
        result[f"spearman_{name}_vs_seeds"] = float(spearmanr(mus[name], mus["seeds"]).statistic)
        result[f"mu_below_zero_points_vs_seeds_{name}"] = 100 * (result["modes"][name]["fraction_mu_below_zero"] - below)
    # the ensembles' total wall times at the same M (a seeds member is the heads mode's trunk)
    if "heads" in modes:
        result["speedup_heads_over_seeds"] = result["modes"]["seeds"]["wall_s"] / result["modes"]["heads"]["wall_s"]
    result["command"] = "python benchmarks/strength_pandalm.py " + " ".join(
        f"--{k.replace('_', '-')} {' '.join(v) if isinstance(v, list) else v}" for k, v in vars(args).items() if v is not None and k != "data")
    name = "strength_pandalm" + (f"_limit{args.limit}" if args.limit else "")
    (HERE / "results" / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
