"""``preflab meta-set``: sample the current policy for MetaRM (``preflab train-rm --meta-set``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from preflab.cli.options import LLM_OPTIONS, RunOptions, with_run_options


def meta_set(
    prompts: Path = typer.Option(..., "--prompts", "-p", help="Prompts (any file preflab reads prompts from)."),
    out: Path = typer.Option(..., "--out", "-o", help="Meta set (.jsonl): prompt + k responses per row."),
    k: int = typer.Option(4, "--k", help="Responses per prompt."),
    limit: Optional[int] = typer.Option(None, "--limit"),
    temperature: float = typer.Option(0.9, "--temperature"),
    max_tokens: int = typer.Option(128, "--max-tokens"),
    run: RunOptions = RunOptions(),
) -> None:
    """k samples per prompt from the policy whose distribution the RM must keep separating."""
    from preflab import io
    from preflab.api import checks as preflights
    from preflab.io.containers import write_jsonl
    from preflab.provenance import run_record, sidecar, write_run_json
    from preflab.rm.metarm import sample_meta_set

    preflights.meta_set(prompts, out, llm=run.llm, k=k, limit=limit, temperature=temperature, max_tokens=max_tokens)
    records = list(io.read_prompts(prompts))[:limit]
    with run.open_llm() as model:
        rows = sample_meta_set(records, model, k=k, temperature=temperature, max_tokens=max_tokens, seed=run.seed)
        usage, generator = model.usage.summary(), {"backend": model.kind, "model": model.model_id}
    write_jsonl(rows, out)
    settings = {"llm": run.llm, "k": k, "limit": limit, "temperature": temperature, "max_tokens": max_tokens}
    write_run_json(sidecar(out), run_record("meta-set", settings, inputs={"prompts": prompts}, seed=run.seed, generator=generator,
                                            counts={"prompts": len(records), "rows": len(rows)}, usage=usage))
    Console().print(f"{len(rows)} of {len(records)} prompts with {k} distinct responses → {out}")


def register(app: typer.Typer) -> None:
    app.command(name="meta-set")(with_run_options(meta_set, LLM_OPTIONS + ("seed",)))
