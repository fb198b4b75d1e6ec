"""``preflab meta-set``: sample the current policy for MetaRM (``preflab train-rm --meta-set``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from preflab.cli.generate import LLM_HELP


def meta_set(
    prompts: Path = typer.Option(..., "--prompts", "-p", help="Prompts (any file preflab reads prompts from)."),
    out: Path = typer.Option(..., "--out", "-o", help="Meta set (.jsonl): prompt + k responses per row."),
    llm: str = typer.Option("llamacpp", "--llm", help=LLM_HELP),
    k: int = typer.Option(4, "--k", help="Responses per prompt."),
    limit: Optional[int] = typer.Option(None, "--limit"),
    temperature: float = typer.Option(0.9, "--temperature"),
    max_tokens: int = typer.Option(128, "--max-tokens"),
    seed: int = typer.Option(0, "--seed"),
    cache_path: Optional[Path] = typer.Option(None, "--cache-path"),
) -> None:
    """k samples per prompt from the policy whose distribution the RM must keep separating."""
    from preflab import io
    from preflab.cli import preflights
    from preflab.io.containers import write_jsonl
    from preflab.llm.client import open_llm
    from preflab.rm.metarm import sample_meta_set

    preflights.meta_set(prompts, out, llm=llm, k=k, limit=limit, temperature=temperature, max_tokens=max_tokens)
    records = list(io.read_prompts(prompts))[:limit]
    with open_llm(llm, cache=cache_path or True) as model:
        rows = sample_meta_set(records, model, k=k, temperature=temperature, max_tokens=max_tokens, seed=seed)
    write_jsonl(rows, out)
    Console().print(f"{len(rows)} of {len(records)} prompts with {k} distinct responses → {out}")


def register(app: typer.Typer) -> None:
    app.command(name="meta-set")(meta_set)
