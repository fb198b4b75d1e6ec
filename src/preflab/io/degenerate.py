"""Rows that are valid data but cannot train or test in the usual way, and what a reader does
with them when asked to keep going (``degenerate=True``: evaluation, ``train-rm --lenient``).

An empty response is a real (usually worse) answer, so its row is kept, flagged in its
provenance (``empty_response``) so that validation accepts it. Two identical responses cannot
be decided, so that row is skipped. Both are counted in the read's notes.
"""

from __future__ import annotations

import json
from typing import Any

from preflab.errors import InputError
from preflab.io import sources
from preflab.io.containers import Location

#: What readers do with degenerate rows when asked to keep going (``degenerate=True``).
DEGENERATE_RULE = ("Rows with an empty response are kept and scored: an empty reply is a real (usually worse) "
                   "answer. Rows whose two responses are identical cannot be decided and are skipped. "
                   "Both are counted and reported.")
_EMPTY, _IDENTICAL = "response is empty", "chosen and rejected are identical"


def _flag_empty(row: dict[str, Any]) -> dict[str, Any]:
    """The row with ``provenance.empty_response`` set, so its empty response is accepted."""
    provenance = row.get("provenance")
    if isinstance(provenance, str):
        try:
            provenance = json.loads(provenance)
        except json.JSONDecodeError:
            provenance = None
    return {**row, "provenance": {**(provenance if isinstance(provenance, dict) else {}), "empty_response": True}}


def handle(convert, row: Any, err: InputError, loc: Location, notes: sources.Notes) -> tuple[bool, Any]:
    """(handled, record) for a row that ``convert`` refused with ``err``; ``handled`` is False
    when the row is not degenerate but bad, and ``record`` None when it is skipped."""
    if err.reason == _EMPTY and isinstance(row, dict):
        try:
            record = convert(_flag_empty(row))
        except InputError as again:
            return handle(convert, None, again, loc, notes)
        notes.add("empty_response", record.id)
        return True, record
    if err.reason == _IDENTICAL:
        where = f"line {loc.line}" if loc.line is not None else f"row {loc.row}"
        notes.add("identical_skipped", where)
        return True, None
    return False, None


def degenerate_counts(report: Any) -> dict[str, int]:
    """How many rows of a read (its :class:`~preflab.io.reading.ReadReport`) :data:`DEGENERATE_RULE`
    kept (empty response) and skipped (identical)."""
    return {"empty_response": report.notes.counts.get("empty_response", 0),
            "identical_skipped": report.notes.counts.get("identical_skipped", 0)}
