"""Row layouts → records: preflab's own columns, TRL's preference format (standard,
conversational, implicit prompt), OpenRLHF-style custom keys via ``column_map``, and
RewardBench-style sets (``subset`` becomes the category).

``column_map`` renames source columns to preflab's before anything else, the way torchtune's
``preference_dataset(column_map=...)`` does: ``{"question": "prompt", "answer_good": "chosen"}``
maps a row ``{"question": ..., "answer_good": ...}``. Columns preflab does not know are kept in
``provenance["extra"]`` so nothing a source carried is lost.
"""

from __future__ import annotations

import json
from typing import Any

from preflab.errors import ConfigError, InputError, Problem
from preflab.io import portable
from preflab.records import PAIR_FIELDS, PreferencePair, PromptRecord, build, from_trl, text_prompt

_PAIR_OPTIONAL = set(PAIR_FIELDS) - {"prompt", "chosen", "rejected"}


def parse_column_map(spec: str | dict[str, str] | None) -> dict[str, str]:
    """``"question=prompt,good=chosen"`` (source=target) or a dict → a mapping dict. Two
    sources for one target (``a=chosen,b=chosen``) or one source named twice would drop a
    column silently, so they are refused.

    >>> parse_column_map("q=prompt, good=chosen")
    {'q': 'prompt', 'good': 'chosen'}
    >>> parse_column_map("a=chosen,b=chosen")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    preflab.errors.ConfigError: column_map: 'a' and 'b' both map to 'chosen'; give each column one source
    """
    if spec is None:
        return {}
    if isinstance(spec, dict):
        pairs = [(str(k), str(v)) for k, v in spec.items()]
    else:
        pairs = []
        for part in filter(None, (p.strip() for p in spec.split(","))):
            source, eq, target = (s.strip() for s in part.partition("="))
            if not eq or not source or not target:
                raise ConfigError(_map_problem(f"entry {part!r} must look like SOURCE=TARGET"))
            pairs.append((source, target))
    mapping: dict[str, str] = {}
    for source, target in pairs:
        if source in mapping:
            raise ConfigError(_map_problem(f"{source!r} is mapped twice (to {mapping[source]!r} and {target!r})"))
        other = next((s for s, t in mapping.items() if t == target), None)
        if other is not None:
            raise ConfigError(_map_problem(f"{other!r} and {source!r} both map to {target!r}; give each column one "
                                           "source"))
        mapping[source] = target
    return mapping


def _map_problem(text: str) -> Problem:
    return Problem("{column_map}: " + text, ("column_map",))


def column_map_problems(spec: Any) -> list[Problem]:
    """The problems of a ``column_map`` option, for an options class's ``problems()``."""
    if not isinstance(spec, (str, dict)):
        return []
    try:
        parse_column_map(spec)
    except ConfigError as exc:
        return list(exc.problems)
    return []


def apply_column_map(row: dict[str, Any], column_map: dict[str, str]) -> dict[str, Any]:
    """The row with its columns renamed; a renamed column that lands on a column the row
    already has is a row error (one of the two would be lost)."""
    if not column_map:
        return row
    renamed: dict[str, Any] = {}
    for key, value in row.items():
        name = column_map.get(key, key)
        if name in renamed:
            source = next((k for k in row if column_map.get(k, k) == name and k != key), name)
            raise InputError(f"columns {source!r} and {key!r} would both become {name!r} under the column map; "
                             "drop one or map it elsewhere", field=key)
        renamed[name] = value
    return renamed


def _json_field(value: Any, field: str) -> Any:
    """Parquet and datasets store provenance as JSON text; JSONL stores it as an object."""
    if isinstance(value, str):
        try:
            return portable.loads(value)
        except json.JSONDecodeError:
            raise InputError("not valid JSON text", field=field) from None
        except portable.Unportable as exc:
            raise InputError(exc.reason, field=field + (f".{exc.field}" if exc.field else "")) from None
    return value


def pair_from_row(row: dict[str, Any]) -> PreferencePair:
    """A pair from preflab's own layout or TRL's (any of its three forms)."""
    if "subset" in row and "category" not in row:  # RewardBench
        row = {("category" if k == "subset" else k): v for k, v in row.items()}
    known = {k: v for k, v in row.items() if k in _PAIR_OPTIONAL and v is not None}
    if isinstance(known.get("id"), int):  # RewardBench and others number their rows
        known["id"] = str(known["id"])
    if "provenance" in known:
        known["provenance"] = _json_field(known["provenance"], "provenance")
        if not isinstance(known["provenance"], dict):
            raise InputError("expected an object", field="provenance")
    extra = {k: v for k, v in row.items() if k not in PAIR_FIELDS}
    if extra:
        known.setdefault("provenance", {})
        known["provenance"] = {**known["provenance"], "extra": {**known["provenance"].get("extra", {}), **extra}}
    core = {k: row.get(k) for k in ("prompt", "chosen", "rejected") if k in row}
    return from_trl(core, **known)


def prompt_from_row(row: dict[str, Any]) -> PromptRecord:
    """A prompt record from a row with ``prompt`` (text or messages); ``text`` (one line of
    a .txt file) is accepted as the prompt too. Other columns go to provenance["extra"]."""
    data = dict(row)
    if "prompt" not in data and "text" in data:
        data["prompt"] = data.pop("text")
    if "prompt" not in data or data["prompt"] is None:
        raise InputError("missing required field", field="prompt")
    if isinstance(data["prompt"], str):
        data["prompt"] = text_prompt(data["prompt"])
    known = {k: data.pop(k) for k in ("id", "prompt", "category") if data.get(k) is not None}
    provenance = _json_field(data.pop("provenance", None) or {}, "provenance")
    if data:
        provenance = {**provenance, "extra": data}
    if "id" in known:
        known["id"] = str(known["id"])
    return build(PromptRecord, {**known, "provenance": provenance})


def provenance_text(provenance: dict[str, Any]) -> str:
    """A record's provenance as the JSON text a table column holds; NaN, Infinity or a lone
    surrogate in it is :class:`~preflab.io.portable.Unportable` naming the field."""
    try:
        return portable.dumps(provenance, sort_keys=True)
    except ValueError as exc:
        found = portable.unwritable(provenance, exc)
        raise portable.Unportable("provenance" + (f".{found.field}" if found.field else ""), found.reason) from None


def pair_row(pair: PreferencePair, *, json_provenance: bool) -> dict[str, Any]:
    """preflab's own layout; tables (Parquet, datasets) keep provenance as JSON text because
    its keys differ between pairs and Arrow needs one type per column."""
    row = pair.model_dump()
    if json_provenance:
        row["provenance"] = provenance_text(row["provenance"])
    return row


def prompt_row(record: PromptRecord, *, json_provenance: bool) -> dict[str, Any]:
    row = record.model_dump()
    if json_provenance:
        row["provenance"] = provenance_text(row["provenance"])
    return row


def arrow_schema(kind: str):
    """The fixed Arrow schema of preflab's pair / prompt tables (None-only columns included)."""
    import pyarrow as pa

    message = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
    if kind == "prompt":
        return pa.schema([("id", pa.string()), ("prompt", message), ("category", pa.string()), ("provenance", pa.string())])
    if kind == "trl":
        return pa.schema([("prompt", pa.string()), ("chosen", pa.string()), ("rejected", pa.string())])
    if kind == "trl-chat":
        return pa.schema([("prompt", message), ("chosen", message), ("rejected", message)])
    floats = ("chosen_score", "rejected_score", "margin", "smoothing", "weight", "strength_mean", "strength_std")
    return pa.schema(
        [("id", pa.string()), ("prompt", message), ("chosen", pa.string()), ("rejected", pa.string())]
        + [(name, pa.float64()) for name in floats]
        + [("flipped", pa.bool_()), ("category", pa.string()), ("provenance", pa.string())]
    )
