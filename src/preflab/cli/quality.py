"""``preflab clean``: repair labels from preference strength (flip/drop/smooth/margin)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from preflab import io
from preflab.config import help_of, resolve
from preflab.provenance import run_record, sidecar, write_run_json
from preflab.quality.treatments import CleanConfig, clean_pairs

console = Console()


def _h(name: str) -> str:
    return help_of(CleanConfig, name)


def clean(
    src: str = typer.Argument(..., help="Pairs with strength_mean (from preflab strength)."),
    dst: str = typer.Argument(..., help="Output pairs (.jsonl, .parquet, or a datasets folder)."),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML file with the same keys as the flags."),
    flip_fraction: Optional[float] = typer.Option(None, help=_h("flip_fraction")),
    flip_below: Optional[float] = typer.Option(None, help=_h("flip_below")),
    drop_below: Optional[float] = typer.Option(None, help=_h("drop_below")),
    smooth_alpha: Optional[float] = typer.Option(None, help=_h("smooth_alpha")),
    smooth_fraction: Optional[float] = typer.Option(None, help=_h("smooth_fraction")),
    smooth_below: Optional[float] = typer.Option(None, help=_h("smooth_below")),
    margin: Optional[bool] = typer.Option(None, "--margin/--no-margin", help=_h("margin")),
    margin_scale: Optional[float] = typer.Option(None, help=_h("margin_scale")),
    margin_clip: Optional[bool] = typer.Option(None, "--margin-clip/--no-margin-clip", help=_h("margin_clip")),
) -> None:
    """Flip → drop → smooth → margin, each optional; writes the repaired pairs and a summary."""
    cfg = resolve(CleanConfig, config, {
        "flip_fraction": flip_fraction, "flip_below": flip_below, "drop_below": drop_below,
        "smooth_alpha": smooth_alpha, "smooth_fraction": smooth_fraction, "smooth_below": smooth_below,
        "margin": margin, "margin_scale": margin_scale, "margin_clip": margin_clip,
    })
    pairs, summary = clean_pairs(list(io.read_pairs(src)), cfg)
    io.write_pairs(pairs, dst)
    write_run_json(sidecar(dst), run_record("clean", cfg, inputs={"pairs": src}, counts=summary))
    table = Table(title=f"preflab clean → {dst}")
    table.add_column("what")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    console.print(table)
    console.print(f"summary: {json.dumps(summary)}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(clean)
