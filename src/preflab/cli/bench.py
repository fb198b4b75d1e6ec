"""``preflab bench CONFIG`` and ``preflab quickstart``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from preflab.api.bench import BenchOptions, QuickstartOptions, bench, quickstart
from preflab.cli.adapter import Arg, command

console = Console()


def _finish(results: dict[str, Any], run_dir: Path) -> Path:
    from preflab.report.tables import rich_difference_table, rich_length_table, rich_table

    console.print(rich_table(results))
    for extra in (rich_difference_table(results), rich_length_table(results)):
        if extra is not None:
            console.print(extra)
    if "curves" in (results.get("bon") or {}):
        from preflab.report.bon import rich_tables

        for table in rich_tables(results["bon"]):
            console.print(table)
    page = results["report"]
    console.print(f"steps reused: {len(results['steps']['reused'])}, ran: {len(results['steps']['ran'])}; "
                  f"wall time {results['wall_s']:.0f} s")
    console.print(f"results: {run_dir / 'results.md'}\nreport:  {page}")
    return page


def bench_command(config: Path, **options: Any) -> None:
    """Run every method through the same prompts, generator and budget, train the same RM
    recipe on each (several seeds), evaluate on real human data beside null baselines."""
    results = bench(config, **options)
    _finish(results, Path(results["run_dir"]))


def quickstart_command(**options: Any) -> None:
    """Does a method make a reward model better? Offline, on the embedded defaults: generate
    pairs with RMBoost and RLCD, train a MiniLM RM on real human base pairs with and without
    them (3 seeds), evaluate on 640 held-out human pairs with paired intervals; write the report."""
    results = quickstart(**options)
    _finish(results, Path(results["run_dir"]))


def register(app: typer.Typer) -> None:
    command(app, "bench", bench_command, BenchOptions, args=[Arg("config", "Bench YAML (see examples/*.yaml).", Path)])
    command(app, "quickstart", quickstart_command, QuickstartOptions)
