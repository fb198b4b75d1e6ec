"""``preflab augment``: scored pairs → reward-augmented, goal-conditioned DPO data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from preflab import io
from preflab.augmentation import AugmentConfig, augment_pairs, refuse_test_split
from preflab.cli import preflights
from preflab.cli.options import FORMAT, with_config_options
from preflab.preflight import OVERWRITE
from preflab.provenance import run_record, sidecar, write_run_json

console = Console()


def augment(
    src: str = typer.Argument(..., help="Scored pairs (chosen_score/rejected_score), or UltraFeedback's raw layout."),
    dst: str = typer.Argument(..., help="Output (.jsonl, .parquet, or a datasets folder)."),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML file with the same keys as the flags."),
    fmt: str = FORMAT,
    column_map: Optional[str] = typer.Option(None, "--column-map", help="Rename source columns: 'score_chosen=chosen_score,score_rejected=rejected_score'."),
    split: Optional[str] = typer.Option(None, "--split", help="Split of a datasets folder or hub dataset; 'test' is refused."),
    seed: int = typer.Option(0, "--seed", help="Seed of UltraFeedback's rejected-completion draw."),
    to: str = typer.Option("trl-chat", "--to", help="Output layout: trl-chat (TRL conversational DPO) or preflab (keeps scores and provenance)."),
    not_test: bool = typer.Option(False, "--not-test", help="The input's name says test but it is training data."),
    overwrite: bool = OVERWRITE,
    config_flags: dict[str, Any] | None = None,
) -> None:
    """Make positive- and negative-goal copies of every scored pair (SPEC §4). Test splits are refused."""
    cfg = preflights.pairs_step(AugmentConfig, src, dst, config, config_flags or {}, overwrite=overwrite)
    if to not in ("trl-chat", "preflab"):
        raise typer.BadParameter("choose trl-chat or preflab", param_hint="--to")
    if not not_test:
        refuse_test_split(src, split)
    elif split is not None:
        refuse_test_split("data", split)
    counts: Counter = Counter()
    pairs = io.read_pairs(src, fmt, column_map=column_map, split=split, seed=seed)
    written = io.write_pairs(augment_pairs(pairs, cfg, counts), dst, fmt=to)
    write_run_json(sidecar(dst), run_record("augment", cfg, inputs={"pairs": src}, counts=dict(counts),
                                           seed=seed, output={"path": dst, "format": to, "rows": written}))
    console.print(f"{counts['pairs_in']} pairs → {written} examples ({counts['positive']} positive, "
                  f"{counts['negative']} negative goal; {counts['ties']} ties, policy {cfg.ties}) → {dst}")


def register(app: typer.Typer) -> None:
    app.command()(with_config_options(augment, AugmentConfig))
