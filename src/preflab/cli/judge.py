"""``preflab judge``: an LLM judge on existing pairs, measured against their labels."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from preflab import io
from preflab.cli.options import FORMAT, LLM_OPTIONS, RunOptions, with_run_options
from preflab.io.containers import write_jsonl
from preflab.provenance import run_record, write_run_json

console = Console(stderr=True)


def judge(
    pairs: str = typer.Argument(..., help="Labelled pairs (any format preflab reads)."),
    out: Path = typer.Option(..., "--out", "-o", help="Per-pair verdicts (.jsonl); OUT.run.json gets the summary."),
    fmt: str = FORMAT,
    limit: Optional[int] = typer.Option(None, "--limit", help="Judge only the first N pairs."),
    criteria: Optional[str] = typer.Option(None, "--criteria", help="What 'better' means to the judge."),
    max_tokens: int = typer.Option(16, "--max-tokens", help="Tokens the judge may write."),
    run: RunOptions = RunOptions(),
) -> None:
    """Ask the judge about every pair in both orders; report order consistency, agreement
    with the labels (per group, e.g. PandaLM unanimous vs majority) and position bias."""
    from preflab.judges import JudgeConfig, PairwiseJudge
    from preflab.judges.agreement import agreement_summary, judge_pairs
    from preflab.cli import preflights

    preflights.judge(pairs, out, llm=run.llm, limit=limit, max_tokens=max_tokens, in_flight=run.in_flight)
    cfg = JudgeConfig(max_tokens=max_tokens, **({"criteria": criteria} if criteria else {}))
    items = list(io.read_pairs(pairs, fmt))[:limit]
    with run.open_llm() as model:
        pj = PairwiseJudge(model, cfg)
        with Progress(TextColumn("Judging (both orders)"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as bar:
            task = bar.add_task("pairs", total=len(items))
            rows = judge_pairs(pj, items, in_flight=run.in_flight, progress=lambda d, t: bar.update(task, completed=d))
        summary = agreement_summary(rows)
        write_jsonl(rows, out)
        write_run_json(Path(str(out) + ".run.json"), run_record("judge", cfg, inputs={"pairs": pairs},
                                                                 counts={"pairs": len(rows)}, judge=pj.id,
                                                                 summary=summary, usage=model.usage.summary()))
    table = Table(title=f"Judge {pj.id['model']} on {pairs}")
    for column in ("group", "pairs", "order-consistent", "agrees with label", "agrees when decided", "A votes"):
        table.add_column(column, justify="right" if column != "group" else "left")
    for group, r in summary.items():
        fmt_rate = lambda x: "—" if x is None else f"{x:.1%}"  # noqa: E731
        table.add_row(group, str(r["pairs"]), fmt_rate(r["order_consistency"]), fmt_rate(r["agreement_with_label_all"]),
                      fmt_rate(r["agreement_with_label_when_decided"]), fmt_rate(r["share_of_A_votes"]))
    Console().print(table)
    console.print(f"verdicts → {out}; summary → {out}.run.json")


def register(app: typer.Typer) -> None:
    app.command()(with_run_options(judge, LLM_OPTIONS + ("in_flight",)))  # greedy verdicts: no seed
