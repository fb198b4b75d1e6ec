"""``preflab bon``: best-of-N against a gold scorer, the shell over :func:`preflab.best_of_n`."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console

from preflab.api.bon import BonOptions, best_of_n
from preflab.api.options import LLMOptions
from preflab.cli.adapter import command

console = Console()


def bon(**options: Any) -> None:
    """Does a reward model pick better responses? Sample N responses per prompt from the policy
    (--llm) once, let each --rm pick its best out of nested subsets of 1, 2, 4, ... of them, and
    score the picks with a gold scorer (--gold RM_DIR or --gold-judge SPEC), beside a random and
    an oracle pick; win rates of each RM's pick over the others'. Resumable: rerun the same command."""
    from preflab.report.bon import rich_tables

    results = best_of_n(**options)
    for table in rich_tables(results):
        console.print(table)
    sampling = results["sampling"]
    console.print(f"{results['failed_prompts']} prompts failed to sample; sampling {sampling['wall_s']:.0f} s "
                  f"({sampling['tokens_out']} tokens, {sampling['resumed_prompts']} prompts resumed); "
                  f"total {results['wall_s']:.0f} s")
    out = options["out"]
    console.print(f"wrote {out}/results.json, results.md, bon.png, picks.jsonl and run.json")


def register(app: typer.Typer) -> None:
    command(app, "bon", bon, BonOptions, LLMOptions, required=("prompts", "out"))
