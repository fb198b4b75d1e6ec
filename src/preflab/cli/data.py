"""``preflab data``: inspect, validate, convert and split preference files. Thin: each command
calls its function in :mod:`preflab.api.data_commands` and prints a rich table."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from preflab import io
from preflab.api.data_commands import (ConvertOptions, ReadOptions, SplitOptions, ValidateOptions, convert_pairs,
                                       inspect_pairs, split_pairs, validate_pairs)
from preflab.cli.adapter import Arg, command
from preflab.evaluation.response_length import UNIT

app = typer.Typer(help="Inspect, validate, convert and split preference data.", no_args_is_help=True)
console = Console()


def _notes_table(report: io.ReadReport) -> Table:
    table = Table(title="Reader notes", show_header=True)
    table.add_column("note")
    table.add_column("count", justify="right")
    table.add_column("ids (first 5)")
    table.add_row("rows read", str(report.rows), "")
    table.add_row("rows rejected", str(len(report.rejected)), "")
    for kind, count in sorted(report.notes.counts.items()):
        ids = report.notes.ids.get(kind, [])
        table.add_row(kind, str(count), ", ".join(ids[:5]) + (" …" if len(ids) > 5 else ""))
    return table


def inspect(path: str, **options: Any) -> None:
    """Counts, length statistics, duplicates, ties and flags of a preference file."""
    seen = inspect_pairs(path, **options)
    stats, report = seen.stats, seen.read
    table = Table(title=f"{path} ({report.format})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in [
        ("pairs", stats.records), ("distinct prompts", stats.prompts),
        ("multi-turn prompts", stats.multi_turn), ("duplicate pairs (same label)", stats.duplicate_ids),
        ("duplicate pairs (opposite label)", stats.duplicate_reversed), ("flipped", stats.flipped),
        ("score ties", stats.score_ties), ("with margin", stats.with_margin),
        ("chosen longer than rejected (unequal lengths)",
         "-" if stats.share_chosen_longer is None else f"{stats.share_chosen_longer:.1%}"),
        ("chosen and rejected equally long", stats.same_length),
    ]:
        table.add_row(name, str(value))
    console.print(table)
    lengths = Table(title=f"Lengths ({UNIT})")
    for column in ("field", "mean", "median", "p95", "min", "max"):
        lengths.add_column(column, justify="right" if column != "field" else "left")
    for name, summary in stats.lengths.items():
        if summary:
            lengths.add_row(name, *(f"{summary[k]:.0f}" for k in ("mean", "median", "p95", "min", "max")))
    console.print(lengths)
    if stats.categories:
        cats = Table(title="Categories (top 15)")
        cats.add_column("category")
        cats.add_column("pairs", justify="right")
        for name, count in stats.categories.most_common(15):
            cats.add_row(name, str(count))
        console.print(cats)
    console.print(_notes_table(report))


def validate(path: str, **options: Any) -> None:
    """Check every row; strict mode stops at the first problem (exit 1) with file, line and field.
    An input with no pairs exits 1 unless --allow-empty."""
    found = validate_pairs(path, **options)
    console.print(_notes_table(found.read))
    if not found.ok:
        console.print(f"[yellow]{len(found.read.rejected)} bad rows written to {found.rejects}[/yellow]")
        raise typer.Exit(1)
    console.print(f"[green]ok[/green]: {found.read.records} pairs ({found.read.format})")


def convert(src: str, dst: str, **options: Any) -> None:
    """Convert between formats and layouts; the output appears only when complete. An input
    with no pairs exits 1 (nothing written) unless --allow-empty."""
    done = convert_pairs(src, dst, **options)
    console.print(f"wrote {done.written} pairs to {dst} ({done.layout}); "
                  f"{len(done.read.rejected)} rows rejected")


def split(src: str, **options: Any) -> None:
    """Seeded split by prompt (no prompt on both sides)."""
    halves = split_pairs(src, **options)
    out_dir = options["out_dir"]
    if halves.mode == "train-test":
        console.print(f"train: {len(halves.first)} pairs, test: {len(halves.second)} pairs → {out_dir}")
    else:
        console.print(f"base: {len(halves.first)} labelled pairs, prompts: {len(halves.second)} unlabelled prompts → "
                      f"{out_dir}")


command(app, "inspect", inspect, ReadOptions,
        args=[Arg("path", "JSONL(.gz), JSON, Parquet, a datasets folder, or hf:OWNER/NAME.")])
command(app, "validate", validate, ReadOptions, ValidateOptions, args=[Arg("path", "File or datasets folder to check.")])
command(app, "convert", convert, ReadOptions, ConvertOptions,
        args=[Arg("src", "Input file or datasets folder."),
              Arg("dst", "Output: .jsonl, .jsonl.gz, .parquet, or a folder name (datasets).")])
command(app, "split", split, SplitOptions, ReadOptions, args=[Arg("src", "Input pairs.")], required=("out_dir",))
