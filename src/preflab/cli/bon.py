"""``preflab bon``: best-of-N against a gold scorer, the shell over :func:`preflab.best_of_n`."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from preflab.api.bon import BonOptions, best_of_n
from preflab.api.options import LLMOptions
from preflab.cli.adapter import command

console = Console()


def _table(title: str, header: list[str], body: list[list[str]]) -> Table:
    table = Table(title=title)
    for i, column in enumerate(header):
        table.add_column(column, justify="left" if i == 0 else "right")
    for row in body:
        table.add_row(*row)
    return table


def bon(**options: Any) -> None:
    """Does a reward model pick better responses? Sample N responses per prompt from the policy
    (--llm) once, let each --rm pick its best out of nested subsets of 1, 2, 4, ... of them, and
    score the picks with a gold scorer (--gold RM_DIR or --gold-judge SPEC), beside a random and
    an oracle pick; win rates of each RM's pick over the others'. Resumable: rerun the same command."""
    from preflab.report.bon import gain_rows, gold_rows, gold_text, win_rows

    results = best_of_n(**options)
    console.print(_table(f"best-of-N: gold score of the pick ({gold_text(results)}; {results['prompts']} prompts)",
                         *gold_rows(results)))
    console.print(_table("gain over the random pick (paired 95% interval; * excludes 0)", *gain_rows(results)))
    wins = win_rows(results)
    if wins:
        console.print(_table("win rate of one pick over the other (paired 95% interval)", *wins))
    sampling = results["sampling"]
    console.print(f"{results['failed_prompts']} prompts failed to sample; sampling {sampling['wall_s']:.0f} s "
                  f"({sampling['tokens_out']} tokens, {sampling['resumed_prompts']} prompts resumed); "
                  f"total {results['wall_s']:.0f} s")
    out = options["out"]
    console.print(f"wrote {out}/results.json, results.md, bon.png, picks.jsonl and run.json")


def register(app: typer.Typer) -> None:
    command(app, "bon", bon, BonOptions, LLMOptions, required=("prompts", "out"))
