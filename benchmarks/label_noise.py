"""Label repair on known noise (issue 27 §4): flip a seeded 10%, 25% and 40% of the labels of
HH-RLHF harmless' training half, then ask what preference strength and the repairs of
``preflab.clean`` do where the truth is known.

- **Finding the flips.** For each ensemble mode (``heads``, ``seeds`` at small M,
  ``bootstrap``), ``preflab.strength`` on the noisy half gives μ per pair; the AUC of −μ for
  "was flipped" (:func:`preflab.evaluation.detection_auc`, stratified bootstrap interval) says
  how well μ ranks the flipped pairs first. Beside them, a *cross-fitted* reference: one RM of
  the same recipe trained on the held-out half (its own, unflipped labels) scores the training
  half, so no pair it scores was in its training data.
- **What the noise costs.** RMs trained on the clean and on the noisy half, evaluated on the
  held-out half; paired difference with its interval (:func:`preflab.evaluation.paired_difference`).
- **What the repairs win back.** Flip (the paper's lowest 10%, the lowest fraction equal to the
  true rate, μ < 0), drop (|μ| below its quantile at the true rate: as many pairs as were
  flipped), smoothing (α = 0.1 on the lowest-μ fraction equal to the true rate), margin (μ,
  clipped at 0), and the oracle that drops exactly the flipped pairs; each a paired difference
  against the noisy RM.

Seed s draws the flips (nested: the 10% set is inside the 25% set), seeds the ensemble and
seeds the RM. The grid is the embedding-head recipe; ``--recipe finetune`` fills the 25% row
with fine-tuned MiniLM RMs (bf16, 128 tokens, 1 epoch) and a ``heads`` ensemble on a
fine-tuned trunk (``seeds`` and ``bootstrap`` would cost M fine-tunes each).

Resumable: every finished cell (one ensemble, one RM) is added to
``benchmarks/results/label_noise_<recipe>.jsonl.gz`` (rewritten atomically; one file per recipe,
so the two grids can run side by side), and a rerun skips the cells it holds. The summary
(``results/label_noise.json``) and the markdown tables are rebuilt from both files at the end
of every run (``--summary-only``: without training anything). Each cell records its wall and
CPU seconds; torch runs one thread by default (``--threads``), so CPU seconds are what the
cell costs an idle core.

    .venv/bin/python benchmarks/label_noise.py                     # the embedding-head grid
    .venv/bin/python benchmarks/label_noise.py --recipe finetune   # the fine-tuned 25% row
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import gzip
import json
import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "hh_rlhf_harmless_base_test.jsonl.gz"
RESULTS = HERE / "results"
RECIPES = ("embed-head", "finetune")


def cells_path(folder: Path, recipe: str) -> Path:
    """One cells file per recipe, so the two grids can run side by side."""
    return folder / f"label_noise_{recipe}.jsonl.gz"


# ---------------------------------------------------------------- cells (resumable results)

def load_cells(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return {row["key"]: row for row in map(json.loads, f)}


def save_cells(cells: dict[str, Any], path: Path) -> None:
    from preflab.io.atomic import atomic_path

    with atomic_path(path) as tmp:
        with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=9) as f:
            for row in cells.values():
                f.write(json.dumps(row, separators=(",", ":")) + "\n")


@contextlib.contextmanager
def locked(folder: Path):
    """An exclusive lock on the results folder: two runs (e.g. one per seed) can share a cells
    file, each re-reading it before it computes a cell and before it saves one."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


class Cells:
    """The finished cells; :meth:`get` computes a missing one and saves it at once. The file is
    re-read (under :func:`locked`) before a cell is computed and when one is saved, so runs
    side by side neither redo nor overwrite each other's cells."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.rows = path, load_cells(path)
        self.computed = 0

    def has(self, key: str) -> bool:
        if key not in self.rows:
            with locked(self.path.parent):
                self.rows.update(load_cells(self.path))
        return key in self.rows

    def get(self, key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if not self.has(key):
            started, cpu = time.perf_counter(), time.process_time()
            row = compute()
            row.update(key=key, wall_s=round(time.perf_counter() - started, 2), cpu_s=round(time.process_time() - cpu, 2),
                       load_avg=round(os.getloadavg()[0], 2))
            with locked(self.path.parent):
                self.rows = {**load_cells(self.path), **self.rows, key: row}
                save_cells(self.rows, self.path)
            self.computed += 1
            print(f"{key}: {row['wall_s']:.1f} s ({row['cpu_s']:.1f} s CPU, load {row['load_avg']})"
                  + (f", AUC {row['auc']:.3f}" if "auc" in row else "")
                  + (f", accuracy {row['accuracy']:.3f}" if "accuracy" in row else ""), flush=True)
        return self.rows[key]


def encode_correct(values: np.ndarray) -> str:
    return "".join({1.0: "1", 0.0: "0", 0.5: "h"}[float(v)] for v in values)


def decode_correct(text: str) -> np.ndarray:
    return np.array([{"1": 1.0, "0": 0.0, "h": 0.5}[c] for c in text])


# ---------------------------------------------------------------- the steps

def recipe_dict(recipe: str, args: argparse.Namespace) -> dict[str, Any]:
    if recipe == "finetune":
        return {"recipe": "finetune", "max_length": args.finetune_max_length, "precision": args.precision,
                "epochs": 1.0, "threads": args.threads, "progress": False}
    return {"recipe": "embed-head", "max_length": 256}


def train_and_test(train, test, recipe: str, seed: int, args) -> dict[str, Any]:
    """One RM of ``recipe`` on ``train``, scored on ``test``: per-pair correctness."""
    from preflab.evaluation import correctness
    from preflab.rm.recipes import train_scorer
    from preflab.rm.scorer import score_pairs

    scorer = train_scorer(train, recipe_dict(recipe, args), seed).scorer
    correct = correctness([c - r for c, r in score_pairs(scorer, test)])
    return {"accuracy": float(correct.mean()), "correct": encode_correct(correct), "train_pairs": len(train)}


def strength_cell(noisy, flipped: np.ndarray, mode: str, members: int, recipe: str, seed: int, args) -> dict[str, Any]:
    """``preflab.strength`` on the noisy half: μ per pair, how many members scored it, the AUC."""
    import preflab
    from preflab.evaluation import auc

    options = {"mode": mode, "members": members, "recipe": recipe, "seed": seed}
    if recipe == "finetune":
        options.update(max_length=args.finetune_max_length, precision=args.precision)
    scored = preflab.strength(list(noisy), progress=False, **options)
    mu = np.array([p.strength_mean for p in scored])
    scored_by = [sum(d is not None for d in p.provenance["strength"]["diffs"]) for p in scored]
    info = {k: scored.info[k] for k in ("fraction_mu_below_zero", "mu_mean", "out_of_bag_pairs", "total_seconds")
            if k in scored.info}
    return {"auc": auc(-mu, flipped), "mu": [round(float(m), 5) for m in mu], "scored_by": scored_by,
            "options": options, "info": info}


def cross_fit_cell(noisy, flipped: np.ndarray, held_out, recipe: str, seed: int, args) -> dict[str, Any]:
    """The out-of-sample reference: an RM trained on the held-out half scores the training half."""
    from preflab.evaluation import auc
    from preflab.rm.recipes import train_scorer
    from preflab.rm.scorer import score_pairs

    scorer = train_scorer(held_out, recipe_dict(recipe, args), seed).scorer
    delta = np.array([c - r for c, r in score_pairs(scorer, noisy)])
    return {"auc": auc(-delta, flipped), "mu": [round(float(d), 5) for d in delta]}


FINETUNE_TREATMENTS = ("flip at the rate",)  # a fine-tune costs ~25 heads: one repair fits the budget
REPAIR_MODES = ("heads", "bootstrap")  # embed-head `seeds` members are heads on the same features: `heads` at M=3


def treatments(level: float, mu: np.ndarray) -> dict[str, dict[str, Any]]:
    """The ``preflab.clean`` options of each repair at noise ``level`` (the fractions clean offers)."""
    out = {
        "flip at the rate": {"flip_fraction": level},
        "flip 10%": {"flip_fraction": 0.1},
        "flip μ<0": {"flip_below": 0.0},
        "drop": {"drop_below": float(np.quantile(np.abs(mu), level))},
        "smooth": {"smooth_alpha": 0.1, "smooth_fraction": level},
        "margin": {"margin": True},
    }
    if level == 0.1:
        del out["flip 10%"]  # the same cell as flip at the rate
    return out


def with_mu(noisy, mu: list[float]):
    return [p.model_copy(update={"strength_mean": float(m)}) for p, m in zip(noisy, mu)]


# ---------------------------------------------------------------- the grid

def halves(args: argparse.Namespace):
    """preflab's own seeded split by prompt: (training half, held-out half)."""
    from preflab import io

    pairs = list(io.read_pairs(DATA))[:args.limit]
    return io.split_pairs(pairs, 0.5, seed=args.split_seed)


def run_grid(args: argparse.Namespace, recipe: str, levels: list[float], cells: Cells) -> None:
    """Every cell of ``recipe`` at ``levels``, seed-major: a run cut short still leaves whole
    seeds of every level."""
    import preflab
    from preflab.quality.noise import flip_labels

    train, test = halves(args)
    for seed in args.seeds:
        for level in levels:
            noisy, flipped = flip_labels(train, level, seed=seed)
            tag = f"{recipe}|noise={level}|seed={seed}"
            cells.get(f"rm|{recipe}|clean|seed={seed}", lambda: train_and_test(train, test, recipe, seed, args))
            cells.get(f"rm|{tag}|noisy", lambda: train_and_test(noisy, test, recipe, seed, args))
            modes = [("heads", args.members), ("seeds", args.seeds_members), ("bootstrap", args.members)]
            if recipe == "finetune":  # one fine-tuned trunk; seeds/bootstrap would be M fine-tunes each
                modes = [("heads", args.members)]
            else:  # the references: drop exactly the flipped pairs; an RM that never saw the pairs it scores
                cells.get(f"rm|{tag}|oracle drop", lambda: train_and_test(
                    [p for p, f in zip(noisy, flipped) if not f], test, recipe, seed, args))
                cells.get(f"crossfit|{tag}", lambda: cross_fit_cell(noisy, flipped, test, recipe, seed, args))
            for mode, members in modes:
                st = cells.get(f"strength|{tag}|{mode}|M={members}",
                               lambda: strength_cell(noisy, flipped, mode, members, recipe, seed, args))
                if mode not in REPAIR_MODES:
                    continue
                for name, options in treatments(level, np.array(st["mu"])).items():
                    if recipe == "finetune" and name not in args.finetune_treatments:
                        continue

                    def repaired(options=options):
                        cleaned = preflab.clean(with_mu(noisy, st["mu"]), **options)
                        row = train_and_test(list(cleaned), test, recipe, seed, args)
                        return {**row, "clean": options, "summary": cleaned.info["summary"]}
                    cells.get(f"rm|{tag}|{mode}|{name}", repaired)


def run_teacher(args: argparse.Namespace, cells: Cells) -> None:
    """The control where the truth is learnable: the training half relabelled by an RM of the
    recipe trained on the held-out half (its labels are a function of the very features every
    member reads), then flipped as before. If strength finds these flips and not HH's, the limit
    is the human labels' learnability, not the ensembles."""
    from preflab.quality.noise import flip_labels
    from preflab.quality.treatments import flip
    from preflab.rm.recipes import train_scorer
    from preflab.rm.scorer import score_pairs

    train, test = halves(args)
    for seed in args.teacher_seeds:
        teacher = None
        for level in args.teacher_levels:
            tag = f"embed-head|noise={level}|seed={seed}"
            for mode, members in (("heads", args.members), ("seeds", args.seeds_members), ("bootstrap", args.members)):
                key = f"teacher|{tag}|{mode}|M={members}"
                if cells.has(key):
                    continue
                if teacher is None:
                    scorer = train_scorer(test, recipe_dict("embed-head", args), seed).scorer
                    teacher = [p if c >= r else flip(p).model_copy(update={"flipped": False})
                               for p, (c, r) in zip(train, score_pairs(scorer, train))]
                noisy, flipped = flip_labels(teacher, level, seed=seed)
                relabelled = int(sum(a.chosen != b.chosen for a, b in zip(train, teacher)))
                cells.get(key, lambda: {**strength_cell(noisy, flipped, mode, members, "embed-head", seed, args),
                                        "relabelled": relabelled})


# ---------------------------------------------------------------- the summary

def fmt_ci(ci: list[float], signed: bool = False) -> str:
    f = (lambda x: f"{x:+.3f}") if signed else (lambda x: f"{x:.3f}")
    return f"[{f(ci[0])}, {f(ci[1])}]"


def auc_entry(cells: dict[str, Any], keys: dict[int, str], masks: dict[int, np.ndarray]) -> dict[str, Any]:
    """AUC of −μ for the flipped pairs over the seeds that have the cell, and what μ does with
    them: the share of the flipped pairs among the lowest-μ fraction equal to the rate (what
    flip-at-the-rate gets right), the share of flipped and of clean pairs with μ < 0; for
    bootstrap, the share scored by every member (too few out-of-bag ones: in-sample) and the AUC
    over the out-of-bag pairs alone."""
    from preflab.evaluation import detection_auc

    have = {s: k for s, k in keys.items() if k in cells}
    if not have:
        return {}
    runs = [(-np.array(cells[k]["mu"]), masks[s]) for s, k in have.items()]
    entry = detection_auc(runs)
    entry["seeds"] = sorted(have)
    entry["precision_at_rate"] = float(np.mean([m[np.argsort(-sc, kind="stable")[:int(m.sum())]].mean() for sc, m in runs]))
    entry["flipped_below_zero"] = float(np.mean([(sc[m] > 0).mean() for sc, m in runs]))
    entry["clean_below_zero"] = float(np.mean([(sc[~m] > 0).mean() for sc, m in runs]))
    # μ as a classifier (ties count half): the share of pairs whose sign agrees with the label the
    # pair was trained with (the fit of the noisy labels) and with the true label. For a score whose
    # size says nothing beyond its sign, the AUC equals the latter: the detector can only be as good
    # as the scorer's accuracy on the true labels.
    entry["agrees_with_noisy_labels"] = float(np.mean([np.mean((sc < 0) + 0.5 * (sc == 0)) for sc, m in runs]))
    entry["agrees_with_true_labels"] = float(np.mean([np.mean(np.where(m, sc > 0, sc < 0) + 0.5 * (sc == 0))
                                                      for sc, m in runs]))
    entry["wall_s"] = float(np.mean([cells[k]["wall_s"] for k in have.values()]))
    entry["cpu_s"] = float(np.mean([cells[k]["cpu_s"] for k in have.values()]))
    first = cells[next(iter(have.values()))]
    if first.get("options", {}).get("mode") == "bootstrap":
        members = first["options"]["members"]
        oob = [np.array(cells[k]["scored_by"]) < members for k in have.values()]
        entry["in_sample_pairs"] = float(np.mean([1 - o.mean() for o in oob]))
        entry["auc_out_of_bag_only"] = detection_auc([(sc[o], m[o]) for (sc, m), o in zip(runs, oob)])["auc"]
    if "relabelled" in first:
        entry["relabelled"] = first["relabelled"]
    return entry


def summarise(cells: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    from preflab.evaluation import paired_difference, seed_summary
    from preflab.quality.noise import flip_labels

    train, _ = halves(args)
    out: dict[str, Any] = {"data": DATA.name, "split_seed": args.split_seed, "train_pairs": len(train), "rows": []}
    recipes = sorted({k.split("|")[1] for k in cells if k.startswith("rm|")}, key=["embed-head", "finetune"].index)
    for recipe in recipes:
        levels = sorted({float(k.split("|")[2].split("=")[1]) for k in cells if k.startswith(f"rm|{recipe}|noise=")})
        for level in levels:
            seeds = sorted(int(k.rsplit("=", 1)[1].split("|")[0]) for k in cells
                           if k.startswith(f"rm|{recipe}|noise={level}|seed=") and k.endswith("|noisy"))
            clean_runs = {s: decode_correct(cells[f"rm|{recipe}|clean|seed={s}"]["correct"]) for s in seeds
                          if f"rm|{recipe}|clean|seed={s}" in cells}
            masks = {s: flip_labels(train, level, seed=s)[1] for s in seeds}
            row: dict[str, Any] = {"recipe": recipe, "noise": level, "seeds": seeds, "auc": {}, "accuracy": {}}
            detectors = sorted({k.split("|")[4] + "|" + k.split("|")[5] for k in cells
                                if k.startswith(f"strength|{recipe}|noise={level}|")})
            for det in ["crossfit"] + detectors:
                entry = auc_entry(cells, {s: (f"crossfit|{recipe}|noise={level}|seed={s}" if det == "crossfit"
                                              else f"strength|{recipe}|noise={level}|seed={s}|{det}") for s in seeds}, masks)
                if entry:
                    row["auc"][det] = entry
            teachers = sorted({k.split("|", 4)[4] for k in cells if k.startswith(f"teacher|{recipe}|noise={level}|")})
            for det in teachers:
                entry = auc_entry(cells, {s: f"teacher|{recipe}|noise={level}|seed={s}|{det}" for s in seeds}, masks)
                if entry:
                    row["auc"][f"{det} (teacher labels)"] = entry
            names = ["clean", "noisy", "oracle drop"] + [f"{d.split('|')[0]}|{t}" for d in detectors
                                                         for t in treatments(level, np.zeros(1))]
            runs_of: dict[str, dict[int, np.ndarray]] = {"clean": clean_runs}
            for name in names[1:]:
                runs_of[name] = {s: decode_correct(cells[f"rm|{recipe}|noise={level}|seed={s}|{name}"]["correct"])
                                 for s in seeds if f"rm|{recipe}|noise={level}|seed={s}|{name}" in cells}
            noisy = runs_of["noisy"]
            for name in names:
                runs = runs_of.get(name, {})
                if not runs:
                    continue
                common = sorted(set(runs) & set(noisy) & set(clean_runs))
                entry = seed_summary([runs[s] for s in sorted(runs)])
                entry["vs_noisy"] = paired_difference([runs[s] for s in common], [noisy[s] for s in common])
                entry["vs_clean"] = paired_difference([runs[s] for s in common], [clean_runs[s] for s in common])
                cost = entry["vs_clean"].get("delta", 0.0) - entry["vs_noisy"].get("delta", 0.0)  # noisy − clean
                entry["won_back"] = entry["vs_noisy"]["delta"] / -cost if cost < 0 and name not in ("clean", "noisy") else None
                train_pairs = [cells[f"rm|{recipe}|noise={level}|seed={s}|{name}"]["train_pairs"] for s in sorted(runs)
                               if name != "clean"]
                entry["train_pairs"] = float(np.mean(train_pairs)) if train_pairs else len(train)
                row["accuracy"][name] = entry
            out["rows"].append(row)
    out["tables"] = tables(out)
    return out


def tables(summary: dict[str, Any]) -> str:
    lines = ["| recipe | noise | detector | seeds | AUC of −μ for flipped [95%] | flipped share of the lowest-μ rate | flipped with μ<0 | clean with μ<0 | sign of μ agrees with the training label | … with the true label | CPU s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in summary["rows"]:
        for det, a in row["auc"].items():
            lines.append(f"| {row['recipe']} | {row['noise']:.0%} | {det} | {len(a['seeds'])} | {a['auc']:.3f} ±{a['seed_std']:.3f} "
                         f"{fmt_ci(a['ci95'])} | {a['precision_at_rate']:.3f} | {a['flipped_below_zero']:.3f} | "
                         f"{a['clean_below_zero']:.3f} | {a['agrees_with_noisy_labels']:.3f} | {a['agrees_with_true_labels']:.3f} | {a['cpu_s']:.0f} |")
    lines += ["", "| recipe | noise | training data | seeds | pairs | held-out accuracy ± seed std [95%] | Δ vs noisy [paired 95%] | Δ vs clean [paired 95%] | won back |",
              "|---|---|---|---|---|---|---|---|---|"]
    for row in summary["rows"]:
        for name, a in row["accuracy"].items():
            vn, vc = a["vs_noisy"], a["vs_clean"]
            won = f"{a['won_back']:.0%}" if a.get("won_back") is not None else "—"
            lines.append(f"| {row['recipe']} | {row['noise']:.0%} | {name} | {a['seeds']} | {a['train_pairs']:.0f} | {a['accuracy']:.3f} ±{a['seed_std']:.3f} "
                         f"{fmt_ci(a['ci95'])} | {vn['delta']:+.3f} {fmt_ci(vn['ci95'], True)} | "
                         f"{vc['delta']:+.3f} {fmt_ci(vc['ci95'], True)} | {won} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", choices=RECIPES, default="embed-head",
                        help="The grid this run fills: embed-head (every level) or finetune (the 25%% row).")
    parser.add_argument("--levels", type=float, nargs="+", default=None,
                        help="Noise levels (default: 0.1 0.25 0.4 for embed-head, 0.25 for finetune).")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--members", type=int, default=10, help="M of heads and bootstrap.")
    parser.add_argument("--seeds-members", type=int, default=3, help="M of the seeds mode (small).")
    parser.add_argument("--finetune-treatments", nargs="+", default=list(FINETUNE_TREATMENTS),
                        help="The repairs the fine-tuned row trains (names as in the table).")
    parser.add_argument("--finetune-max-length", type=int, default=128)
    parser.add_argument("--precision", default="bf16", help="Fine-tuned RMs: bf16 or fp32.")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: the machine is shared).")
    parser.add_argument("--teacher-levels", type=float, nargs="*", default=[0.25],
                        help="embed-head: the learnable-truth control at these levels (none: skip).")
    parser.add_argument("--teacher-seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--teacher-only", action="store_true",
                        help="embed-head: only the learnable-truth control (e.g. a second run beside the grid).")
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--summary-only", action="store_true", help="Rebuild the summary from the cells; train nothing.")
    parser.add_argument("--limit", type=int, default=None, help="First N pairs of the file only (a smoke run).")
    parser.add_argument("--results", type=Path, default=RESULTS, help="Folder of the cells files and the summary.")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    if not args.summary_only:
        cells = Cells(cells_path(args.results, args.recipe))
        levels = args.levels or ([0.25] if args.recipe == "finetune" else [0.1, 0.25, 0.4])
        if not args.teacher_only:
            run_grid(args, args.recipe, levels, cells)
        if args.recipe == "embed-head":
            run_teacher(args, cells)
        print(f"{cells.computed} new cells in {time.perf_counter() - started:.0f} s", flush=True)
    rows = {k: v for recipe in RECIPES for k, v in load_cells(cells_path(args.results, recipe)).items()}
    summary = summarise(rows, args)
    summary["cells"] = len(rows)
    summary["cpu_seconds"] = {recipe: round(sum(r["cpu_s"] for k, r in rows.items() if k.split("|")[1] == recipe), 1)
                              for recipe in RECIPES}
    summary["cpu_seconds_by_kind"] = {f"{recipe}|{kind}": round(sum(r["cpu_s"] for k, r in rows.items()
                                                                if k.split("|")[:2] == [kind, recipe]), 1)
                                      for recipe in RECIPES for kind in ("rm", "strength", "crossfit", "teacher")}
    loads = [r["load_avg"] for r in rows.values() if "load_avg" in r]
    summary["load_avg"] = {"cells_with_it": len(loads), "min": min(loads, default=None), "median":
                           float(np.median(loads)) if loads else None, "max": max(loads, default=None)}
    summary["threads"] = args.threads
    summary["commands"] = ["python benchmarks/label_noise.py", "python benchmarks/label_noise.py --recipe finetune"]
    (args.results / "label_noise.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(summary["tables"])
    print(f"{len(rows)} cells; CPU seconds per recipe: {summary['cpu_seconds']}; 1-min load average "
          f"(2 cores) over the cells that record it: {summary['load_avg']}")


if __name__ == "__main__":
    main()
