"""``preflab data``: inspect, validate, convert and split preference files. Thin: parse the
flags, call :mod:`preflab.io`, print a rich table."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from preflab import io
from preflab.cli.options import FORMAT
from preflab.evaluation.data_stats import pair_stats
from preflab.evaluation.response_length import UNIT
from preflab.io.outputs import file_output, pairs_output, workdir_output
from preflab.api.preflight import ALLOW_EMPTY, OVERWRITE, Preflight, nonempty, require_records

app = typer.Typer(help="Inspect, validate, convert and split preference data.", no_args_is_help=True)
console = Console()

Format = FORMAT
ColumnMap = typer.Option(None, "--column-map", help="Rename source columns first: 'question=prompt,good=chosen,bad=rejected'.")
Split = typer.Option(None, "--split", help="Split of a datasets folder or hub dataset (default: train).")
Strict = typer.Option(True, "--strict/--lenient", help="Stop at the first bad row (strict) or skip bad rows and write them to a rejects file (lenient).")
Rejects = typer.Option(None, "--rejects", help="Where lenient mode writes bad rows with reasons (default: INPUT.rejects.jsonl).")


def _rejects_path(path: str, strict: bool, rejects: Optional[Path]) -> Optional[Path]:
    if strict:
        return None
    return rejects or Path(f"{Path(path).name}.rejects.jsonl")


def _check(path: str, strict: bool, rejects: Optional[Path], outputs=(), overwrite: bool = False,
           problems: tuple[str, ...] = ()) -> None:
    """Every output (the rejects file included) checked against the input before reading."""
    check = Preflight()
    check.problems += problems
    out = list(outputs)
    if _rejects_path(path, strict, rejects) is not None:
        out += file_output(_rejects_path(path, strict, rejects))
    check.outputs(out, [path], overwrite=overwrite)
    check.done()


def _read(path, fmt, column_map, split, strict, rejects, report):
    return io.read_pairs(path, fmt, column_map=column_map, split=split, strict=strict,
                         rejects=_rejects_path(path, strict, rejects), report=report)


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


@app.command()
def inspect(
    path: str = typer.Argument(..., help="JSONL(.gz), JSON, Parquet, a datasets folder, or hf:OWNER/NAME."),
    fmt: str = Format, column_map: Optional[str] = ColumnMap, split: Optional[str] = Split,
    strict: bool = Strict, rejects: Optional[Path] = Rejects,
) -> None:
    """Counts, length statistics, duplicates, ties and flags of a preference file."""
    _check(path, strict, rejects)
    report = io.ReadReport()
    stats = pair_stats(_read(path, fmt, column_map, split, strict, rejects, report))
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


@app.command()
def validate(
    path: str = typer.Argument(..., help="File or datasets folder to check."),
    fmt: str = Format, column_map: Optional[str] = ColumnMap, split: Optional[str] = Split,
    strict: bool = Strict, rejects: Optional[Path] = Rejects, allow_empty: bool = ALLOW_EMPTY,
) -> None:
    """Check every row; strict mode stops at the first problem (exit 1) with file, line and field.
    An input with no pairs exits 1 unless --allow-empty."""
    _check(path, strict, rejects)
    report = io.ReadReport()
    for _ in _read(path, fmt, column_map, split, strict, rejects, report):
        pass
    console.print(_notes_table(report))
    if report.rejected:
        console.print(f"[yellow]{len(report.rejected)} bad rows written to {_rejects_path(path, strict, rejects)}[/yellow]")
        raise typer.Exit(1)
    require_records(report.records, "pairs", path, allow_empty)
    console.print(f"[green]ok[/green]: {report.records} pairs ({report.format})")


@app.command()
def convert(
    src: str = typer.Argument(..., help="Input file or datasets folder."),
    dst: str = typer.Argument(..., help="Output: .jsonl, .jsonl.gz, .parquet, or a folder name (datasets)."),
    fmt: str = Format, column_map: Optional[str] = ColumnMap, split: Optional[str] = Split,
    strict: bool = Strict, rejects: Optional[Path] = Rejects,
    to: str = typer.Option("preflab", "--to", help="Output layout: preflab (all columns), trl (standard), trl-chat (conversational)."),
    overwrite: bool = OVERWRITE, allow_empty: bool = ALLOW_EMPTY,
) -> None:
    """Convert between formats and layouts; the output appears only when complete. An input
    with no pairs exits 1 (nothing written) unless --allow-empty."""
    _check(src, strict, rejects, pairs_output(dst), overwrite)
    report = io.ReadReport()
    pairs = nonempty(_read(src, fmt, column_map, split, strict, rejects, report), "pairs", src, allow_empty)
    count = io.write_pairs(pairs, dst, fmt=to)
    console.print(f"wrote {count} pairs to {dst} ({to}); {len(report.rejected)} rows rejected")


@app.command()
def split(
    src: str = typer.Argument(..., help="Input pairs."),
    out_dir: Path = typer.Option(..., "--out-dir", "-o", help="Folder for the two outputs."),
    test_fraction: float = typer.Option(0.5, "--test-fraction", help="Share of prompts on the second side."),
    seed: int = typer.Option(0, "--seed"),
    mode: str = typer.Option("train-test", "--mode", help="train-test: train.EXT + test.EXT. base-prompts: labelled base.EXT + unlabelled prompts.EXT (West-of-N's HF50% setting)."),
    ext: str = typer.Option("jsonl", "--ext", help="jsonl or parquet."),
    fmt: str = Format, column_map: Optional[str] = ColumnMap, split_name: Optional[str] = typer.Option(None, "--split"),
    strict: bool = Strict, rejects: Optional[Path] = Rejects, overwrite: bool = OVERWRITE,
) -> None:
    """Seeded split by prompt (no prompt on both sides)."""
    problems = ([f"--mode: choose train-test or base-prompts, got {mode!r}"] * (mode not in ("train-test", "base-prompts"))
                + [f"--ext: choose jsonl or parquet, got {ext!r}"] * (ext not in ("jsonl", "parquet"))
                + [f"--test-fraction must lie strictly between 0 and 1, got {test_fraction}"] * (not 0 < test_fraction < 1))
    _check(src, strict, rejects, workdir_output(out_dir), overwrite, tuple(problems))
    report = io.ReadReport()
    first, second = io.split_pairs(_read(src, fmt, column_map, split_name, strict, rejects, report), test_fraction, seed)
    if mode == "train-test":
        io.write_pairs(first, out_dir / f"train.{ext}")
        io.write_pairs(second, out_dir / f"test.{ext}")
        console.print(f"train: {len(first)} pairs, test: {len(second)} pairs → {out_dir}")
    else:
        io.write_pairs(first, out_dir / f"base.{ext}")
        n = io.write_prompts(io.prompts_of(second), out_dir / f"prompts.{ext}")
        console.print(f"base: {len(first)} labelled pairs, prompts: {n} unlabelled prompts → {out_dir}")
