"""Read and write preference pairs and prompts in every format preflab supports.

>>> from preflab.io import read_pairs, write_pairs                      # doctest: +SKIP
>>> report = ReadReport()                                               # doctest: +SKIP
>>> pairs = list(read_pairs("hh.jsonl.gz", fmt="hh-rlhf", report=report))  # doctest: +SKIP

Readers stream records and validate every row. ``strict=True`` stops at the first bad row
with an :class:`~preflab.errors.InputError` naming file, line/row and field; ``strict=False``
skips bad rows, counts them in the :class:`ReadReport` and, if ``rejects`` is a path, writes
each with its reason there (JSONL, atomically). ``degenerate=True`` (evaluation, ``train-rm
--lenient``) applies :data:`DEGENERATE_RULE` to rows that are valid data but cannot train or
test in the usual way, instead of stopping at them. Writers pick the container from the name
(``.jsonl[.gz]``, ``.parquet``, anything else is a ``datasets`` folder) and write atomically.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from preflab.errors import ConfigError, InputError
from preflab.io import containers, memory, schemas, sources
from preflab.io.containers import Location
from preflab.io.outputs import output_container
from preflab.records import PreferencePair, PromptRecord, prompt_id, to_trl

PAIR_FORMATS = ("auto", "pairs", "hh-rlhf", "pandalm", "ultrafeedback")
PAIR_ALIASES = {"preflab": "pairs", "trl": "pairs", "openrlhf": "pairs", "rewardbench": "pairs"}
WRITE_FORMATS = ("preflab", "trl", "trl-chat")

__all__ = [
    "ReadReport", "read_pairs", "read_prompts", "write_pairs", "write_prompts", "split_pairs",
    "prompts_of", "output_container", "degenerate_counts", "PAIR_FORMATS", "PAIR_ALIASES", "WRITE_FORMATS",
    "DEGENERATE_RULE",
]

#: What readers do with degenerate rows when asked to keep going (``degenerate=True``).
DEGENERATE_RULE = ("Rows with an empty response are kept and scored: an empty reply is a real (usually worse) "
                   "answer. Rows whose two responses are identical cannot be decided and are skipped. "
                   "Both are counted and reported.")
_EMPTY, _IDENTICAL = "response is empty", "chosen and rejected are identical"


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
            "reason": err.reason, "raw": raw if isinstance(raw, (str, dict, list)) else repr(raw),
        })


def _canonical_format(fmt: str) -> str:
    fmt = PAIR_ALIASES.get(fmt, fmt)
    if fmt not in PAIR_FORMATS:
        raise ConfigError(f"unknown input format {fmt!r}; choose one of {', '.join(PAIR_FORMATS + tuple(PAIR_ALIASES))}")
    return fmt


def _flag_empty(row: dict[str, Any]) -> dict[str, Any]:
    """The row with ``provenance.empty_response`` set, so its empty response is accepted."""
    provenance = row.get("provenance")
    if isinstance(provenance, str):
        try:
            provenance = json.loads(provenance)
        except json.JSONDecodeError:
            provenance = None
    return {**row, "provenance": {**(provenance if isinstance(provenance, dict) else {}), "empty_response": True}}


def _degenerate(convert, row: Any, err: InputError, loc: Location, notes: sources.Notes) -> tuple[bool, Any]:
    """(handled, record) for a row refused as degenerate; ``record`` None means skipped."""
    if err.reason == _EMPTY and isinstance(row, dict):
        try:
            record = convert(_flag_empty(row))
        except InputError as again:
            return _degenerate(convert, None, again, loc, notes)
        notes.add("empty_response", record.id)
        return True, record
    if err.reason == _IDENTICAL:
        where = f"line {loc.line}" if loc.line is not None else f"row {loc.row}"
        notes.add("identical_skipped", where)
        return True, None
    return False, None


def _records(rows, convert, report: ReadReport, sink: _Rejects, degenerate: bool = False) -> Iterator[Any]:
    for loc, row in rows:
        report.rows += 1
        try:
            record = convert(row)
        except InputError as err:
            handled, record = _degenerate(convert, row, err, loc, report.notes) if degenerate else (False, None)
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
    rows = (
        (loc, schemas.apply_column_map(row, mapping))
        for loc, row in memory.iter_rows(path, split=split, on_error=sink)
    )
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


def _source(path: Any) -> Any:
    """A path as text; rows held in memory (:mod:`preflab.io.memory`) as they are."""
    return memory.as_rows(path) if memory.is_in_memory(path) else str(path)


def _name(source: Any) -> str:
    return memory.NAME if memory.is_in_memory(source) else source


def degenerate_counts(report: ReadReport) -> dict[str, int]:
    """How many rows :data:`DEGENERATE_RULE` kept (empty response) and skipped (identical)."""
    return {"empty_response": report.notes.counts.get("empty_response", 0),
            "identical_skipped": report.notes.counts.get("identical_skipped", 0)}


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
    sample = schemas.apply_column_map(first[1], mapping)
    if "chosen" in sample and "rejected" in sample or "response1" in sample:
        report.format = "prompts-from-pairs"
        pairs = read_pairs(path, column_map=mapping, split=split, strict=strict, rejects=rejects, report=report)
        yield from prompts_of(pairs)
        return
    if "uid" in sample and "id" not in sample:
        mapping = {"uid": "id", **mapping}
    rows = ((loc, schemas.apply_column_map(row, mapping)) for loc, row in _chain(first, rows))
    yield from _records(rows, schemas.prompt_from_row, report, sink)
    _finish(report, rejects)


def prompts_of(pairs: Iterable[PreferencePair]) -> Iterator[PromptRecord]:
    """The distinct prompts of some pairs, first occurrence first."""
    seen: set[str] = set()
    for pair in pairs:
        pid = prompt_id(pair.prompt)
        if pid not in seen:
            seen.add(pid)
            yield PromptRecord(id=pid, prompt=pair.prompt, category=pair.category,
                               provenance={"from_pair": pair.id})


def _write(rows: Iterable[dict[str, Any]], path: str, schema) -> int:
    kind = output_container(path)
    if kind == "jsonl":
        return containers.write_jsonl(rows, path)
    if kind == "parquet":
        return containers.write_parquet(rows, path, schema)
    return containers.write_hf(rows, path, schema)


def write_pairs(pairs: Iterable[PreferencePair], path: str | Path, fmt: str = "preflab") -> int:
    """Write pairs atomically; returns how many. ``fmt``: ``preflab`` (every column),
    ``trl`` (standard: text prompt, fails on multi-turn prompts) or ``trl-chat``
    (conversational)."""
    path = str(path)
    if fmt not in WRITE_FORMATS:
        raise ConfigError(f"unknown output format {fmt!r}; choose one of {', '.join(WRITE_FORMATS)}")
    table = output_container(path) != "jsonl"
    if fmt == "preflab":
        rows = (schemas.pair_row(p, json_provenance=table) for p in pairs)
    else:
        rows = (_trl_row(p, fmt == "trl-chat") for p in pairs)
    return _write(rows, path, schemas.arrow_schema("pair" if fmt == "preflab" else fmt))


def _trl_row(pair: PreferencePair, conversational: bool) -> dict[str, Any]:
    try:
        return to_trl(pair, conversational=conversational)
    except InputError as err:
        raise InputError(f"pair {pair.id}: {err.reason}", field=err.field) from None


def write_prompts(prompts: Iterable[PromptRecord], path: str | Path) -> int:
    """Write prompt records atomically (JSONL, Parquet or a datasets folder)."""
    path = str(path)
    table = output_container(path) != "jsonl"
    rows = (schemas.prompt_row(p, json_provenance=table) for p in prompts)
    return _write(rows, path, schemas.arrow_schema("prompt"))


def split_pairs(pairs: Iterable[PreferencePair], test_fraction: float, seed: int) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """Seeded train/test split that keeps every prompt's pairs on one side (no prompt leaks
    from train into test). The test side gets ``round(test_fraction × prompts)`` prompts."""
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"test fraction must lie strictly between 0 and 1, got {test_fraction}")
    groups: dict[str, list[PreferencePair]] = {}
    for pair in pairs:
        groups.setdefault(prompt_id(pair.prompt), []).append(pair)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    n_test = round(test_fraction * len(keys))
    test_keys = set(keys[:n_test])
    train = [p for k in groups if k not in test_keys for p in groups[k]]
    test = [p for k in groups if k in test_keys for p in groups[k]]
    return train, test


__all__ += ["Location"]
