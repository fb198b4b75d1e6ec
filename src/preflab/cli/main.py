"""The ``preflab`` command: one typer app, one sub-module per command group.

Each group module exposes ``app`` (a ``typer.Typer``) or ``register(app)``; adding a group
means adding one line to ``GROUPS``. Modules are imported here, and every heavy import
(torch, llama.cpp) happens inside the commands, so ``preflab --help`` stays instant.

Exit codes: 0 ok, 1 bad input or a failed run (:class:`~preflab.errors.PreflabError`),
2 usage (bad flags or option values).
"""

from __future__ import annotations

import importlib
import logging
import sys

import typer

from preflab.cli.adapter import render
from preflab.errors import PreflabError
from preflab.redact import install_log_redaction, redact

app = typer.Typer(
    name="preflab",
    help="Better preference data for reward models: generate, measure, repair, relabel, train, evaluate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

#: (module under preflab.cli, group name or None when the module registers top-level commands)
GROUPS: list[tuple[str, str | None]] = [
    ("data", "data"),
    ("llm", "llm"),
    ("quality", None),
    ("augment", None),
    ("generate", None),
    ("judge", None),
    ("bench", None),
    ("report", None),
    ("meta", None),
    ("rm", None),
    ("bon", None),
]


def _load_groups() -> None:
    for module_name, group in GROUPS:
        module = importlib.import_module(f"preflab.cli.{module_name}")
        if group is None:
            module.register(app)
        else:
            app.add_typer(module.app, name=group)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages.")) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    install_log_redaction()


_load_groups()


def main() -> None:
    """Entry point: typer's standalone mode handles usage errors (exit 2) and --help; a
    PreflabError becomes a one-line message with its exit code, without a traceback."""
    try:
        app()
    except PreflabError as exc:
        typer.secho(f"error: {redact(render(exc))}", err=True, fg=typer.colors.RED)
        sys.exit(exc.exit_code)
