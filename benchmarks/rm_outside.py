"""Do saved reward models score the same outside preflab, and what did making them do so change?

``agree``: RMs trained on a few HH pairs (MiniLM at max length 512 and 96, SmolLM2 at 96) score
the first N HH test pairs with preflab, with plain transformers (the model card's lines: the
saved tokenizer's chat template, no added special tokens) and with TRL's reward-function path
(GRPOTrainer's lines for a reward model given as a path). Reported: the largest |Δ| between
preflab and each, and, for comparison, preflab scoring at the training max length (what
``preflab score`` did before it scored at the backbone's context).

``accuracy``: what the two scoring changes do to accuracy on held-out HH (test split halved by
prompt, seed 0; training on the first ``--train-limit`` pairs of one half, evaluation on the
other): MiniLM ``finetune`` at max length 128 trained by the preflab before this change (text
pair with segment ids, scored at 128; its source from ``git archive --base``) and by this one
(one segment, scored at 128 and at 512, the default); SmolLM2 at max length 96 scored at 96 and
at its context. Paired 95% intervals on the same pairs.

    .venv/bin/python benchmarks/rm_outside.py agree --pairs 50
    .venv/bin/python benchmarks/rm_outside.py accuracy --models minilm --train-limit 400 --test-limit 600 --seeds 0 1
    .venv/bin/python benchmarks/rm_outside.py accuracy --models smollm2 --smollm2-train-limit 200 --test-limit 600 --seeds 0

Writes benchmarks/results/rm_outside.json (one key per part).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results" / "rm_outside.json"


def _hh():
    from preflab.io import read_pairs

    return list(read_pairs(DATA / "hh_rlhf_harmless_base_test.jsonl.gz", "hh-rlhf"))


def _save(key: str, value) -> None:
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[key] = value
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")


def _outside(folder: Path, convs: list[list[dict]]) -> dict[str, list[float]]:
    """transformers (the card's lines) and TRL's GRPOTrainer path, in this process."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from trl.data_utils import apply_chat_template as trl_apply
    from trl.trainer.utils import get_config_model_id

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=1).eval()
    plain, trl = [], []
    rtok = AutoTokenizer.from_pretrained(get_config_model_id(model.config))
    if rtok.pad_token_id is None:
        rtok.pad_token = rtok.eos_token
    model.config.get_text_config().pad_token_id = rtok.pad_token_id
    with torch.inference_mode():
        for s in range(0, len(convs), 8):
            group = convs[s:s + 8]
            texts = [tok.apply_chat_template(c, tokenize=False) for c in group]
            plain += model(**tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)).logits[:, 0].tolist()
            texts = [trl_apply({"messages": c}, rtok)["text"] for c in group]
            batch = rtok(text=texts, return_tensors="pt", padding=True, padding_side="right", add_special_tokens=False)
            trl += model(**batch).logits[:, 0].tolist()
    return {"transformers": plain, "trl": trl}


def agree(a) -> None:
    import torch

    from preflab.rm.export import conversation
    from preflab.rm.loading import load_scorer
    from preflab.rm.render import Renderer
    from preflab.rm.config import TrainConfig
    from preflab.rm.trainer import train_reward_model

    torch.set_num_threads(2)
    hh = _hh()
    train, pairs = hh[1000:1000 + a.train_pairs], hh[: a.pairs]
    items = [(p.prompt, r) for p in pairs for r in (p.chosen, p.rejected)]
    convs = [conversation(p, r) for p, r in items]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model, length in (("minilm", 512), ("minilm", 96), ("smollm2", 96)):
            folder = Path(tmp) / f"{model}{length}"
            start = time.perf_counter()
            res = train_reward_model(train, TrainConfig(model=model, max_length=length, batch_size=4, max_steps=a.steps,
                                                        lr=1e-4, progress=False, output_dir=str(folder)))
            scorer = load_scorer(folder)
            ours = scorer.score_many(items)
            old = scorer.__class__(res.backbone, Renderer(res.backbone.tokenizer, length, "chat", res.backbone.is_decoder))
            at_train = old.score_many(items)
            theirs = _outside(folder, convs)
            row = {"model": model, "max_length": length, "score_max_length": scorer.renderer.max_length,
                   "responses": len(items),
                   "cut_at_training_length": sum(res.renderer.encode_one(p, r).truncated for p, r in items),
                   "max_diff_transformers": max(abs(x - y) for x, y in zip(ours, theirs["transformers"])),
                   "max_diff_trl": max(abs(x - y) for x, y in zip(ours, theirs["trl"])),
                   "max_diff_scored_at_training_length": max(abs(x - y) for x, y in zip(at_train, theirs["transformers"])),
                   "seconds": time.perf_counter() - start}
            print(json.dumps(row), flush=True)
            rows.append(row)
    _save("agree", {"command": "python benchmarks/rm_outside.py " + " ".join(sys.argv[1:]), "train_pairs": len(train),
                    "steps": a.steps, "rows": rows})


WORKER = r'''
import json, sys, time
sys.path.insert(0, sys.argv[1])
import torch
spec = json.loads(sys.argv[2])
torch.set_num_threads(spec["threads"])
from preflab.io import read_pairs, split_pairs
from preflab.rm import RewardModelScorer, TrainConfig, score_pairs, train_reward_model
from preflab.rm.render import Renderer
hh = list(read_pairs(spec["data"], "hh-rlhf"))
train, test = split_pairs(hh, 0.5, 0)
train, test = train[: spec["train_limit"]], test[: spec["test_limit"]]
start = time.perf_counter()
res = train_reward_model(train, TrainConfig(model=spec["model"], max_length=spec["max_length"], epochs=1, lr=spec["lr"],
                                            batch_size=8, seed=spec["seed"], threads=spec["threads"], progress=False))
out = {"train_seconds": time.perf_counter() - start, "scored": {}}
bb = res.backbone
for length in spec["score_lengths"]:
    renderer = res.renderer if length == spec["max_length"] else Renderer(bb.tokenizer, length, "chat", bb.is_decoder)
    out["scored"][str(length)] = [c - r for c, r in score_pairs(RewardModelScorer(bb, renderer), test)]
json.dump(out, open(spec["out"], "w"))
'''


def _commit(ref: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), "rev-parse", ref], capture_output=True, text=True, check=True).stdout.strip()


def _archive(commit: str) -> Path:
    """``src`` of ``commit``, unpacked into a temporary folder (so a checkout or merge during the
    run cannot change what is measured)."""
    root = Path(tempfile.mkdtemp(prefix=f"preflab_{commit[:12]}_"))
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "src"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    return root / "src"


def _run_worker(src: Path, spec: dict) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, "-c", WORKER, str(src), json.dumps(spec)], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr[-4000:])
    return json.loads(Path(spec["out"]).read_text())


def accuracy(a) -> None:
    import numpy as np

    from preflab.evaluation.metrics import correctness, paired_difference

    before, after = _archive(a.base), (_archive(a.after) if a.after else REPO / "src")
    load = os.getloadavg()
    runs: dict[str, list[list[float]]] = {}
    times: dict[str, list[float]] = {}
    todo = [("minilm", 128, [128], "before", before), ("minilm", 128, [128, 512], "after", after),
            ("smollm2", 96, [96, 8192], "after", after)]
    with tempfile.TemporaryDirectory() as tmp:
        for seed in a.seeds:
            for model, length, lengths, version, src in todo:
                if model not in a.models:
                    continue
                spec = {"data": str(DATA / "hh_rlhf_harmless_base_test.jsonl.gz"), "model": model, "max_length": length,
                        "score_lengths": lengths, "seed": seed, "lr": 1e-4 if model == "minilm" else 5e-5,
                        "train_limit": a.train_limit if model == "minilm" else a.smollm2_train_limit,
                        "test_limit": a.test_limit, "threads": a.threads, "out": str(Path(tmp) / f"{model}{version}{seed}.json")}
                got = _run_worker(src, spec)
                for n, deltas in got["scored"].items():
                    runs.setdefault(f"{model}@{length} {version}, scored at {n}", []).append(deltas)
                times.setdefault(f"{model} {version}", []).append(got["train_seconds"])
                print(f"{model} {version} seed {seed}: trained in {got['train_seconds']:.0f} s", flush=True)
    table = {name: {"accuracy_per_seed": [float(correctness(d).mean()) for d in ds], "pairs": len(ds[0])}
             for name, ds in runs.items()}
    pairs_of = {"minilm": [("minilm@128 after, scored at 128", "minilm@128 before, scored at 128"),
                           ("minilm@128 after, scored at 512", "minilm@128 after, scored at 128")],
                "smollm2": [("smollm2@96 after, scored at 8192", "smollm2@96 after, scored at 96")]}
    diffs = {}
    for row, base in [p for ps in pairs_of.values() for p in ps]:
        if row in runs and base in runs:
            d = paired_difference([correctness(np.array(x)) for x in runs[row]], [correctness(np.array(x)) for x in runs[base]])
            diffs[f"{row} − {base}"] = {k: d[k] for k in ("delta", "ci95", "n")}
    print(json.dumps({"table": table, "differences": diffs}, indent=1))
    _save("accuracy_" + "_".join(a.models), {"command": "python benchmarks/rm_outside.py " + " ".join(sys.argv[1:]), "base": _commit(a.base),
                       "after": _commit(a.after) if a.after else "working tree", "threads": a.threads,
                       "load_average_start": load, "load_average_end": os.getloadavg(),
                       "train_limit": a.train_limit, "smollm2_train_limit": a.smollm2_train_limit,
                       "test_limit": a.test_limit, "seeds": a.seeds, "table": table, "differences": diffs,
                       "train_seconds": times})


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="part", required=True)
    p = sub.add_parser("agree")
    p.add_argument("--pairs", type=int, default=50)
    p.add_argument("--train-pairs", type=int, default=16)
    p.add_argument("--steps", type=int, default=4)
    p = sub.add_parser("accuracy")
    p.add_argument("--base", default="bcb70e0", help="The commit before this change (its src is archived and run).")
    p.add_argument("--after", default=None, help="The commit measured as 'after' (default: this working tree's src).")
    p.add_argument("--threads", type=int, default=1, help="torch threads per training run.")
    p.add_argument("--train-limit", type=int, default=400)
    p.add_argument("--test-limit", type=int, default=None)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--models", nargs="+", default=["minilm", "smollm2"], choices=["minilm", "smollm2"])
    p.add_argument("--smollm2-train-limit", type=int, default=200)
    a = ap.parse_args()
    {"agree": agree, "accuracy": accuracy}[a.part](a)


if __name__ == "__main__":
    main()
