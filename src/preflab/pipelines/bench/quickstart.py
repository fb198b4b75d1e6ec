"""The quickstart bench: HH-RLHF's setting at a size that fits a laptop, as a bench config.

A MiniLM embedding-head RM is trained on real human base pairs alone (``base-only``) and with
the pairs of each method added (``base+rmboost``, ``base+rlcd``), 3 seeds each, and evaluated on
640 held-out human pairs (paired differences against base-only) and on the 30 hand-written
check pairs. All three HH parts ship in ``preflab/data`` and share no prompt
(``scripts/slice_hh_quickstart.py``); the caller's own prompts or evaluation pairs replace them.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any


def quickstart_config(prompts: str | Path | None, llm: str, eval_path: str | Path | None, eval_format: str,
                      budget: int, max_tokens: int, eval_limit: int | None = None,
                      base_limit: int | None = None) -> dict[str, Any]:
    """The quickstart's bench config (the keys of a bench YAML file)."""
    data = files("preflab") / "data"
    domain = "general" if prompts else "harmlessness"  # the shipped prompts are HH's red-team requests
    short = {"domain": domain, "max_tokens": max_tokens}
    evals = [{"name": "eval", "path": str(eval_path), "format": eval_format}] if eval_path else [
        {"name": "hh-harmless", "path": str(data / "hh_harmless_eval.jsonl.gz"), "format": "hh-rlhf"},
        {"name": "preflab-check", "path": str(data / "quickstart_eval.jsonl")}]
    return {
        "name": "quickstart",
        "llm": llm,
        "prompts": {"path": str(prompts or data / "hh_harmless_prompts.jsonl")},
        "base": {"path": str(data / "hh_harmless_base.jsonl.gz"), "format": "hh-rlhf", "limit": base_limit},
        "budget_prompts": budget,
        "methods": [
            {"name": "rmboost", "options": {**short, "rewrite_max_tokens": max_tokens, "max_retries": 1}},
            {"name": "rlcd", "options": short},
        ],
        "rm": {"recipe": "embed-head", "seeds": [0, 1, 2]},
        "eval": [{**e, "limit": eval_limit} for e in evals],
    }
