"""``preflab augment``: scored pairs → reward-augmented, goal-conditioned DPO data (the shell
over :func:`preflab.augment`)."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console

from preflab.api.augment import AugmentOptions, augment
from preflab.augmentation import AugmentConfig
from preflab.cli.adapter import Arg, command

console = Console()


def augment_cmd(src: str, dst: str, **options: Any) -> None:
    """Make positive- and negative-goal copies of every scored pair (docs/methods.md#reward-augmented-dpo-data). Test splits are refused."""
    made = augment(src, out=dst, **options)
    counts, config = made.info["counts"], made.run["config"]
    count = lambda key: counts.get(key, 0)  # noqa: E731 - a count that never happened is absent
    contradictions = (f"; {count('contradictions')} contradictions, {config['contradictions']}"
                      if count("contradictions") else "")
    console.print(f"{count('pairs_in')} pairs → {made.info['rows_written']} examples ({count('positive')} positive, "
                  f"{count('negative')} negative goal; {count('ties')} ties, policy {config['ties']}{contradictions})"
                  f" → {dst}")


def register(app: typer.Typer) -> None:
    command(app, "augment", augment_cmd, AugmentOptions, AugmentConfig,
            args=[Arg("src", "Scored pairs (chosen_score/rejected_score), or UltraFeedback's raw layout."),
                  Arg("dst", "Output (.jsonl, .parquet, or a datasets folder).")])
