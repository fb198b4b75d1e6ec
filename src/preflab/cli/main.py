"""The ``preflab`` command: one typer app, one sub-module per command group.

Each group module exposes ``app`` (a ``typer.Typer``) or ``register(app)``; adding a group
means adding one line to ``GROUPS``. Modules are imported here, and every heavy import
(torch, llama.cpp) happens inside the commands, so ``preflab --help`` stays instant.

Exit codes: 0 ok, 1 bad input or a failed run (:class:`~preflab.errors.PreflabError`),
2 usage (bad flags or option values), 130 interrupted (Ctrl-C: one line saying what was kept
and how to resume, never a traceback).
"""

from __future__ import annotations

import importlib
import logging
import signal
import sys

import typer

from preflab.cli.adapter import render
from preflab.errors import PreflabError
from preflab.redact import install_log_redaction, redact

#: What an interrupted command says when it knows nothing more precise.
RESUME = ("finished work is kept (the call cache, a generation's OUT.partial.jsonl, a bench's finished steps): "
          "run the same command again to resume")

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


def _interrupt(exc: BaseException | None) -> KeyboardInterrupt | None:
    """The Ctrl-C behind ``exc`` (typer turns one into ``Exit(130)``), if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _interrupted(interrupt: KeyboardInterrupt) -> None:
    """One line for a Ctrl-C, and exit 130 (128 + SIGINT, what a shell expects)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while this prints changes nothing
    typer.secho(f"interrupted: {redact(getattr(interrupt, 'resume', None) or RESUME)}", err=True,
                fg=typer.colors.YELLOW)
    sys.exit(130)


def main() -> None:
    """Entry point: typer's standalone mode handles usage errors (exit 2) and --help; a
    PreflabError becomes a one-line message with its exit code, without a traceback; a Ctrl-C
    one line saying how to resume, exit 130."""
    try:
        app()
    except PreflabError as exc:
        typer.secho(f"error: {redact(render(exc))}", err=True, fg=typer.colors.RED)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        _interrupted(exc)
    except SystemExit as exc:
        interrupt = _interrupt(exc) if exc.code == 130 else None
        if interrupt is None:
            raise
        _interrupted(interrupt)
