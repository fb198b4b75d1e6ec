"""``preflab judge``: an LLM judge on existing pairs, measured against their labels."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from preflab.api.judge import JudgeOptions, judge
from preflab.api.options import LLMOptions
from preflab.cli.adapter import Arg, command

console = Console(stderr=True)


def _rate(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def judge_pairs(pairs: str, **options: Any) -> None:
    """Ask the judge about every pair in both orders; report order consistency, agreement
    with the labels (per group, e.g. PandaLM unanimous vs majority) and position bias."""
    verdicts = judge(pairs, **options)
    table = Table(title=f"Judge {verdicts['judge']['model']} on {pairs}")
    for column in ("group", "pairs", "order-consistent", "agrees with label", "agrees when decided", "A votes"):
        table.add_column(column, justify="right" if column != "group" else "left")
    for group, r in verdicts["summary"].items():
        table.add_row(group, str(r["pairs"]), _rate(r["order_consistency"]), _rate(r["agreement_with_label_all"]),
                      _rate(r["agreement_with_label_when_decided"]), _rate(r["share_of_A_votes"]))
    Console().print(table)
    out = options["out"]
    console.print(f"verdicts → {out}; summary → {out}.run.json")


def register(app: typer.Typer) -> None:
    command(app, "judge", judge_pairs, JudgeOptions, LLMOptions, required=("out",),
            args=[Arg("pairs", "Labelled pairs (any format preflab reads).")])
