"""``preflab llm``: check a backend, inspect or clear the call cache. Thin: each command calls
its function in :mod:`preflab.api.llm` and prints."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from preflab.api.llm import (CHECK_DEFAULTS, CacheClearOptions, CacheFileOptions, CheckOptions, check_llm,
                             clear_llm_cache, llm_cache_stats)
from preflab.api.options import LLMOptions
from preflab.cli.adapter import command
from preflab.llm import SPEC_HELP

app = typer.Typer(
    help=f"LLM backends and the call cache. {SPEC_HELP}",
    no_args_is_help=True,
)
cache_app = typer.Typer(help="The SQLite cache of finished LLM calls (reruns re-use it).", no_args_is_help=True)
app.add_typer(cache_app, name="cache")
console = Console()


def check(**options: Any) -> None:
    """Send one request and print the model, latency, tokens and tokens/s."""
    measured = check_llm(**options)
    out = measured.reply
    table = Table(title=f"preflab llm check: {measured.spec}", show_header=False)
    table.add_column("measure")
    table.add_column("value")
    for name, value in [
        ("backend", measured.backend), ("model", measured.model), ("cached", str(out.cached)),
        ("model load", f"{measured.load_s:.2f} s"), ("request latency", f"{measured.request_s:.2f} s"),
        ("prompt tokens", str(out.prompt_tokens)), ("completion tokens", str(out.completion_tokens)),
        ("tokens/s", f"{measured.tokens_per_s:.1f}"), ("finish reason", out.finish_reason),
        ("log-likelihood scoring", "yes" if measured.loglikelihood else "no"), ("reply", out.text.strip()[:200]),
    ]:
        table.add_row(name, value)
    console.print(table)


def cache_stats(**options: Any) -> None:
    """Entries and tokens per backend and model."""
    stats = llm_cache_stats(**options)
    typer.echo(f"{stats['path']}: {stats['entries']:,} entries, {stats['bytes'] / 1e6:.1f} MB, schema v{stats['schema_version']}")
    table = Table()
    for column in ("kind", "backend", "model", "entries", "prompt tokens", "completion tokens"):
        table.add_column(column, justify="right" if "tokens" in column or column == "entries" else "left")
    for g in stats["groups"]:
        table.add_row(g["kind"], g["backend"], g["model"], f"{g['entries']:,}", f"{g['prompt_tokens']:,}", f"{g['completion_tokens']:,}")
    console.print(table)


def cache_clear(**options: Any) -> None:
    """Delete cached calls (all, or one backend's / model's)."""
    cleared = clear_llm_cache(confirm=typer.confirm, **options)
    if cleared is None:
        raise typer.Exit(1)
    typer.echo(f"deleted {cleared.deleted:,} cached calls ({cleared.what}) from {cleared.path}")


# ``check`` offers which LLM and its cache; budgets mean nothing for one request.
command(app, "check", check, CheckOptions, LLMOptions, skip=("max_tokens_budget", "max_cost", "price_table"),
        shown=CHECK_DEFAULTS)
command(cache_app, "stats", cache_stats, CacheFileOptions)
command(cache_app, "clear", cache_clear, CacheFileOptions, CacheClearOptions)
