"""Read preference pairs and prompts, validating every row.

Readers stream records. ``strict=True`` stops at the first bad row with an
:class:`~preflab.errors.InputError` naming file, line/row and field; ``strict=False`` skips bad
rows, counts them in the :class:`ReadReport` and, if ``rejects`` is a path, writes each with
its reason there (JSONL, atomically). ``degenerate=True`` applies
:data:`~preflab.io.degenerate.DEGENERATE_RULE` (:mod:`preflab.io.degenerate`) to rows that are
valid data but cannot train or test in the usual way, instead of stopping at them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from preflab.errors import ConfigError, InputError
from preflab.io import containers, degenerate as degenerate_rows, memory, portable, schemas, sources
from preflab.io.pair_sets import prompts_of
from preflab.records import PreferencePair, PromptRecord

PAIR_FORMATS = ("auto", "pairs", "hh-rlhf", "pandalm", "ultrafeedback")
PAIR_ALIASES = {"preflab": "pairs", "trl": "pairs", "openrlhf": "pairs", "rewardbench": "pairs"}


@dataclass
class ReadReport:
    """What a read saw: rows, records kept, rows rejected with reasons, adapter notes."""

    path: str = ""
    format: str = ""
    rows: int = 0
    records: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    notes: sources.Notes = field(default_factory=sources.Notes)


class _Rejects:
    """Collects bad rows in lenient mode (or raises in strict mode)."""

    def __init__(self, strict: bool, report: ReadReport) -> None:
        self.strict, self.report = strict, report

    def __call__(self, err: InputError, raw: Any) -> None:
        if self.strict:
            raise err
        self.report.rejected.append({
            "path": err.path, "line": err.line, "row": err.row, "field": err.field,
            "reason": err.reason, "raw": raw if _writable(raw) else repr(raw),
        })


def _writable(raw: Any) -> bool:
    """Whether a bad row can go into the rejects file as it is (else as its ``repr``)."""
    return isinstance(raw, (str, dict, list)) and portable.problem_in(raw) is None


def _canonical_format(fmt: str) -> str:
    fmt = PAIR_ALIASES.get(fmt, fmt)
    if fmt not in PAIR_FORMATS:
        raise ConfigError(f"unknown input format {fmt!r}; choose one of {', '.join(PAIR_FORMATS + tuple(PAIR_ALIASES))}")
    return fmt


def _records(rows, convert, report: ReadReport, sink: _Rejects, degenerate: bool = False) -> Iterator[Any]:
    for loc, row in rows:
        report.rows += 1
        try:
            record = convert(row)
        except InputError as err:
            handled, record = degenerate_rows.handle(convert, row, err, loc, report.notes) if degenerate else (False, None)
            if not handled:
                sink(err.located(**loc.where()), row)
                continue
        if record is not None:
            report.records += 1
            yield record


def _finish(report: ReadReport, rejects: str | Path | None) -> None:
    if rejects is not None and report.rejected:
        containers.write_jsonl(report.rejected, rejects)


def read_pairs(
    path: str | Path,
    fmt: str = "auto",
    *,
    column_map: str | dict[str, str] | None = None,
    split: str | None = None,
    strict: bool = True,
    rejects: str | Path | None = None,
    report: ReadReport | None = None,
    seed: int = 0,
    degenerate: bool = False,
) -> Iterator[PreferencePair]:
    """Stream validated :class:`PreferencePair` records from ``path``.

    ``fmt``: ``auto`` (sniffed from the first row), ``pairs`` (preflab's own columns or TRL's
    standard / conversational / implicit-prompt form; aliases ``trl``, ``preflab``,
    ``openrlhf``, ``rewardbench``), ``hh-rlhf``, ``pandalm`` or ``ultrafeedback`` (raw layout;
    ``seed`` draws its rejected completion). ``column_map`` renames source columns first
    (``"question=prompt,good=chosen,bad=rejected"``).
    """
    path = _source(path)
    fmt = _canonical_format(fmt)
    mapping = schemas.parse_column_map(column_map)
    report = report if report is not None else ReadReport()
    report.path = _name(path)
    sink = _Rejects(strict, report)
    rows = _mapped(memory.iter_rows(path, split=split, on_error=sink), mapping, sink)
    first = next(rows, None)
    if first is None:
        report.format = fmt
        _finish(report, rejects)
        return
    if fmt == "auto":
        fmt = sources.sniff_pair_format(first[1])
    report.format = fmt
    adapter = sources.PAIR_SOURCES.get(fmt)
    if adapter is None:
        convert = schemas.pair_from_row
    elif fmt in sources.SEEDED_SOURCES:
        convert = lambda row: adapter(row, report.notes, seed)  # noqa: E731
    else:
        convert = lambda row: adapter(row, report.notes)  # noqa: E731
    yield from _records(_chain(first, rows), convert, report, sink, degenerate)
    _finish(report, rejects)


def _mapped(rows, mapping: dict[str, str], sink: _Rejects) -> Iterator[tuple[Any, Any]]:
    """Rows with the column map applied; a row it cannot rename is a bad row."""
    for loc, row in rows:
        try:
            yield loc, schemas.apply_column_map(row, mapping)
        except InputError as err:
            sink(err.located(**loc.where()), row)


def _source(path: Any) -> Any:
    """A path as text; rows held in memory (:mod:`preflab.io.memory`) as they are."""
    return memory.as_rows(path) if memory.is_in_memory(path) else str(path)


def _name(source: Any) -> str:
    return memory.NAME if memory.is_in_memory(source) else source


def _chain(first, rest):
    yield first
    yield from rest


def read_prompts(
    path: str | Path,
    *,
    column_map: str | dict[str, str] | None = None,
    split: str | None = None,
    strict: bool = True,
    rejects: str | Path | None = None,
    report: ReadReport | None = None,
) -> Iterator[PromptRecord]:
    """Stream prompt records: plain text (one per line), JSONL/Parquet/datasets with a
    ``prompt`` column (text or messages; Arena-Hard's ``uid`` becomes the id), or any pair
    file (its prompts, each once)."""
    path = _source(path)
    mapping = schemas.parse_column_map(column_map)
    report = report if report is not None else ReadReport()
    report.path, report.format = _name(path), "prompts"
    sink = _Rejects(strict, report)
    rows = memory.iter_rows(path, split=split, on_error=sink)
    first = next(rows, None)
    if first is None:
        _finish(report, rejects)
        return
    sample = {mapping.get(k, k): v for k, v in first[1].items()}  # which layout; a bad row is reported below
    if "chosen" in sample and "rejected" in sample or "response1" in sample:
        report.format = "prompts-from-pairs"
        pairs = read_pairs(path, column_map=mapping, split=split, strict=strict, rejects=rejects, report=report)
        yield from prompts_of(pairs)
        return
    if "uid" in sample and "id" not in sample:
        mapping = {"uid": "id", **mapping}
    yield from _records(_mapped(_chain(first, rows), mapping, sink), schemas.prompt_from_row, report, sink)
    _finish(report, rejects)
