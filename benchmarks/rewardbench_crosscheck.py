"""Do preflab's RewardBench and RewardBench 2 scores equal the reference package's?

The reference is the ``rewardbench`` package on PyPI (0.1.4): its section scores
(``rewardbench.utils.calculate_scores_per_section`` over ``constants.EXAMPLE_COUNTS`` and
``SUBSET_MAPPING``), its overall score (``analysis.get_benchmark_results.get_average_over_rewardbench``,
the prior sets at half weight), its best-of-4 results (``rewardbench.utils.reroll_and_score_dataset``)
and its Ties score (``rewardbench.utils.process_single_model``), used the way its
``scripts/run_rm.py`` and ``scripts/run_v2.py`` use them. It pins transformers 4.51 and its
``__init__`` imports its model zoo, so it cannot be imported beside preflab: this script makes
its own virtual environment under preflab's cache folder (``$PREFLAB_CACHE/rewardbench-0.1.4``;
``rewardbench==0.1.4`` with its pins, ``fschat``, and the CPU build of torch), once.

Both sides get the same rewards. Synthetic benchmark files, one row per official prompt
(RewardBench's 23 subsets at their official sizes and its 7 prior sets; RewardBench 2's five
best-of-4 subsets and a Ties subset of ref/tied variants), are scored by ``preflab.evaluate``
with a scorer that looks each completion's reward up; the rewards it wrote to ``scores.jsonl``,
and those of the null baselines (longer response wins, all tied), go to the reference, run in
its own environment. Rewards are rounded so that rows tie, at the top too. Every subset,
section and overall score is compared. Then the same rewards are scored again by preflab with
one rule made wrong (:data:`MUTANTS`), and the check must catch each.

    .venv/bin/python benchmarks/rewardbench_crosscheck.py

Writes benchmarks/results/rewardbench_crosscheck.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
REFERENCE = ("rewardbench==0.1.4", "fschat")
TORCH = "torch==2.13.0"  # the CPU build, as scripts/test.sh pins it: no multi-GB CUDA download
TOLERANCE = 1e-9

# What runs inside the reference environment: read the rewards, score them with the package.
CHILD = r'''
import json, sys, warnings
warnings.filterwarnings("ignore")
import numpy as np
import pandas as pd
from datasets import Dataset
import rewardbench
from rewardbench.constants import EXAMPLE_COUNTS, SUBSET_MAPPING
from rewardbench.utils import calculate_scores_per_section, process_single_model, reroll_and_score_dataset
from analysis.get_benchmark_results import get_average_over_rewardbench

PRIOR = ["anthropic_helpful", "anthropic_hhh", "shp", "summarize"]
job = json.load(open(sys.argv[1]))
out = {"versions": {"rewardbench": rewardbench.__version__, "numpy": np.__version__, "pandas": pd.__version__}}
import transformers, datasets
out["versions"].update(transformers=transformers.__version__, datasets=datasets.__version__)

def v1(rows):
    # scripts/run_rm.py: a row is 1 when the chosen score is above the rejected one, else 0
    grouped = {}
    for r in rows:
        grouped.setdefault(r["subset"], []).append(1 if r["scores"][0] > r["scores"][1] else 0)
    results = {s: sum(v) / len(v) for s, v in grouped.items()}
    sections = calculate_scores_per_section(EXAMPLE_COUNTS, SUBSET_MAPPING, results)
    core = {s: v for s, v in results.items() if s in EXAMPLE_COUNTS}
    df = pd.DataFrame([{"model": "m", "model_type": "Seq. Classifier", **core}])
    prefs = pd.DataFrame([{"model": "m", "model_type": "Seq. Classifier",
                           **{s: results.get(s, np.nan) for s in PRIOR}}])
    table = get_average_over_rewardbench(df, prefs)
    overall = float(table["average"].values[0])
    prior = table["Prior Sets (0.5 weight)"].values[0]
    return {"subsets": results, "sections": sections, "overall": overall,
            "prior_sets": None if pd.isna(prior) else float(prior)}

def v2(rows):
    # scripts/run_v2.py: one row per completion, rerolled into one row per prompt and scored;
    # the Ties subset then rescored by process_single_model
    flat = {"text": [], "scores": [], "subset": [], "id": []}
    for r in rows:
        for j, s in enumerate(r["scores"]):
            flat["text"].append(f"{r['id']}/{j}"); flat["scores"].append(s)
            flat["subset"].append(r["subset"]); flat["id"].append(r["id"])
    rerolled = reroll_and_score_dataset(Dataset.from_dict(flat), [len(r["scores"]) for r in rows],
                                        cols_to_combine=["text", "scores"])
    rerolled = rerolled.add_column("num_correct", [r["num_correct"] for r in rows])
    results = {}
    for subset in sorted({r["subset"] for r in rows}):
        part = rerolled.filter(lambda e: e["subset"] == subset)
        if subset.lower() == "ties":
            _, score = process_single_model(part)
            results[subset] = float(score)
        else:
            results[subset] = sum(part["results"]) / len(part["results"])
    six = ["Factuality", "Precise IF", "Math", "Safety", "Focus", "Ties"]
    # the leaderboard's score: the mean of the six subsets (the package has no function for it)
    average = float(np.mean([results[s] for s in six])) if all(s in results for s in six) else None
    return {"subsets": results, "average": average}

out["scenarios"] = {name: (v1 if s["benchmark"] == "rewardbench" else v2)(s["rows"])
                    for name, s in job["scenarios"].items()}
json.dump(out, open(sys.argv[2], "w"))
'''


def reference_python(root: Path) -> Path:
    """The reference environment's interpreter, made on first use."""
    python = root / "venv" / "bin" / "python"
    check = [str(python), "-c", "import importlib.metadata as m; assert m.version('rewardbench') == '0.1.4'; "
             "import fastchat, torch, transformers"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"making the reference environment in {root / 'venv'} (once; a few minutes)", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=True).create(root / "venv")
    for packages in ([TORCH], list(REFERENCE)):
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *packages], check=True)
    subprocess.run(check, check=True)
    return python


def _words(rng: np.random.Generator, lo: int, hi: int) -> str:
    return " ".join(rng.choice(["the", "a", "reply", "answer", "is", "so", "and", "then", "code", "step"],
                               size=int(rng.integers(lo, hi))))


def _reward(rng: np.random.Generator, shift: float, coarse: bool) -> float:
    """A reward; coarse ones are rounded to halves, so rows tie (at the top too)."""
    value = float(rng.normal(shift, 1.0))
    return round(value * 2) / 2 if coarse else round(value, 3)


def v1_rows(rng: np.random.Generator, prior_sets: bool) -> tuple[list[dict], dict[str, float]]:
    """One row per official prompt of every subset; each subset its own difficulty."""
    from preflab.evaluation.rewardbench import SECTIONS
    from preflab.io.rewardbench import PRIOR_SET_SPLITS

    sizes = {name: n for members in SECTIONS.values() for name, n in members.items()}
    if prior_sets:
        sizes.update({name: 120 for name in PRIOR_SET_SPLITS})
    rows, rewards = [], {}
    for k, (subset, n) in enumerate(sizes.items()):
        shift, coarse = float(rng.uniform(-0.5, 1.5)), k % 3 == 0
        for i in range(n):
            chosen, rejected = f"{subset}/{i} chosen: {_words(rng, 1, 60)}", f"{subset}/{i} rejected: {_words(rng, 1, 60)}"
            rewards[chosen], rewards[rejected] = _reward(rng, shift, coarse), _reward(rng, 0.0, coarse)
            rows.append({"id": f"{subset}-{i}", "subset": subset, "prompt": f"{subset} question {i}?", "chosen": chosen,
                         "rejected": rejected})
    return rows, rewards


def v2_rows(rng: np.random.Generator) -> tuple[list[dict], dict[str, float]]:
    """RewardBench 2's five best-of-4 subsets at their sizes, and Ties: ref and tied variants
    of 50 prompts (some tied-only), 2-5 correct answers each in the tied variant."""
    rows, rewards = [], {}

    def add(row_id, subset, n_correct, n_wrong, shift, coarse):
        chosen = [f"{row_id} correct {j}: {_words(rng, 1, 40)}" for j in range(n_correct)]
        rejected = [f"{row_id} wrong {j}: {_words(rng, 1, 40)}" for j in range(n_wrong)]
        for text in chosen:
            rewards[text] = _reward(rng, shift, coarse)
        for text in rejected:
            rewards[text] = _reward(rng, 0.0, coarse)
        rows.append({"id": row_id, "subset": subset, "prompt": f"question {row_id}?", "chosen": chosen,
                     "rejected": rejected, "num_correct": n_correct, "total_completions": n_correct + n_wrong})

    for k, (subset, n) in enumerate({"Factuality": 475, "Precise IF": 160, "Math": 183, "Safety": 450,
                                     "Focus": 495}.items()):
        shift = float(rng.uniform(0.0, 1.5))
        for i in range(n):
            add(f"{subset.lower().replace(' ', '-')}-{i}", subset, 1, 3, shift, coarse=i % 2 == 0)
    for number in range(50):
        if number % 10:
            add(f"ref:{number}", "Ties", 1, int(rng.integers(1, 4)), 1.5, coarse=number % 4 == 0)
        add(f"tied:{number}", "Ties", int(rng.integers(2, 6)), int(rng.integers(1, 5)), 1.5, coarse=number % 4 == 0)
    return rows, rewards


class Lookup:
    """A scorer that answers each completion with the reward the synthetic file gave it."""

    def __init__(self, rewards: dict[str, float]):
        self.rewards = rewards

    def score(self, prompt, responses):
        return [self.rewards[r] for r in responses]


def _tie_half_right(rewards):
    return 1.0 if rewards[0] > rewards[1] else 0.5 if rewards[0] == rewards[1] else 0.0


def _lenient_variant(original):
    def variant(rewards, num_correct):
        accurate, margin, spread = original(rewards, num_correct)
        return margin >= 0, margin, spread
    return variant


#: Wrong rules the check must catch: (module, name, replacement from the original).
MUTANTS = {
    "a RewardBench tie counted half right": ("preflab.evaluation.rewardbench", "pair_result", lambda _: _tie_half_right),
    "a Ties variant accurate when its worst correct reward equals the best incorrect one":
        ("preflab.evaluation.ties", "_variant", _lenient_variant),
}


def mutant_scores(mutant: str, benchmark: str, rows: list[dict]) -> dict:
    """preflab's scores of the same rewards with one rule made wrong (restored after)."""
    import importlib

    from preflab.evaluation.rewardbench import SCORERS
    from preflab.io.rewardbench import read_benchmark

    module_name, attr, make = MUTANTS[mutant]
    module = importlib.import_module(module_name)
    original = getattr(module, attr)
    setattr(module, attr, make(original))
    try:
        read = read_benchmark([{**r, "prompt": "q", **_completion_columns(benchmark, r)} for r in rows], benchmark)
        return SCORERS[benchmark](read, [r["scores"] for r in rows], n_boot=10)
    finally:
        setattr(module, attr, original)


def _completion_columns(benchmark: str, row: dict) -> dict:
    """Placeholder completions for a row of rewards (the scores need only their count and order)."""
    texts = [f"{row['id']}/{j}" for j in range(len(row["scores"]))]
    if benchmark == "rewardbench":
        return {"chosen": texts[0], "rejected": texts[1]}
    return {"chosen": texts[:row["num_correct"]], "rejected": texts[row["num_correct"]:]}


def preflab_side(rows: list[dict], rewards: dict[str, float], benchmark: str, work: Path) -> tuple[dict, dict]:
    """preflab's scores of the file (model and baselines) and the reward arrays it used."""
    import preflab
    from preflab.evaluation.baselines import NULL_RESPONSE_SCORES
    from preflab.io.rewardbench import read_benchmark

    path = work / f"{benchmark}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = work / f"{benchmark}-eval"
    result = preflab.evaluate(Lookup(rewards), path, out=out, benchmark=benchmark, n_boot=100, progress=False,
                              overwrite=True)
    scored = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    read = read_benchmark(path, benchmark)
    arrays = {"model": [r["scores"] for r in scored]}
    arrays.update({name: [f(row.completions) for row in read] for name, f in NULL_RESPONSE_SCORES.items()})
    scores = {"model": result["model"], **result["baselines"]}
    return scores, {name: [{"id": row.id, "subset": row.subset, "num_correct": row.num_correct, "scores": s}
                           for row, s in zip(read, a)] for name, a in arrays.items()}


def _flatten(benchmark: str, ours: dict, theirs: dict) -> list[dict]:
    """Every comparable number: (what, preflab, reference)."""
    pairs = [(f"subset {name}", ours["subsets"][name]["accuracy"], theirs["subsets"][name])
             for name in sorted(ours["subsets"])]
    if benchmark == "rewardbench":
        pairs += [(f"section {name}", entry["score"], theirs["sections"][name]) for name, entry in ours["sections"].items()]
        if ours["prior_sets"] is not None:
            pairs.append(("Prior Sets", ours["prior_sets"]["score"], theirs["prior_sets"]))
        pairs.append(("overall", ours["overall"]["score"], theirs["overall"]))
    else:
        pairs.append(("six-subset average", ours["average"]["score"], theirs["average"]))
    return [{"what": what, "preflab": a, "reference": b, "abs_diff": abs(a - b),
             "agree": abs(a - b) <= TOLERANCE} for what, a, b in pairs]


def main() -> None:
    from preflab.paths import cache_dir

    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "rewardbench_crosscheck.json")
    a = ap.parse_args()
    start = time.perf_counter()
    python = reference_python(cache_dir() / "rewardbench-0.1.4")
    setup_s = time.perf_counter() - start
    rng = np.random.default_rng(a.seed)
    data = {"rewardbench, prior sets": ("rewardbench", *v1_rows(rng, prior_sets=True)),
            "rewardbench, core only": ("rewardbench", *v1_rows(rng, prior_sets=False)),
            "rewardbench2": ("rewardbench2", *v2_rows(rng))}
    ours, job = {}, {"scenarios": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (benchmark, rows, rewards) in data.items():
            work = Path(tmp) / name.replace(" ", "_").replace(",", "")
            work.mkdir()
            scores, arrays = preflab_side(rows, rewards, benchmark, work)
            for scorer, scored_rows in arrays.items():
                key = f"{name} / {scorer}"
                ours[key] = (benchmark, scores[scorer])
                job["scenarios"][key] = {"benchmark": benchmark, "rows": scored_rows}
        (Path(tmp) / "job.json").write_text(json.dumps(job))
        ref_start = time.perf_counter()
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        subprocess.run([str(python), "-c", CHILD, str(Path(tmp) / "job.json"), str(Path(tmp) / "ref.json")],
                       check=True, env={**env, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                                        "HF_DATASETS_DISABLE_PROGRESS_BARS": "1", "WANDB_MODE": "disabled"})
        ref_s = time.perf_counter() - ref_start
        reference = json.loads((Path(tmp) / "ref.json").read_text())
    scenarios = []
    for key, (benchmark, mine) in ours.items():
        checks = _flatten(benchmark, mine, reference["scenarios"][key])
        rows = len(job["scenarios"][key]["rows"])
        scenarios.append({"scenario": key, "benchmark": benchmark, "rows": rows, "checks": checks,
                          "agree": all(c["agree"] for c in checks), "max_abs_diff": max(c["abs_diff"] for c in checks),
                          "headline": {"preflab": checks[-1]["preflab"], "reference": checks[-1]["reference"]}})
    mutants = []
    for mutant in MUTANTS:
        found = []
        for key, (benchmark, _) in ours.items():
            checks = _flatten(benchmark, mutant_scores(mutant, benchmark, job["scenarios"][key]["rows"]),
                              reference["scenarios"][key])
            if not all(c["agree"] for c in checks):
                found.append({"scenario": key, "max_abs_diff": max(c["abs_diff"] for c in checks)})
        mutants.append({"mutant": mutant, "caught_in": found, "caught": bool(found)})
    record = {"reference": {"packages": list(REFERENCE) + [TORCH], "versions": reference["versions"]},
              "tolerance": TOLERANCE, "seed": a.seed, "all_agree": all(s["agree"] for s in scenarios),
              "checks": sum(len(s["checks"]) for s in scenarios),
              "max_abs_diff": max(s["max_abs_diff"] for s in scenarios), "scenarios": scenarios, "mutants": mutants,
              "wall_s": {"reference_env_check_or_setup": round(setup_s, 1), "reference_scoring": round(ref_s, 1),
                         "total": round(time.perf_counter() - start, 1)}}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(record, indent=1))
    print("| scenario | rows | scores compared | all agree | max abs difference | headline: preflab / reference |")
    print("| --- | --- | --- | --- | --- | --- |")
    for s in scenarios:
        h = s["headline"]
        print(f"| {s['scenario']} | {s['rows']} | {len(s['checks'])} | {'yes' if s['agree'] else 'NO'} | "
              f"{s['max_abs_diff']:.1e} | {100 * h['preflab']:.2f} / {100 * h['reference']:.2f} |")
    print("\n| a wrong rule in preflab | scenarios that catch it | largest difference |\n| --- | --- | --- |")
    for m in mutants:
        print(f"| {m['mutant']} | {len(m['caught_in'])} of {len(scenarios)} | "
              f"{max((c['max_abs_diff'] for c in m['caught_in']), default=0):.3f} |")
    print(f"\n{record['checks']} scores, all agree: {record['all_agree']}; wrote {a.out}")
    if not record["all_agree"] or not all(m["caught"] for m in mutants):
        sys.exit(1)


if __name__ == "__main__":
    main()
