"""``preflab augment``: scored pairs → reward-augmented, goal-conditioned DPO data."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console

from preflab.augmentation import AugmentConfig
from preflab.cli.command_options import with_command_options
from preflab.cli.options import with_config_options

console = Console()


def augment(
    src: str = typer.Argument(..., help="Scored pairs (chosen_score/rejected_score), or UltraFeedback's raw layout."),
    dst: str = typer.Argument(..., help="Output (.jsonl, .parquet, or a datasets folder)."),
    config_flags: dict[str, Any] | None = None,
    **options: Any,
) -> None:
    """Make positive- and negative-goal copies of every scored pair (docs/methods.md#reward-augmented-dpo-data). Test splits are refused."""
    from preflab.api.augment import augment

    made = augment(src, out=dst, **options, **(config_flags or {}))
    counts, ties = made.info["counts"], made.run["config"]["ties"]
    console.print(f"{counts['pairs_in']} pairs → {made.info['rows_written']} examples ({counts['positive']} positive, "
                  f"{counts['negative']} negative goal; {counts['ties']} ties, policy {ties}) → {dst}")


def register(app: typer.Typer) -> None:
    from preflab.api.augment import AugmentOptions

    app.command()(with_config_options(with_command_options(augment, AugmentOptions), AugmentConfig))
