"""``preflab strength`` (an RM ensemble's preference strength) and ``preflab clean``
(repair labels from it: flip, drop, smooth, margin)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from preflab import io
from preflab.cli import preflights
from preflab.cli.options import EXECUTOR_OPTIONS, FORMAT, RunOptions, with_config_options, with_run_options
from preflab.preflight import OVERWRITE
from preflab.provenance import run_record, sidecar, write_run_json
from preflab.quality.strength import StrengthConfig
from preflab.quality.treatments import CleanConfig, clean_pairs

console = Console()


def _table(title: str, values: dict[str, Any]) -> Table:
    table = Table(title=title)
    table.add_column("what")
    table.add_column("value", justify="right")
    for key, value in values.items():
        if isinstance(value, (list, dict)):
            continue
        table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    return table


def clean(
    src: str = typer.Argument(..., help="Pairs with strength_mean (from preflab strength)."),
    dst: str = typer.Argument(..., help="Output pairs (.jsonl, .parquet, or a datasets folder)."),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML file with the same keys as the flags."),
    overwrite: bool = OVERWRITE,
    config_flags: dict[str, Any] | None = None,
) -> None:
    """Flip → drop → smooth → margin, each optional; writes the repaired pairs, and a summary
    of what changed and why to DST.run.json."""
    cfg = preflights.pairs_step(CleanConfig, src, dst, config, config_flags or {}, overwrite=overwrite)
    pairs, summary = clean_pairs(list(io.read_pairs(src)), cfg)
    io.write_pairs(pairs, dst)
    write_run_json(sidecar(dst), run_record("clean", cfg, inputs={"pairs": src}, counts=summary))
    console.print(_table(f"preflab clean → {dst}", summary))
    console.print(f"summary: {json.dumps(summary)}", highlight=False)


def strength(
    src: str = typer.Argument(..., help="Labelled pairs."),
    dst: str = typer.Argument(..., help="Output: the pairs with strength_mean, strength_std and the M differences in provenance."),
    fmt: str = FORMAT,
    config: Optional[Path] = typer.Option(None, "--config", help="YAML file with the same keys as the flags."),
    overwrite: bool = OVERWRITE,
    run: RunOptions = RunOptions(),
    config_flags: dict[str, Any] | None = None,
) -> None:
    """Train an ensemble of M reward models and measure every pair's preference strength
    (μ, σ of the reward differences; SPEC §3). Plots go to DST.plots/."""
    from preflab.quality.strength import compute_strength, plot_strength, sigma_by_mu_bins

    cfg = preflights.pairs_step(StrengthConfig, src, dst, config, config_flags or {}, overwrite=overwrite, plots=True)
    pairs = list(io.read_pairs(src, fmt))
    with Progress(TextColumn(f"Training ensemble ({cfg.mode}, M={cfg.members})"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True)) as bar:
        task = bar.add_task("members", total=cfg.members)
        result = compute_strength(pairs, cfg, progress=lambda d, t: bar.update(task, completed=d),
                                  executor=run.work_executor)
    io.write_pairs(result.pairs, dst)
    mu = np.array([p.strength_mean for p in result.pairs])
    sigma = np.array([p.strength_std for p in result.pairs])
    plots = plot_strength(mu, sigma, Path(str(dst) + ".plots"))
    write_run_json(sidecar(dst), run_record("strength", cfg, inputs={"pairs": src}, counts=result.info,
                                           sigma_by_mu=sigma_by_mu_bins(mu, sigma), plots=plots,
                                           executor=run.work_executor.record()))
    console.print(_table(f"preflab strength → {dst}", result.info))
    console.print(f"plots: {', '.join(plots)}")


def register(app: typer.Typer) -> None:
    app.command(name="clean")(with_config_options(clean, CleanConfig))
    app.command(name="strength")(with_config_options(with_run_options(strength, EXECUTOR_OPTIONS), StrengthConfig))
