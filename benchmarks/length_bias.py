"""How much of a reward model's accuracy is length, and does length debiasing remove it?

Data (../shared/data): HH-RLHF harmless-base test split and PandaLM's test set, each halved by
prompt with a seed (``split_pairs``, test fraction 0.5). For each training half and each
``--debias`` mode (``none``, ``poe``: product of experts with a fitted length-only expert,
``balance``: length-matched resampling), reward models are trained over ``--seeds`` and evaluated
on both held-out halves with :func:`preflab.evaluation.length.length_metrics`: plain accuracy,
length-controlled (balanced) accuracy, accuracy where the longer response was rejected, and how
often the model prefers the longer response beside how often the human labels do.

    .venv/bin/python benchmarks/length_bias.py --recipe embed-head
    .venv/bin/python benchmarks/length_bias.py --recipe finetune --max-length 128 --train-limit 400

Writes benchmarks/results/length_bias_<recipe>.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


def _evaluate(scorer, pairs) -> dict:
    from preflab.evaluation.length import length_metrics
    from preflab.evaluation.response_length import pair_lengths
    from preflab.evaluation.metrics import correctness
    from preflab.rm.scorer import score_pairs

    correct = correctness([c - r for c, r in score_pairs(scorer, pairs)])
    return {"correct": correct.tolist(), "length": length_metrics(correct, *pair_lengths(pairs), n_boot=1000)}


def _cell(r: dict | None) -> str:
    if not r or r.get("accuracy") is None:
        return "—"
    return f"{r['accuracy']:.3f} [{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--recipe", choices=["embed-head", "finetune"], default="embed-head")
    ap.add_argument("--debias", nargs="+", default=["none", "poe", "balance"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--train-limit", type=int, default=None, help="Use only the first N training pairs of each set.")
    a = ap.parse_args()

    import torch

    from preflab.evaluation.length import length_metrics
    from preflab.evaluation.response_length import pair_lengths
    from preflab.io import read_pairs, split_pairs
    from preflab.rm.recipes import RecipeConfig, train_scorer

    torch.set_num_threads(2)
    sets = {"hh": list(read_pairs(DATA / "hh_rlhf_harmless_base_test.jsonl.gz", "hh-rlhf")),
            "pandalm": list(read_pairs(DATA / "pandalm_testset_v1.json", "pandalm"))}
    halves = {name: split_pairs(pairs, 0.5, 0) for name, pairs in sets.items()}
    train = {name: h[0][: a.train_limit] for name, h in halves.items()}
    test = {name: h[1] for name, h in halves.items()}
    out: dict = {"benchmark": "length_bias", "recipe": a.recipe, "max_length": a.max_length, "seeds": a.seeds,
                 "train_pairs": {k: len(v) for k, v in train.items()}, "test_pairs": {k: len(v) for k, v in test.items()},
                 "command": "python benchmarks/length_bias.py " + " ".join(sys.argv[1:]), "runs": {}}
    out["human_labels"] = {name: length_metrics(np.ones(len(p)), *pair_lengths(p), n_boot=1000)["human_length_agreement"]
                           for name, p in test.items()}
    path = REPO / "benchmarks" / "results" / f"length_bias_{a.recipe}.json"
    done = _finished_runs(path, out)
    for train_name, pairs in train.items():
        for mode in a.debias:
            key = f"{train_name}:{mode}"
            if key in done:
                out["runs"][key] = done[key]
                print(f"{key}: kept from {path.name}", flush=True)
                continue
            per_seed = []
            for seed in a.seeds:
                options = {"recipe": a.recipe, "max_length": a.max_length, "length_debias": mode}
                if a.recipe == "finetune":
                    options.update(epochs=a.epochs, threads=2, progress=False)
                started = time.perf_counter()
                scorer = train_scorer(pairs, RecipeConfig.from_dict(options), seed).scorer
                wall = time.perf_counter() - started
                per_seed.append({"train_s": wall, **{name: _evaluate(scorer, p) for name, p in test.items()}})
                print(f"{key} seed {seed}: {wall:.0f} s", flush=True)
            out["runs"][key] = _summarise(per_seed, test)
            print(json.dumps({key: out["runs"][key]}, indent=1), flush=True)
            _write(path, out)  # after every run: a long benchmark that is stopped keeps what it finished
    print(table(out))


def _finished_runs(path: Path, out: dict) -> dict:
    """Runs already in the results file, when it was made with the same settings (a resumed benchmark)."""
    if not path.exists():
        return {}
    old = json.loads(path.read_text())
    same = all(old.get(k) == out[k] for k in ("recipe", "max_length", "seeds", "train_pairs", "test_pairs"))
    return old.get("runs", {}) if same and old.get("command") == out["command"] else {}


def _write(path: Path, out: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(out, indent=2))
    tmp.replace(path)


def _summarise(per_seed: list[dict], test: dict) -> dict:
    """Seed-averaged correctness per evaluation pair, then the length metrics of that average."""
    from preflab.evaluation.length import length_metrics
    from preflab.evaluation.response_length import pair_lengths

    summary = {"train_s": float(np.mean([r["train_s"] for r in per_seed]))}
    for name, pairs in test.items():
        correct = np.mean([r[name]["correct"] for r in per_seed], axis=0)
        metrics = length_metrics(correct, *pair_lengths(pairs), n_boot=1000)
        accs = [float(np.mean(r[name]["correct"])) for r in per_seed]
        summary[name] = {"accuracy": float(np.mean(accs)), "seed_std": float(np.std(accs)), **metrics}
    return summary


def table(out: dict) -> str:
    header = ("| trained on | debias | eval on | accuracy | length-controlled | against length | "
              "prefers longer (model) | prefers longer (labels) |")
    lines = [header, "|" + "---|" * 8]
    for key, run in out["runs"].items():
        train_name, mode = key.split(":")
        for name in out["test_pairs"]:
            r = run[name]
            lines.append(f"| {train_name} | {mode} | {name} | {r['accuracy']:.3f} ±{r['seed_std']:.3f} | "
                         f"{_cell(r['length_controlled'])} | {_cell(r['against_length'])} | {_cell(r['length_agreement'])} | "
                         f"{_cell(out['human_labels'][name])} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
