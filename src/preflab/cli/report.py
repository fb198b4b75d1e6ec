"""``preflab report RUN_DIR | PAIRS``: calls :func:`preflab.api.report.report_page` and says where the page is."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console

from preflab.api.report import ReportOptions, report_page
from preflab.cli.adapter import Arg, command

console = Console()


def report(source: str, **options: Any) -> None:
    """Write one self-contained HTML page: for a bench run, the tables, plots and a browser over
    every pair and failure; for a pairs file, the browser alone (filters, search, side by side)."""
    console.print(f"report: {report_page(source, **options)}")


def register(app: typer.Typer) -> None:
    command(app, "report", report, ReportOptions,
            args=[Arg("source", "A folder written by preflab bench, or a pairs file (its failures file and clean record "
                                "beside it are read too).")])
