"""Rows held in memory, read like a file: lists of records or dicts, TRL column dicts, a
``datasets.Dataset`` or a pandas ``DataFrame``.

:func:`preflab.io.read_pairs` and :func:`~preflab.io.read_prompts` accept any of these in
place of a path (they take their rows from :func:`iter_rows`), so in-memory data goes through
the same format sniffing, column maps, validation and degenerate-row rule as a file. Errors
name ``<in memory>`` and the 0-based row.

>>> rows = as_rows({"prompt": ["2+2?", "Hi"], "chosen": ["4", "Hello"], "rejected": ["5", "Go away"]})
>>> [loc.row for loc, _ in iter_memory(rows)]
[0, 1]
>>> next(iter_memory(["Why is the sky blue?"]))[1]
{'prompt': 'Why is the sky blue?'}
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from typing import Any, Iterator

from preflab.errors import ConfigError
from preflab.io import containers
from preflab.io.containers import Location

#: How errors name in-memory data.
NAME = "<in memory>"


def is_in_memory(source: Any) -> bool:
    """True for anything that is not a path (a string or an ``os.PathLike``)."""
    return not isinstance(source, (str, os.PathLike))


def _kind(obj: Any) -> str:
    module = type(obj).__module__.split(".")[0]
    return f"{module}.{type(obj).__name__}"


def _is_row_dict(data: dict[str, Any]) -> bool:
    """A single TRL/preflab row rather than a dict of columns: its response is text or one message."""
    value = data.get("chosen", data.get("prompt"))
    return isinstance(value, str) or (isinstance(value, list) and bool(value) and isinstance(value[0], dict))


def _columns_to_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    lengths = {k: len(v) for k, v in data.items() if isinstance(v, (list, tuple))}
    if len(lengths) != len(data) or len(set(lengths.values())) > 1:
        raise ConfigError(f"a dict of columns needs lists of one length for every key; got {lengths or 'no lists'} "
                          "(a single pair is a dict with a 'chosen' string or message)")
    n = next(iter(lengths.values()), 0)
    return [{k: data[k][i] for k in data} for i in range(n)]


def _no_nan(row: dict[str, Any]) -> dict[str, Any]:
    """pandas writes a missing number as NaN; preflab's optional columns say None."""
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}


def as_rows(data: Any) -> Any:
    """``data`` in a form that can be iterated more than once (generators become lists)."""
    kind = _kind(data)
    if kind == "datasets.DatasetDict":
        raise ConfigError(f"a DatasetDict holds several splits ({', '.join(data)}); pass one, e.g. data['train']")
    if kind.startswith("pandas."):
        if not hasattr(data, "to_dict"):
            raise ConfigError(f"expected a pandas DataFrame, got {kind}")
        return [_no_nan(row) for row in data.to_dict("records")]
    if kind.startswith("datasets."):
        return data
    if isinstance(data, dict):
        return [data] if _is_row_dict(data) else _columns_to_rows(data)
    if isinstance(data, (bytes, int, float, bool)) or data is None or not hasattr(data, "__iter__"):
        raise ConfigError(f"expected a path, a list of records or dicts, a dict of columns, a datasets.Dataset "
                          f"or a pandas DataFrame; got {kind}")
    return data if isinstance(data, (list, tuple)) else list(data)


def _row(item: Any, index: int) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    if isinstance(item, str):
        return {"prompt": item}
    if hasattr(item, "model_dump"):  # PreferencePair, PromptRecord
        return item.model_dump()
    raise ConfigError(f"{NAME}: row {index}: expected a record, a dict or a prompt string, got {_kind(item)}")


def iter_memory(data: Any, on_error: Any = None) -> Iterator[tuple[Location, dict[str, Any]]]:
    """(location, row dict) for every row of in-memory ``data``; a row holding NaN, Infinity
    or a lone surrogate is a bad row, as in a file (:func:`preflab.io.containers.checked`)."""
    rows = ((Location(NAME, row=index), _row(item, index)) for index, item in enumerate(as_rows(data)))
    return containers.checked(rows, on_error)


def iter_rows(source: Any, *, split: str | None = None, on_error: Any = None) -> Iterator[tuple[Location, Any]]:
    """Rows of a file (:func:`preflab.io.containers.iter_rows`) or of data held in memory."""
    if is_in_memory(source):
        return iter_memory(source, on_error)
    return containers.iter_rows(source, split=split, on_error=on_error)


def fingerprint(data: Any) -> str:
    """sha256 of the rows' canonical JSON: the same rows give the same fingerprint."""
    digest = hashlib.sha256()
    for index, item in enumerate(as_rows(data)):
        row = _row(item, index)
        digest.update(json.dumps(row, sort_keys=True, default=str, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def describe(data: Any) -> dict[str, Any]:
    """What a run record says about an in-memory input."""
    rows = as_rows(data)
    return {"path": f"{NAME} ({_kind(data)})", "rows": len(rows), "fingerprint": fingerprint(rows)}
