"""``preflab strength`` (an RM ensemble's preference strength) and ``preflab clean``
(repair labels from it: flip, drop, smooth, margin): the shell over :func:`preflab.strength`
and :func:`preflab.clean`."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from preflab.api.options import ExecutorOptions
from preflab.api.quality import CleanOptions, StrengthOptions, clean, strength
from preflab.cli.adapter import Arg, command
from preflab.quality.strength import StrengthConfig
from preflab.quality.treatments import CleanConfig

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


def clean_cmd(src: str, dst: str, **options: Any) -> None:
    """Flip → drop → smooth → margin, each optional; writes the repaired pairs, and a summary
    of what changed and why to DST.run.json."""
    summary = clean(src, out=dst, **options).info["summary"]
    console.print(_table(f"preflab clean → {dst}", summary))
    console.print(f"summary: {json.dumps(summary)}", highlight=False)


def strength_cmd(src: str, dst: str, **options: Any) -> None:
    """Train an ensemble of M reward models and measure every pair's preference strength
    (μ, σ of the reward differences; docs/methods.md#preference-strength). Plots go to DST.plots/."""
    result = strength(src, out=dst, **options)
    console.print(_table(f"preflab strength → {dst}", result.info["summary"]))
    console.print(f"plots: {', '.join(result.info['plots'])}")


def register(app: typer.Typer) -> None:
    command(app, "clean", clean_cmd, CleanOptions, CleanConfig,
            args=[Arg("src", "Pairs with strength_mean (from preflab strength)."),
                  Arg("dst", "Output pairs (.jsonl, .parquet, or a datasets folder).")])
    command(app, "strength", strength_cmd, StrengthOptions, ExecutorOptions, StrengthConfig,
            args=[Arg("src", "Labelled pairs."),
                  Arg("dst", "Output: the pairs with strength_mean, strength_std and the M differences in provenance.")])
