"""``preflab llm``: check a backend, inspect or clear the call cache. Thin: parse, call
:mod:`preflab.llm`, print. The run options (``--llm``, cache, budgets) are the shared ones of
:mod:`preflab.cli.options`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from preflab.cli.options import CACHE_FILE_HELP, RunOptions, with_run_options
from preflab.llm import SPEC_HELP, CallCache, default_cache_path

app = typer.Typer(
    help=f"LLM backends and the call cache. {SPEC_HELP}",
    no_args_is_help=True,
)
cache_app = typer.Typer(help="The SQLite cache of finished LLM calls (reruns re-use it).", no_args_is_help=True)
app.add_typer(cache_app, name="cache")
console = Console()
CACHE_FILE = typer.Option(None, "--cache", "--cache-path", help=CACHE_FILE_HELP)


def check(
    prompt: str = typer.Option("Reply with one short sentence: what is a reward model?", "--prompt", help="The message to send."),
    max_tokens: int = typer.Option(64, "--max-tokens", help="Most tokens to generate."),
    run: RunOptions = RunOptions(),
) -> None:
    """Send one request and print the model, latency, tokens and tokens/s."""
    spec = run.llm
    llm = run.open_llm()
    try:
        started = time.perf_counter()
        if hasattr(llm.backend, "load"):  # in-process backends: report loading apart
            llm.backend.load()
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        out = llm.complete(prompt, temperature=0.0, max_tokens=max_tokens)[0]
        elapsed = time.perf_counter() - started
    finally:
        llm.close()
    table = Table(title=f"preflab llm check: {spec}", show_header=False)
    table.add_column("measure")
    table.add_column("value")
    rate = out.completion_tokens / out.latency_s if out.latency_s > 0 else float("nan")
    for name, value in [
        ("backend", llm.kind), ("model", out.model or llm.model_id), ("cached", str(out.cached)),
        ("model load", f"{load_s:.2f} s"), ("request latency", f"{elapsed:.2f} s"), ("prompt tokens", str(out.prompt_tokens)),
        ("completion tokens", str(out.completion_tokens)), ("tokens/s", f"{rate:.1f}"),
        ("finish reason", out.finish_reason), ("log-likelihood scoring", "yes" if llm.backend.supports_loglikelihood else "no"),
        ("reply", out.text.strip()[:200]),
    ]:
        table.add_row(name, value)
    console.print(table)


# ``check`` answers from the cache only when asked: by default it measures the backend.
app.command()(with_run_options(check, ("llm", "cache", "cache_path"), cache=False))


def _open_cache(path: Optional[Path]) -> CallCache:
    return CallCache(path or default_cache_path())


@cache_app.command("stats")
def cache_stats(path: Optional[Path] = CACHE_FILE) -> None:
    """Entries and tokens per backend and model."""
    with _open_cache(path) as cache:
        stats = cache.stats()
    typer.echo(f"{stats['path']}: {stats['entries']:,} entries, {stats['bytes'] / 1e6:.1f} MB, schema v{stats['schema_version']}")
    table = Table()
    for column in ("kind", "backend", "model", "entries", "prompt tokens", "completion tokens"):
        table.add_column(column, justify="right" if "tokens" in column or column == "entries" else "left")
    for g in stats["groups"]:
        table.add_row(g["kind"], g["backend"], g["model"], f"{g['entries']:,}", f"{g['prompt_tokens']:,}", f"{g['completion_tokens']:,}")
    console.print(table)


@cache_app.command("clear")
def cache_clear(
    path: Optional[Path] = CACHE_FILE,
    backend: Optional[str] = typer.Option(None, "--backend", help="Only entries of this backend kind."),
    model: Optional[str] = typer.Option(None, "--model", help="Only entries of this model id (see 'cache stats')."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete cached calls (all, or one backend's / model's)."""
    with _open_cache(path) as cache:
        what = " and ".join(x for x in [backend and f"backend {backend}", model and f"model {model}"] if x) or "all entries"
        if not yes and not typer.confirm(f"Delete {what} from {cache.path}?"):
            raise typer.Exit(1)
        deleted = cache.clear(backend=backend, model=model)
    typer.echo(f"deleted {deleted:,} cached calls ({what}) from {cache.path}")
