"""``preflab meta-set``: sample the current policy for MetaRM (``preflab train-rm --meta-set``)."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console

from preflab.api.meta import MetaSetOptions, meta_set
from preflab.api.options import LLMOptions
from preflab.cli.adapter import command


def sample(**options: Any) -> None:
    """k samples per prompt from the policy whose distribution the RM must keep separating."""
    sampled = meta_set(**options)
    counts = sampled["run"]["counts"]
    Console().print(f"{counts['rows']} of {counts['prompts']} prompts with {sampled['run']['config']['k']} distinct "
                    f"responses → {options['out']}")


def register(app: typer.Typer) -> None:
    command(app, "meta-set", sample, MetaSetOptions, LLMOptions, required=("prompts", "out"))
