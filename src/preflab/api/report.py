"""``preflab.report_page``: one self-contained HTML page for a bench run or a pairs file
(``preflab report``; the page itself: :mod:`preflab.report.html`).

>>> import preflab, tempfile
>>> from pathlib import Path
>>> from preflab import PreferencePair, io, text_prompt
>>> folder = Path(tempfile.mkdtemp())
>>> _ = io.write_pairs([PreferencePair(prompt=text_prompt("2+2?"), chosen="4", rejected="5")], folder / "pairs.jsonl")
>>> preflab.report_page(folder / "pairs.jsonl").name
'pairs.jsonl.report.html'
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional

from preflab.api.options import fmt_option, signed
from preflab.api.preflight import Preflight
from preflab.config import option


@dataclasses.dataclass(frozen=True)
class ReportOptions:
    """``preflab report``'s options."""

    out: Optional[Path] = option(None, "The page (.html; default RUN_DIR/report.html, or PAIRS.report.html beside a "
                                 "pairs file).", flag=("--out", "-o"))
    fmt: str = fmt_option()
    page_size: int = option(50, "Rows per page in the pair browser.")


def is_bench_run(source: Path) -> bool:
    """A folder preflab bench wrote (a datasets folder is a pairs file)."""
    datasets = any((source / name).exists() for name in ("dataset_info.json", "dataset_dict.json"))
    return source.is_dir() and not datasets


@signed(ReportOptions)
def report_page(source: str | Path, **options: Any) -> Path:
    """Write one HTML page and return where: for a bench run folder, its tables, plots and a
    browser over every pair and failure; for a pairs file, the browser alone (its failures file
    and clean record beside it are read too). The page is checked against every file it is
    made from before anything is written."""
    from preflab.errors import InputError
    from preflab.io.outputs import file_output
    from preflab.report.browser import companions
    from preflab.report.html import write_pairs_report, write_report

    check = Preflight()
    if not check.path("source", source, "a bench run folder or a pairs file (a path)"):
        check.done()
    source = Path(source)
    parsed = check.parse(options, ReportOptions)
    if not source.exists() and not str(source).startswith("hf:"):
        raise InputError("no such file or folder: name a bench run folder or a pairs file", path=str(source))
    bench = is_bench_run(source)
    if bench and not (source / "results.json").exists():
        raise InputError("no results.json: run `preflab bench CONFIG` into this folder first, or name a pairs file",
                         path=str(source))
    if parsed is None:
        check.done()
    own = parsed[ReportOptions]
    if bench:
        out = Path(own.out) if own.out is not None else source / "report.html"
        inputs = [source / "results.json", source / "run.json"]
    else:
        out = Path(own.out) if own.out is not None else source.with_name(source.name + ".report.html")
        inputs = [source, *companions(source).values()]
    if out.suffix.lower() not in (".html", ".htm"):
        check.add(f"{out}: the report is one HTML page; name it .html")
    check.outputs(file_output(out), inputs)
    check.done()
    if bench:
        return write_report(source, own.page_size, out)
    return write_pairs_report(source, out, own.fmt, own.page_size)
