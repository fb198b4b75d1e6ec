"""``preflab bench CONFIG``, ``preflab report RUN_DIR`` and ``preflab quickstart``."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from preflab.cli import preflights
from preflab.cli.options import FORMAT, FORMAT_HELP, RunOptions, with_run_options
from preflab.preflight import OVERWRITE

console = Console()


def _finish(results: dict[str, Any], run_dir: Path) -> Path:
    from preflab.benchmarking.table import rich_difference_table, rich_length_table, rich_table

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


def report(
    source: Path = typer.Argument(..., help="A folder written by preflab bench, or a pairs file (its failures file and "
                                            "clean record beside it are read too)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="The page (.html; default RUN_DIR/report.html, or "
                                                                 "PAIRS.report.html beside a pairs file)."),
    fmt: str = FORMAT,
    page_size: int = typer.Option(50, "--page-size", help="Rows per page in the pair browser."),
) -> None:
    """Write one self-contained HTML page: for a bench run, the tables, plots and a browser over
    every pair and failure; for a pairs file, the browser alone (filters, search, side by side)."""
    from preflab.report.html import write_pairs_report, write_report

    out, bench_run = preflights.report(source, out, page_size)
    page = write_report(source, page_size, out) if bench_run else write_pairs_report(source, out, fmt, page_size)
    console.print(f"report: {page}")


def quickstart_config(prompts: Optional[Path], llm: str, eval_path: Optional[Path], eval_format: str,
                      budget: int, max_tokens: int) -> dict[str, Any]:
    """The quickstart bench: RMBoost, RLCD and random labels on the shipped prompts, a MiniLM
    embedding-head RM, evaluated on the shipped check set (or the user's data)."""
    data = files("preflab") / "data"
    short = {"max_tokens": max_tokens}
    return {
        "name": "quickstart",
        "llm": llm,
        "prompts": {"path": str(prompts or data / "example_prompts.txt")},
        "budget_prompts": budget,
        "methods": [
            {"name": "rmboost", "options": {**short, "rewrite_max_tokens": max_tokens, "max_retries": 1}},
            {"name": "rlcd", "options": short},
            {"name": "random-label", "options": short},
        ],
        "rm": {"recipe": "embed-head", "seeds": [0, 1, 2]},
        "eval": [{"name": "eval" if eval_path else "preflab-check", "path": str(eval_path or data / "quickstart_eval.jsonl"),
                  "format": eval_format}],
    }


def quickstart(
    prompts: Optional[Path] = typer.Option(None, "--prompts", help="Your prompts (default: preflab's 20 example prompts)."),
    eval_path: Optional[Path] = typer.Option(None, "--eval", help="Your labelled pairs to evaluate on (default: preflab's 30-pair check set)."),
    eval_format: str = typer.Option("auto", "--eval-format", help=f"Of --eval. {FORMAT_HELP}"),
    budget: int = typer.Option(20, "--budget", help="Prompts per method."),
    max_tokens: int = typer.Option(200, "--max-tokens", help="Token limit per generated response."),
    out: Path = typer.Option(Path("runs/quickstart"), "--out", "-o", help="Run folder."),
    overwrite: bool = OVERWRITE,
    run: RunOptions = RunOptions(),
) -> None:
    """The whole chain on the embedded defaults, offline: generate with RMBoost, RLCD and
    random labels; train a MiniLM RM per method (3 seeds); evaluate; write the HTML report."""
    from preflab.api.bench import bench

    results = bench(quickstart_config(prompts, run.llm, eval_path, eval_format, budget, max_tokens), run_dir=out,
                    overwrite=overwrite)
    _finish(results, out)


def register(app: typer.Typer) -> None:
    app.command()(bench)
    app.command()(report)
    app.command()(with_run_options(quickstart, ("llm",)))  # the rest lives in the run folder
