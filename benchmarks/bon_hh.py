"""Best-of-N on held-out HH-RLHF prompts: do the quickstart's reward models pick better responses?

The policy is the embedded SmolLM2-135M-Instruct (llama.cpp); it draws 16 responses for each of
200 held-out single-turn HH-RLHF harmless prompts. The RMs under test are the quickstart's
``base-only`` RM and its ``base+rmboost`` RM (seed 0), made the way ``preflab quickstart`` makes
them (its bench config, RMBoost only). The gold scorer is a MiniLM reward model fine-tuned on the
other half of the HH file, split by prompt, so it has seen none of the best-of-N prompts; it
is evaluated on the held-out half's pairs. Then ``preflab.best_of_n`` reports the gold score of
each RM's pick for N = 1, 2, 4, 8, 16 beside the random and oracle picks, and the win rate of
one RM's pick over the other's.

Every stage is cached in the run folder and resumes after a crash (the samples prompt by
prompt, through the LLM call cache); ``benchmarks/results/bon_hh.json`` gets the tables, the
accuracies and each stage's wall time (of the run that did the work)::

    .venv/bin/python benchmarks/bon_hh.py                        # runs/bon_hh, ~2.5 h on 2 busy cores
    .venv/bin/python benchmarks/bon_hh.py --prompts 20 --n 4     # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOURCE = REPO.parent / "shared" / "data" / "hh_rlhf_harmless_base_test.jsonl.gz"
DATA = REPO / "src" / "preflab" / "data"
SEED = 0


def stage(run_dir: Path, name: str, work):
    """Run ``work()`` once: its result and wall time are kept in run_dir/stages.json."""
    path = run_dir / "stages.json"
    done = json.loads(path.read_text()) if path.exists() else {}
    if name in done:
        print(f"{name}: reused ({done[name]['wall_s']:.0f} s when it ran)", flush=True)
        return done[name]["result"]
    print(f"{name}: running", flush=True)
    started = time.perf_counter()
    result = work()
    done[name] = {"wall_s": time.perf_counter() - started, "result": result, "load_after": os.getloadavg()[0]}
    path.write_text(json.dumps(done, indent=2, default=str))
    return result


def split(run_dir: Path, n_prompts: int) -> dict:
    """Gold half / held-out half of HH by prompt; best-of-N prompts from the held-out half, single
    turn, none in the quickstart's training data (its base pairs and generation prompts)."""
    from preflab import io

    pairs = [p for p in io.read_pairs(SOURCE, "hh-rlhf") if p.provenance.get("hh_prefix") != "mismatch"]
    by_prompt: dict[str, list] = {}
    for pair in pairs:
        by_prompt.setdefault(_pid(pair), []).append(pair)
    keys = sorted(by_prompt)
    random.Random(SEED).shuffle(keys)
    gold_keys, held_keys = keys[: len(keys) // 2], keys[len(keys) // 2:]
    quickstart = {_pid(p) for p in io.read_pairs(DATA / "hh_harmless_base.jsonl.gz", "hh-rlhf")}
    quickstart |= {p.id for p in io.read_prompts(DATA / "hh_harmless_prompts.jsonl")}
    candidates = [k for k in held_keys if k not in quickstart and len(by_prompt[k][0].prompt) == 1]
    bon = [next(io.prompts_of(by_prompt[k])) for k in candidates[:n_prompts]]
    gold_pairs = [p for k in gold_keys for p in by_prompt[k]]
    held_pairs = [p for k in held_keys if k not in quickstart for p in by_prompt[k]]
    folder = run_dir / f"data-{n_prompts}"
    folder.mkdir(parents=True, exist_ok=True)
    io.write_pairs(gold_pairs, folder / "gold_train.jsonl")
    io.write_pairs(held_pairs, folder / "held_out.jsonl")
    io.write_prompts(bon, folder / "bon_prompts.jsonl")
    return {"pairs": len(pairs), "prompts": len(keys), "gold_train_pairs": len(gold_pairs),
            "held_out_pairs": len(held_pairs), "bon_prompts": len(bon), "single_turn_candidates": len(candidates)}


def _pid(pair) -> str:
    from preflab.records import prompt_id

    return prompt_id(pair.prompt)


def proxies(run_dir: Path) -> dict:
    """The quickstart's bench (RMBoost only; the RMs of seed 0 are the ones under test)."""
    import preflab
    from preflab.pipelines.bench.quickstart import quickstart_config

    config = quickstart_config(None, "llamacpp", None, "auto", budget=20, max_tokens=160)
    config["methods"] = [m for m in config["methods"] if m["name"] == "rmboost"]
    results = preflab.bench(config, run_dir=run_dir / "quickstart", progress=True)
    table = results["table"]
    return {"models": {row: str(run_dir / "quickstart" / table[row]["_models"][0]) for row in ("base-only", "base+rmboost")},
            "hh_harmless_accuracy": {row: table[row]["hh-harmless"]["accuracy"] for row in table}}


def gold(run_dir: Path, data: Path, max_length: int, epochs: float) -> dict:
    import preflab

    trained = preflab.train_rm(str(data / "gold_train.jsonl"), model="minilm", max_length=max_length,
                               epochs=epochs, lr=1e-4, batch_size=8, seed=SEED, progress=True, overwrite=True,
                               output_dir=str(run_dir / f"gold-{max_length}-{epochs:g}"))
    return {"path": trained.path, "pairs": trained.info["pairs"], "seconds": trained.seconds}


def accuracies(data: Path, models: dict[str, str]) -> dict:
    """Accuracy on the held-out half's pairs (none of the gold's prompts, none of the quickstart's
    training prompts), gold and proxies alike."""
    import preflab

    held = str(data / "held_out.jsonl")
    out = {}
    for label, path in models.items():
        model = preflab.evaluate(path, held, n_boot=2000, progress=False)["model"]
        out[label] = {"accuracy": model["accuracy"], "ci95": list(model["ci95"]), "n": model["n"]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", default=str(REPO / "runs" / "bon_hh"))
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--repeat-penalty", type=float, default=1.2)
    parser.add_argument("--gold-max-length", type=int, default=192)
    parser.add_argument("--gold-epochs", type=float, default=1.0)
    parser.add_argument("--out", default=str(HERE / "results" / "bon_hh.json"))
    args = parser.parse_args()
    run_dir = Path(args.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    started = time.perf_counter()
    folder = run_dir / f"data-{args.prompts}"
    data = stage(run_dir, f"split ({args.prompts} prompts)", lambda: split(run_dir, args.prompts))
    made = stage(run_dir, "quickstart RMs", lambda: proxies(run_dir))
    gold_name = f"gold RM (max length {args.gold_max_length}, {args.gold_epochs:g} epochs)"
    gold_rm = stage(run_dir, gold_name, lambda: gold(run_dir, folder, args.gold_max_length, args.gold_epochs))
    models = {**made["models"], "gold": gold_rm["path"]}
    accuracy = stage(run_dir, f"held-out accuracy ({gold_name})", lambda: accuracies(folder, models))

    def bon() -> dict:
        import preflab

        results = preflab.best_of_n(str(folder / "bon_prompts.jsonl"),
                                    rm=[f"{row}={path}" for row, path in made["models"].items()], gold=gold_rm["path"],
                                    llm="llamacpp", n=args.n, max_tokens=args.max_tokens,
                                    repeat_penalty=args.repeat_penalty, seed=SEED,
                                    cache_path=str(run_dir / "quickstart" / "llm_cache.sqlite"), overwrite=True,
                                    out=str(run_dir / f"bon-{args.prompts}-{args.n}-{args.max_tokens}"))
        return {k: results[k] for k in ("curves", "random", "oracle", "kl_nats", "wins", "ns", "n", "subsets",
                                        "prompts", "failed_prompts", "gold", "sampling", "wall_s")}

    bon_name = f"best-of-N ({args.prompts} prompts, n {args.n}, max tokens {args.max_tokens}, {gold_name})"
    results = stage(run_dir, bon_name, bon)
    names = [f"split ({args.prompts} prompts)", "quickstart RMs", gold_name, f"held-out accuracy ({gold_name})", bon_name]
    stages = {name: s for name, s in json.loads((run_dir / "stages.json").read_text()).items() if name in names}
    from preflab.report.bon import bon_markdown

    report = {
        "benchmark": "bon_hh", "command": " ".join(["python benchmarks/bon_hh.py", *sys.argv[1:]]),
        "data": data, "rms": made["models"], "quickstart_hh_harmless_accuracy": made["hh_harmless_accuracy"],
        "gold": gold_rm, "held_out_accuracy": accuracy, "results_md": bon_markdown(results), "bon": results,
        "wall_s": {name: round(s["wall_s"], 1) for name, s in stages.items()},
        "total_wall_s": round(sum(s["wall_s"] for s in stages.values()), 1), "cpu_count": os.cpu_count(),
        "this_invocation_s": round(time.perf_counter() - started, 1),
    }
    Path(args.out).write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(report["results_md"])
    print(json.dumps({"held_out_accuracy": accuracy, "wall_s": report["wall_s"]}, indent=2))


if __name__ == "__main__":
    main()
