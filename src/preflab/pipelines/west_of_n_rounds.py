"""Iterative West-of-N: the student becomes the next round's base model (docs/methods.md#iterative-west-of-n).

Round 0 trains a base reward model on the labelled data D_L. Round r generates West-of-N pairs
for the prompts with the current model as the scorer, trains a student on D_L ∪ D_L′ (synthetic
capped at ``mix`` × |D_L|, the paper's 1:1 by default) and hands it on as the next scorer. With
an evaluation set, every round's model is scored on it, so the table shows whether the rounds
help. Each round's generation is resumable and a finished round's model is reused.

    preflab west-of-n-rounds --base base.jsonl --prompts prompts.jsonl --rounds 2 --out runs/won
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Literal

from preflab.config import option, validate
from preflab.errors import Problem, about
from preflab.records import PreferencePair


@dataclass(frozen=True)
class RoundsConfig:
    rounds: int = option(2, "West-of-N rounds after the base model.")
    n: int = option(8, "Samples per prompt.")
    temperature: float = option(0.7, "Sampling temperature.")
    max_tokens: int = option(256, "Token limit per sample.")
    recipe: Literal["embed-head", "finetune"] = option("embed-head", "Base and student model: embed-head (frozen MiniLM + head) or finetune (full RM).")
    model: str = option("minilm", "Backbone alias or folder for the reward models.", reads=True)
    mix: float = option(1.0, "Synthetic pairs per labelled pair in a student's data (1.0 = 1:1).")
    seed: int = option(0, "Seed; round r samples with seed + r.")

    def problems(self) -> list[Problem]:
        return [about("n", f"must be at least 2, got {self.n}")] if self.n < 2 else []


def _train(cfg: RoundsConfig, pairs: list[PreferencePair], folder: Path, seed: int) -> str:
    if (folder / "model").exists():
        return str(folder / "model")
    from preflab.rm.recipes import train_scorer

    return train_scorer(pairs, {"recipe": cfg.recipe, "model": cfg.model}, seed, output_dir=folder / "model",
                        cache_dir=folder.parent / "embeddings", progress=False).path


def _accuracy(model: str, eval_pairs: list[PreferencePair] | None) -> float | None:
    if not eval_pairs:
        return None
    from preflab.evaluation import pairwise_accuracy
    from preflab.rm.loading import load_scorer
    from preflab.rm.scorer import score_pairs

    return pairwise_accuracy([c - r for c, r in score_pairs(load_scorer(model), eval_pairs)])


def run_rounds(base: list[PreferencePair], prompts_path: str | Path, llm: Any, cfg: RoundsConfig, out: Path, *,
               eval_pairs: list[PreferencePair] | None = None, limit: int | None = None,
               say: Callable[[str], None] = lambda m: None) -> dict[str, Any]:
    from preflab.pipelines.generation import run_generation
    from preflab.methods import get_method
    from preflab.methods.west_of_n import WestOfNConfig
    from preflab.rm.loading import load_scorer

    validate(cfg)
    out.mkdir(parents=True, exist_ok=True)
    model = _train(cfg, base, out / "round0", cfg.seed)
    history = [{"round": 0, "train_pairs": len(base), "eval_accuracy": _accuracy(model, eval_pairs)}]
    say(f"round 0 (base model): {history[-1]}")
    method = get_method("west-of-n")
    won = WestOfNConfig(n=cfg.n, temperature=cfg.temperature, max_tokens=cfg.max_tokens)
    for r in range(1, cfg.rounds + 1):
        folder = out / f"round{r}"
        result = run_generation(prompts_path, folder / "pairs.jsonl", method, won, llm, seed=cfg.seed + r,
                                scorer=load_scorer(model), limit=limit)
        synthetic = result.pairs
        take = min(len(synthetic), round(cfg.mix * len(base)))
        mixed = base + random.Random(cfg.seed + r).sample(synthetic, take)
        model = _train(cfg, mixed, folder, cfg.seed + r)
        history.append({"round": r, "synthetic_pairs": len(synthetic), "train_pairs": len(mixed),
                        "eval_accuracy": _accuracy(model, eval_pairs)})
        say(f"round {r}: {history[-1]}")
    summary = {"config": replace(cfg).__dict__, "rounds": history, "final_model": model}
    (out / "rounds.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary

