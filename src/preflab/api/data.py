"""Pairs in and out of the Python API: every function takes pairs as a path, a list of
records or dicts, a dict of TRL columns, a ``datasets.Dataset`` or a pandas ``DataFrame``
(:func:`read_pairs`), and returns :class:`Pairs`, a list of
:class:`~preflab.records.PreferencePair` that converts losslessly to a ``datasets.Dataset``
in TRL's standard or conversational layout (:func:`to_dataset`) and back
(:func:`read_pairs` again).

The dataset has TRL's ``prompt``/``chosen``/``rejected`` columns, ready for ``RewardTrainer``,
``DPOTrainer`` or ``push_to_hub``, plus preflab's own columns: ``id``, ``provenance`` (JSON
text: its keys differ from pair to pair, and Arrow needs one type per column) and every
optional column (scores, margin, strength, ...) that is set on at least one pair.

>>> from preflab import PreferencePair, text_prompt
>>> pairs = Pairs([PreferencePair(prompt=text_prompt("2+2?"), chosen="4", rejected="5", margin=1.0,
...                               provenance={"method": "demo"})])
>>> ds = pairs.to_dataset()
>>> ds.column_names
['prompt', 'chosen', 'rejected', 'id', 'margin', 'provenance']
>>> ds[0]["prompt"], ds[0]["provenance"]
('2+2?', '{"method": "demo"}')
>>> to_dataset(pairs, layout="conversational")[0]["chosen"]
[{'role': 'assistant', 'content': '4'}]
>>> read_pairs(ds) == pairs
True
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Literal

from preflab.errors import ConfigError, InputError
from preflab.records import PAIR_FIELDS, PreferencePair, prompt_as_text, to_trl

Layout = Literal["auto", "standard", "conversational"]
_CORE = ("prompt", "chosen", "rejected")
_ALWAYS = ("id", "provenance")


class Pairs(list):
    """Preference pairs (a ``list`` of :class:`~preflab.records.PreferencePair`) with what the
    step that made them reports in :attr:`info`: counts, failures, token usage, the run
    record (provenance) and where they were written."""

    def __init__(self, pairs: Iterable[PreferencePair] = (), info: dict[str, Any] | None = None) -> None:
        super().__init__(pairs)
        self.info: dict[str, Any] = dict(info or {})

    @property
    def failures(self) -> list[dict[str, Any]]:
        """Prompts that gave no pair, each with its reason (``generate``)."""
        return self.info.get("failures", [])

    @property
    def usage(self) -> dict[str, Any]:
        """Tokens, calls, cache hits and cost of the LLM calls that made these pairs."""
        return self.info.get("run", {}).get("usage", {})

    @property
    def run(self) -> dict[str, Any]:
        """The run record (what ``run.json`` holds): config, versions, seed, inputs, counts."""
        return self.info.get("run", {})

    def to_dataset(self, layout: Layout = "auto") -> Any:
        """These pairs as a ``datasets.Dataset`` (see :func:`to_dataset`)."""
        return to_dataset(self, layout)

    def to_pandas(self) -> Any:
        """These pairs as a pandas ``DataFrame`` (preflab's columns; provenance as dicts)."""
        import pandas as pd

        return pd.DataFrame([p.model_dump() for p in self], columns=list(PAIR_FIELDS))

    def __repr__(self) -> str:
        failed = f", {len(self.failures)} failures" if self.failures else ""
        return f"Pairs({len(self)} pairs{failed})"


def _layout(pairs: list[PreferencePair], layout: Layout) -> bool:
    """True for the conversational layout."""
    if layout not in ("auto", "standard", "conversational"):
        raise ConfigError(f"unknown layout {layout!r}; choose auto, standard or conversational")
    if layout == "auto":
        return any(prompt_as_text(p.prompt) is None for p in pairs)
    return layout == "conversational"


def to_dataset(pairs: Any, layout: Layout = "auto") -> Any:
    """A ``datasets.Dataset`` in TRL's preference layout with preflab's columns beside it.

    ``layout``: ``standard`` (text prompt and responses; refused for multi-turn prompts),
    ``conversational`` (message lists), or ``auto`` (standard unless a prompt has several
    turns). Optional columns that no pair sets are left out (absent reads back as unset), so
    TRL never sees an all-empty ``margin`` column. :func:`read_pairs` reads it back.
    """
    import datasets
    import pyarrow as pa

    from preflab.io.schemas import arrow_schema

    pairs = list(read_pairs(pairs))  # any pair data: records, dicts, a generator, a file
    conversational = _layout(pairs, layout)
    rows = []
    for pair in pairs:
        row = pair.model_dump()
        try:
            row.update(to_trl(pair, conversational=conversational))
        except InputError as exc:  # a multi-turn prompt in the standard layout
            raise InputError(f"pair {pair.id}: {exc.reason}", field=exc.field) from None
        row["provenance"] = json.dumps(row["provenance"], ensure_ascii=False, sort_keys=True)
        rows.append(row)
    base = PreferencePair.model_fields
    extra = [f for f in PAIR_FIELDS if f not in _CORE
             and (f in _ALWAYS or any(r[f] != base[f].default for r in rows))]
    core = arrow_schema("trl-chat" if conversational else "trl")
    pair_schema = arrow_schema("pair")
    schema = pa.schema(list(core) + [pair_schema.field(f) for f in extra])
    table = pa.Table.from_pylist([{k: r[k] for k in schema.names} for r in rows], schema=schema)
    return datasets.Dataset(table)


def read_pairs(data: Any, fmt: str = "auto", **options: Any) -> Pairs:
    """Every pair of ``data`` (a path or rows in memory; see :mod:`preflab.io.memory`),
    validated like a file; ``options`` go to :func:`preflab.io.read_pairs` (``column_map``,
    ``split``, ``degenerate``, ``report``...)."""
    from preflab import io

    if isinstance(data, Pairs):
        return data
    if isinstance(data, list) and all(isinstance(p, PreferencePair) for p in data):
        return Pairs(data)
    return Pairs(io.read_pairs(data, fmt, **options))


def read_prompts(data: Any, **options: Any) -> list:
    """Every prompt of ``data``: a path, prompt strings, records, dicts, a Dataset or a DataFrame."""
    from preflab import io

    return list(io.read_prompts(data, **options))


def is_pairs_like(data: Any) -> bool:
    return isinstance(data, Pairs) or (isinstance(data, list) and bool(data) and all(isinstance(p, PreferencePair) for p in data))
