"""Write preference pairs and prompts. The container comes from the name (``.jsonl[.gz]``,
``.parquet``, anything else is a ``datasets`` folder, :func:`~preflab.io.outputs.output_container`)
and every write is atomic."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from preflab.errors import ConfigError, InputError
from preflab.io import containers, schemas
from preflab.io.outputs import output_container
from preflab.records import PreferencePair, PromptRecord, to_trl

WRITE_FORMATS = ("preflab", "trl", "trl-chat")


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
