"""``preflab judge``: an LLM judge on existing pairs, measured against their labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from preflab.cli.command_options import with_command_options
from preflab.cli.options import RunOptions, with_run_options

console = Console(stderr=True)


def judge(
    pairs: str = typer.Argument(..., help="Labelled pairs (any format preflab reads)."),
    out: Path = typer.Option(..., "--out", "-o", help="Per-pair verdicts (.jsonl); OUT.run.json gets the summary."),
    run: RunOptions = RunOptions(),
    **options: Any,
) -> None:
    """Ask the judge about every pair in both orders; report order consistency, agreement
    with the labels (per group, e.g. PandaLM unanimous vs majority) and position bias."""
    from preflab.api.judge import JUDGE_RUN_OPTIONS, judge

    values = {name: getattr(run, name) for name in JUDGE_RUN_OPTIONS if name != "llm"}
    verdicts = judge(pairs, llm=run.llm, out=out, **values, **options)
    table = Table(title=f"Judge {verdicts['judge']['model']} on {pairs}")
    for column in ("group", "pairs", "order-consistent", "agrees with label", "agrees when decided", "A votes"):
        table.add_column(column, justify="right" if column != "group" else "left")
    for group, r in verdicts["summary"].items():
        fmt_rate = lambda x: "—" if x is None else f"{x:.1%}"  # noqa: E731
        table.add_row(group, str(r["pairs"]), fmt_rate(r["order_consistency"]), fmt_rate(r["agreement_with_label_all"]),
                      fmt_rate(r["agreement_with_label_when_decided"]), fmt_rate(r["share_of_A_votes"]))
    Console().print(table)
    console.print(f"verdicts → {out}; summary → {out}.run.json")


def register(app: typer.Typer) -> None:
    from preflab.api.judge import JUDGE_RUN_OPTIONS, JudgeOptions

    app.command()(with_run_options(with_command_options(judge, JudgeOptions), JUDGE_RUN_OPTIONS))
