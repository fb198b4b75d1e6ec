"""``preflab bench CONFIG`` and ``preflab quickstart``."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from preflab.cli.options import FORMAT_HELP, RunOptions, with_run_options
from preflab.api.preflight import OVERWRITE

console = Console()


def _finish(results: dict[str, Any], run_dir: Path) -> Path:
    from preflab.report.tables import rich_difference_table, rich_length_table, rich_table

    console.print(rich_table(results))
    for extra in (rich_difference_table(results), rich_length_table(results)):
        if extra is not None:
            console.print(extra)
    page = results["report"]
    console.print(f"steps reused: {len(results['steps']['reused'])}, ran: {len(results['steps']['ran'])}; "
                  f"wall time {results['wall_s']:.0f} s")
    console.print(f"results: {run_dir / 'results.md'}\nreport:  {page}")
    return page


def bench(
    config: Path = typer.Argument(..., help="Bench YAML (see examples/*.yaml)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder (default: runs/NAME). A rerun reuses every finished step."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Run every method through the same prompts, generator and budget, train the same RM
    recipe on each (several seeds), evaluate on real human data beside null baselines."""
    from preflab.api.bench import bench

    results = bench(config, run_dir=out, overwrite=overwrite)
    _finish(results, Path(results["run_dir"]))


def quickstart_config(prompts: Optional[Path], llm: str, eval_path: Optional[Path], eval_format: str,
                      budget: int, max_tokens: int, eval_limit: Optional[int] = None,
                      base_limit: Optional[int] = None) -> dict[str, Any]:
    """The quickstart bench (HH-RLHF's setting at a size that fits a laptop): a MiniLM
    embedding-head RM trained on real human base pairs alone (base-only) and with the pairs of
    each method added (base+rmboost, base+rlcd), 3 seeds each, evaluated on 640 held-out human
    pairs (paired differences against base-only) and on the 30 hand-written check pairs. All
    three HH parts ship in ``preflab/data`` and share no prompt (``scripts/slice_hh_quickstart.py``)."""
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


def quickstart(
    prompts: Optional[Path] = typer.Option(None, "--prompts", help="Your prompts (default: 120 HH-RLHF harmless prompts shipped with preflab)."),
    eval_path: Optional[Path] = typer.Option(None, "--eval", help="Your labelled pairs to evaluate on (default: 640 held-out HH-RLHF harmless pairs and preflab's 30-pair check set)."),
    eval_format: str = typer.Option("auto", "--eval-format", help=f"Of --eval. {FORMAT_HELP}"),
    budget: int = typer.Option(20, "--budget", help="Prompts per method."),
    max_tokens: int = typer.Option(160, "--max-tokens", help="Token limit per generated response."),
    eval_limit: Optional[int] = typer.Option(None, "--eval-limit", help="Evaluate on the first N pairs of each set only (quicker, wider intervals)."),
    base_limit: Optional[int] = typer.Option(None, "--base-limit", help="Train on the first N of the 320 human base pairs only."),
    out: Path = typer.Option(Path("runs/quickstart"), "--out", "-o", help="Run folder."),
    overwrite: bool = OVERWRITE,
    run: RunOptions = RunOptions(),
) -> None:
    """Does a method make a reward model better? Offline, on the embedded defaults: generate
    pairs with RMBoost and RLCD, train a MiniLM RM on real human base pairs with and without
    them (3 seeds), evaluate on 640 held-out human pairs with paired intervals; write the report."""
    from preflab.api.bench import bench

    config = quickstart_config(prompts, run.llm, eval_path, eval_format, budget, max_tokens, eval_limit, base_limit)
    _finish(bench(config, run_dir=out, overwrite=overwrite), out)


def register(app: typer.Typer) -> None:
    app.command()(bench)
    app.command()(with_run_options(quickstart, ("llm",)))  # the rest lives in the run folder
