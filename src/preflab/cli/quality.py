"""``preflab strength`` (an RM ensemble's preference strength) and ``preflab clean``
(repair labels from it: flip, drop, smooth, margin)."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from preflab.cli.command_options import with_command_options
from preflab.cli.options import with_config_options
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


def clean(
    src: str = typer.Argument(..., help="Pairs with strength_mean (from preflab strength)."),
    dst: str = typer.Argument(..., help="Output pairs (.jsonl, .parquet, or a datasets folder)."),
    config_flags: dict[str, Any] | None = None,
    **options: Any,
) -> None:
    """Flip → drop → smooth → margin, each optional; writes the repaired pairs, and a summary
    of what changed and why to DST.run.json."""
    from preflab.api.quality import clean

    summary = clean(src, out=dst, **options, **(config_flags or {})).info["summary"]
    console.print(_table(f"preflab clean → {dst}", summary))
    console.print(f"summary: {json.dumps(summary)}", highlight=False)


def strength(
    src: str = typer.Argument(..., help="Labelled pairs."),
    dst: str = typer.Argument(..., help="Output: the pairs with strength_mean, strength_std and the M differences in provenance."),
    config_flags: dict[str, Any] | None = None,
    **options: Any,
) -> None:
    """Train an ensemble of M reward models and measure every pair's preference strength
    (μ, σ of the reward differences; docs/methods.md#preference-strength). Plots go to DST.plots/."""
    from preflab.api.quality import strength

    result = strength(src, out=dst, **options, **(config_flags or {}))
    console.print(_table(f"preflab strength → {dst}", result.info["summary"]))
    console.print(f"plots: {', '.join(result.info['plots'])}")


def register(app: typer.Typer) -> None:
    from preflab.api.quality import CleanOptions, StrengthOptions
    from preflab.api.shared import ExecutorOptions

    app.command(name="clean")(with_config_options(with_command_options(clean, CleanOptions), CleanConfig))
    app.command(name="strength")(with_config_options(with_command_options(strength, StrengthOptions, ExecutorOptions),
                                                                     StrengthConfig))
