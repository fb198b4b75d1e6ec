"""preflab's reward-model trainer vs TRL's RewardTrainer: same backbone, same pairs, same
token ids, batch 8, same precision, same optimizer settings, 2 threads, 1 epoch.

Reference: ``trl.RewardTrainer`` (group_by_length on, dropout off — its default — pre-tokenised
with exactly the ids preflab renders, so both do the same token work and TRL drops nothing).
Each run is a fresh subprocess (clean peak-RSS reading); runs alternate TRL, preflab, TRL, …
Timed: from model load to the end of the last optimizer step (preflab's time also includes
rendering the text; TRL's tokenisation is done before its clock starts). Pairs are real
HH-RLHF harmless-base pairs from ../shared/data, the first N whose rendering fits max_length.

    .venv/bin/python benchmarks/rm_speed.py --backbone minilm --pairs 512 --max-length 512
    .venv/bin/python benchmarks/rm_speed.py --backbone smollm2 --pairs 32 --max-length 256

Writes benchmarks/results/rm_speed_<backbone>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "hh_rlhf_harmless_base_test.jsonl.gz"
RESULTS = REPO / "benchmarks" / "results"


def select_pairs(backbone: str, n: int, max_length: int, out: Path) -> dict:
    from preflab.io import read_pairs, write_pairs
    from preflab.rm.backbone import load_backbone
    from preflab.rm.render import Renderer

    bb = load_backbone(backbone)
    r = Renderer(bb.tokenizer, max_length, is_decoder=bb.is_decoder)
    chosen, tokens, prompt_tokens = [], 0, 0
    for p in read_pairs(DATA, "hh-rlhf"):
        e = r.encode(p.prompt, (p.chosen, p.rejected))
        if not e.truncated:
            chosen.append(p)
            tokens += len(e.full(0)) + len(e.full(1))
            prompt_tokens += 2 * len(e.prompt)
        if len(chosen) == n:
            break
    write_pairs(chosen, out)
    return {"pairs": len(chosen), "tokens": tokens, "prompt_share": prompt_tokens / tokens}


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _cpu_seconds() -> float:
    """CPU time of this process: less sensitive than wall time to other jobs on a shared box."""
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def worker_preflab(spec: dict) -> dict:
    from preflab.io import read_pairs
    from preflab.rm import TrainConfig, train_reward_model

    pairs = list(read_pairs(spec["pairs_file"]))
    cfg = TrainConfig(model=spec["backbone"], max_length=spec["max_length"], batch_size=8, epochs=1, lr=spec["lr"],
                      warmup_ratio=0.1, precision=spec["precision"], seed=0, progress=False, threads=2,
                      gradient_checkpointing=spec["gc"], prefix_sharing=spec.get("prefix_sharing", True))
    start, cpu = time.perf_counter(), _cpu_seconds()
    res = train_reward_model(pairs, cfg)
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "cpu_seconds": _cpu_seconds() - cpu, "pairs_per_second": len(pairs) / elapsed,
            "peak_rss_gb": _peak_rss_gb(), "median_step_seconds": statistics.median(res.step_seconds),
            "step_seconds": res.step_seconds}


def _StepTimer():
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.steps, self._t = [], 0.0

        def on_step_begin(self, args, state, control, **kw):
            self._t = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            self.steps.append(time.perf_counter() - self._t)

    return StepTimer()


def worker_trl(spec: dict) -> dict:
    import torch
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer

    from preflab.io import read_pairs
    from preflab.rm.backbone import load_backbone
    from preflab.rm.render import Renderer

    torch.set_num_threads(2)
    pairs = list(read_pairs(spec["pairs_file"]))
    tok_bb = load_backbone(spec["backbone"])
    r = Renderer(tok_bb.tokenizer, spec["max_length"], is_decoder=tok_bb.is_decoder)
    rows = []
    for p in pairs:
        e = r.encode(p.prompt, (p.chosen, p.rejected))
        rows.append({"chosen_ids": e.full(0), "rejected_ids": e.full(1), "length": max(len(e.full(0)), len(e.full(1)))})
    ds = Dataset.from_list(rows)
    del tok_bb
    with tempfile.TemporaryDirectory() as tmp:
        args = RewardConfig(
            output_dir=tmp, per_device_train_batch_size=8, num_train_epochs=1, learning_rate=spec["lr"],
            lr_scheduler_type="linear", warmup_steps=int(0.1 * -(-len(pairs) // 8)), max_length=spec["max_length"], bf16=spec["precision"] == "bf16",
            train_sampling_strategy="group_by_length", remove_unused_columns=False, logging_steps=10, save_strategy="no", report_to=[],
            seed=0, use_cpu=True, gradient_checkpointing=spec["gc"], max_grad_norm=1.0, dataloader_num_workers=0,
            eos_token="[SEP]" if spec["backbone"] == "minilm" else None, disable_tqdm=True,
        )
        start, cpu = time.perf_counter(), _cpu_seconds()
        bb = load_backbone(spec["backbone"])  # the same loading code (pad token fixed), inside the clock
        timer = _StepTimer()
        trainer = RewardTrainer(model=bb.model, args=args, train_dataset=ds, processing_class=bb.tokenizer, callbacks=[timer])
        trainer.train()
        elapsed = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu
    return {"seconds": elapsed, "cpu_seconds": cpu, "pairs_per_second": len(pairs) / elapsed, "peak_rss_gb": _peak_rss_gb(),
            "median_step_seconds": statistics.median(timer.steps), "step_seconds": timer.steps}


def run_worker(kind: str, spec: dict) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "2", "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, __file__, "--worker", kind, "--spec", json.dumps(spec)],
                          capture_output=True, text=True, env=env, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} worker failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backbone", default="minilm")
    ap.add_argument("--pairs", type=int, default=512)
    ap.add_argument("--max-length", type=int, default=512)
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--gradient-checkpointing", action="store_true")
    ap.add_argument("--worker")
    ap.add_argument("--spec")
    a = ap.parse_args()
    if a.worker:
        spec = json.loads(a.spec)
        print(json.dumps((worker_trl if a.worker == "trl" else worker_preflab)(spec)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        pairs_file = Path(tmp) / "pairs.jsonl"
        data = select_pairs(a.backbone, a.pairs, a.max_length, pairs_file)
        spec = {"backbone": a.backbone, "pairs_file": str(pairs_file), "max_length": a.max_length,
                "precision": a.precision, "lr": a.lr, "gc": a.gradient_checkpointing}
        runs: dict[str, list[dict]] = {"trl": [], "preflab": []}
        for i in range(a.repeats):
            for kind in ("trl", "preflab"):
                runs[kind].append(run_worker(kind, spec))
                print(f"repeat {i}: {kind} {({k: v for k, v in runs[kind][-1].items() if k != 'step_seconds'})}", flush=True)
    med = {k: statistics.median(r["pairs_per_second"] for r in v) for k, v in runs.items()}
    cpu_med = {k: statistics.median(r["cpu_seconds"] for r in v) for k, v in runs.items()}
    step_med = {k: statistics.median(s for r in v for s in r["step_seconds"]) for k, v in runs.items()}
    peak = {k: max(r["peak_rss_gb"] for r in v) for k, v in runs.items()}
    out = {
        "benchmark": "rm_speed", "backbone": a.backbone, "data": data, "max_length": a.max_length, "batch_size": 8,
        "precision": a.precision, "gradient_checkpointing": a.gradient_checkpointing, "threads": 2, "repeats": a.repeats,
        "median_pairs_per_second": med, "peak_rss_gb": peak, "speedup": med["preflab"] / med["trl"],
        "median_cpu_seconds": cpu_med, "median_step_seconds": step_med,
        "step_time_ratio": step_med["trl"] / step_med["preflab"], "cpu_time_ratio": cpu_med["trl"] / cpu_med["preflab"], "runs": runs,
        "command": "python benchmarks/rm_speed.py " + " ".join(sys.argv[1:]),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"rm_speed_{a.backbone}.json"
    path.write_text(json.dumps(out, indent=2))
    print(json.dumps({k: out[k] for k in ("data", "median_pairs_per_second", "peak_rss_gb", "speedup", "cpu_time_ratio", "step_time_ratio")}, indent=2))


if __name__ == "__main__":
    main()
