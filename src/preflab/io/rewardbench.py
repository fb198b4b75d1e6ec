"""RewardBench rows: the two layouts of the benchmark read into one record, every row checked.

- **RewardBench** (``rewardbench``; the hub's ``allenai/reward-bench``, split ``filtered``): one
  row per comparison, ``prompt``, ``chosen`` and ``rejected`` as text, ``subset`` and ``id``. The
  prior preference sets (``allenai/pref-test-sets``) have the same columns with the prompt as
  chat messages; on the hub each of them is a split, and the split's name is the row's subset
  (``pku_better`` and ``pku_safer`` are no longer part of the benchmark and are left out).
- **RewardBench 2** (``rewardbench2``; ``allenai/reward-bench-2``, split ``test``): one row per
  prompt, ``chosen`` and ``rejected`` as lists of completions, ``num_correct`` (how many are
  correct: the chosen ones), ``subset`` and ``id``. The rows of the Ties subset come in
  variants of one prompt, with ids ``ref:N`` and ``tied:N``.

Both become a :class:`BenchmarkRow`: the prompt as messages, the completions (the correct ones
first) and how many are correct; a RewardBench row is a row of two completions, one correct.
Unlike preference pairs, no row is skipped: an empty completion or two identical completions
are scored as they are, as the benchmark scores them. A bad row stops the read with one line
naming the file, the line or row, and the field (``data.jsonl:7: field num_correct: ...``).

>>> row = benchmark_row({"id": 3, "prompt": "2+2?", "chosen": ["4"], "rejected": ["5", "3"],
...                      "num_correct": 1, "subset": "Math"}, "rewardbench2")
>>> row.completions, row.num_correct, row.id
(('4', '5', '3'), 1, '3')
>>> benchmark_row({"prompt": "Hi", "chosen": ["a"], "rejected": [], "subset": "Focus"}, "rewardbench2")
Traceback (most recent call last):
...
preflab.errors.InputError: <input>: field rejected: fewer than two completions (1 chosen, 0 rejected): a best-of-N row needs at least two
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Collection, Iterator

from preflab.errors import InputError
from preflab.io import containers, memory
from preflab.io.containers import Location
from preflab.records import Message, PromptRecord, build

#: The benchmarks, by the name ``preflab eval --benchmark`` takes.
BENCHMARKS = ("rewardbench", "rewardbench2")
#: Hub datasets whose benchmark is known from their name.
HUB_BENCHMARKS = {"allenai/reward-bench": "rewardbench", "allenai/pref-test-sets": "rewardbench",
                  "allenai/reward-bench-2": "rewardbench2"}
#: The split that holds the benchmark, when a dataset has several.
OFFICIAL_SPLITS = {"rewardbench": "filtered", "rewardbench2": "test"}
#: The splits of the prior preference sets, each a subset of RewardBench.
PRIOR_SET_SPLITS = ("anthropic_harmless", "anthropic_helpful", "anthropic_hhh", "mtbench_gpt4", "mtbench_human",
                    "shp", "summarize")
#: Splits of the prior sets that RewardBench dropped.
DROPPED_SPLITS = ("pku_better", "pku_safer")
#: The id of a Ties row: which variant of the prompt (``ref`` or ``tied``) and the prompt's number.
TIES_ID = re.compile(r"(ref|tied):(\d+)")


@dataclass(frozen=True)
class BenchmarkRow:
    """One row of a benchmark: ``completions[:num_correct]`` are the correct ones."""

    id: str
    subset: str
    prompt: list[Message]
    completions: tuple[str, ...]
    num_correct: int

    @property
    def is_ties(self) -> bool:
        return is_ties_subset(self.subset)


def is_ties_subset(subset: str) -> bool:
    """RewardBench 2's Ties subset, whatever its case (the reference compares it lowered)."""
    return subset.lower() == "ties"


def _text(row: dict[str, Any], key: str, benchmark: str) -> str:
    value = row.get(key)
    if isinstance(value, str):
        return value
    if key not in row or value is None:
        raise InputError("missing required field", field=key)
    hint = " (a RewardBench 2 row? pass benchmark rewardbench2)" if isinstance(value, list) else ""
    raise InputError(f"expected a string, got {type(value).__name__}{hint}", field=key)


def _completions(row: dict[str, Any], key: str) -> list[str]:
    value = row.get(key)
    if key not in row or value is None:
        raise InputError("missing required field", field=key)
    if isinstance(value, str):
        raise InputError("expected a list of completions, got a string (a RewardBench v1 row? pass benchmark "
                         "rewardbench)", field=key)
    if not isinstance(value, (list, tuple)):
        raise InputError(f"expected a list of completions, got {type(value).__name__}", field=key)
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise InputError(f"expected a string, got {type(item).__name__}", field=f"{key}.{index}")
    return list(value)


def _integer(row: dict[str, Any], key: str) -> int | None:
    value = row.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise InputError(f"expected a whole number, got {value!r}", field=key)
    return int(value)


def _prompt(row: dict[str, Any]) -> list[Message]:
    value = row.get("prompt")
    if "prompt" not in row or value is None:
        raise InputError("missing required field", field="prompt")
    if isinstance(value, str):
        value = [{"role": "user", "content": value}]
    elif not isinstance(value, (list, tuple)):
        raise InputError(f"expected text or a list of {{role, content}} messages, got {type(value).__name__}",
                         field="prompt")
    return build(PromptRecord, {"prompt": list(value)}).prompt


def _v2_completions(row: dict[str, Any]) -> tuple[list[str], int]:
    chosen, rejected = _completions(row, "chosen"), _completions(row, "rejected")
    total = len(chosen) + len(rejected)
    if total < 2:
        raise InputError(f"fewer than two completions ({len(chosen)} chosen, {len(rejected)} rejected): a "
                         "best-of-N row needs at least two", field="rejected" if chosen else "chosen")
    num_correct = _integer(row, "num_correct")
    if num_correct is None:
        num_correct = len(chosen)
    elif not 1 <= num_correct <= total - 1:
        raise InputError(f"out of range: {num_correct}; a row of {total} completions has between 1 and "
                         f"{total - 1} correct ones", field="num_correct")
    elif num_correct != len(chosen):
        raise InputError(f"{num_correct} correct completions, but chosen holds {len(chosen)} (the correct ones)",
                         field="num_correct")
    if not chosen:
        raise InputError("no correct completion: a best-of-N row needs at least one", field="chosen")
    if not rejected:
        raise InputError("no incorrect completion: a best-of-N row needs at least one", field="rejected")
    declared = _integer(row, "total_completions")
    if declared is not None and declared != total:
        raise InputError(f"says {declared}, but the row has {total} completions", field="total_completions")
    return chosen + rejected, num_correct


def benchmark_row(row: dict[str, Any], benchmark: str, *, default_id: str = "") -> BenchmarkRow:
    """One validated row of ``benchmark`` (``rewardbench`` or ``rewardbench2``); an
    :class:`~preflab.errors.InputError` names the field (the caller adds where)."""
    if not isinstance(row, dict):
        raise InputError(f"expected an object, got {type(row).__name__}")
    subset = row.get("subset")
    if not isinstance(subset, str) or not subset.strip():
        raise InputError("missing required field" if subset is None else f"expected a subset name, got {subset!r}",
                         field="subset")
    raw_id = row.get("id")
    row_id = default_id if raw_id is None else str(raw_id)
    prompt = _prompt(row)
    if benchmark == "rewardbench":
        completions, num_correct = [_text(row, "chosen", benchmark), _text(row, "rejected", benchmark)], 1
    else:
        completions, num_correct = _v2_completions(row)
        if is_ties_subset(subset) and not TIES_ID.fullmatch(row_id):
            raise InputError(f"a Ties row's id is ref:N or tied:N (N the prompt's number), got {row_id!r}", field="id")
    return BenchmarkRow(id=row_id, subset=subset, prompt=prompt, completions=tuple(completions),
                        num_correct=num_correct)


def sniff(row: Any, v1_subsets: Collection[str]) -> str | None:
    """The benchmark of a row, from its columns: ``rewardbench2`` when ``chosen`` is a list of
    completions (text, not chat messages) beside ``num_correct`` or ``subset``;
    ``rewardbench`` when ``chosen`` is text and ``subset`` is one of ``v1_subsets``; else None.

    >>> sniff({"chosen": ["a"], "rejected": ["b"], "num_correct": 1}, ())
    'rewardbench2'
    >>> sniff({"chosen": "a", "rejected": "b", "subset": "hep-go"}, {"hep-go"}), sniff({"chosen": "a"}, {"hep-go"})
    ('rewardbench', None)
    """
    if not isinstance(row, dict):
        return None
    chosen = row.get("chosen")
    if isinstance(chosen, (list, tuple)) and all(isinstance(c, str) for c in chosen) \
            and ("num_correct" in row or "subset" in row) and isinstance(row.get("rejected"), (list, tuple)):
        return "rewardbench2"
    if isinstance(chosen, str) and row.get("subset") in v1_subsets:
        return "rewardbench"
    return None


def _hub_name(source: Any) -> str | None:
    if isinstance(source, str) and source.startswith(containers.HF_PREFIX):
        return source[len(containers.HF_PREFIX):].rstrip("/")
    return None


def _is_dataset_source(source: Any) -> bool:
    """A hub id, a datasets folder, or a ``DatasetDict`` in memory: sources with splits."""
    if memory.is_in_memory(source):
        return type(source).__name__ == "DatasetDict"
    try:
        return containers.container_of(str(source)) == "hf"
    except InputError:
        return False


def _load_splits(source: Any) -> Any:
    """The dataset of a split source, loaded whole (a ``Dataset`` or a ``DatasetDict``)."""
    import os

    import datasets

    if memory.is_in_memory(source):
        return source
    name = _hub_name(source)
    if name is not None and not os.path.isdir(name):
        try:
            return datasets.load_dataset(name)
        except Exception as exc:  # network, missing dataset, offline mode
            raise InputError(f"could not load dataset {name!r} from the hub ({exc})", path=str(source)) from None
    folder = name if name is not None else str(source)
    try:
        return datasets.load_from_disk(folder)
    except FileNotFoundError as exc:
        raise InputError(f"not a datasets folder written by save_to_disk ({exc})", path=str(source)) from None


def _split_rows(source: Any, split: str | None, fallback: str | None = None) -> Iterator[tuple[Location, dict[str, Any]]]:
    """Rows of a source with splits: ``split`` if given; else the benchmark's own split
    (``filtered``, ``test``); else, for the prior sets, every split, its name as the subset;
    else ``fallback`` when the dataset has it."""
    data = _load_splits(source)
    where = memory.NAME if memory.is_in_memory(source) else str(source)
    if type(data).__name__ != "DatasetDict":
        for index, row in enumerate(data):
            yield Location(where, row=index), row
        return
    names = list(data)
    if split is not None and split not in names:
        raise InputError(f"no split {split!r}; this dataset has {sorted(names)}", path=where)
    chosen = split or next((s for s in OFFICIAL_SPLITS.values() if s in names), None)
    kept = [s for s in names if s not in DROPPED_SPLITS]
    if chosen is None and fallback in names and (not kept or any(s not in PRIOR_SET_SPLITS for s in kept)):
        chosen = fallback
    if chosen is not None:
        for index, row in enumerate(data[chosen]):
            yield Location(f"{where}[{chosen}]", row=index), row
        return
    if not kept or any(s not in PRIOR_SET_SPLITS for s in kept):
        raise InputError(f"pick a split with split=NAME; this dataset has {sorted(names)}", path=where)
    for name in kept:  # the prior sets: each split is a subset
        for index, row in enumerate(data[name]):
            yield Location(f"{where}[{name}]", row=index), {**row, "subset": name}


def rows_of(source: Any, split: str | None = None, fallback: str | None = None) -> Iterator[tuple[Location, dict[str, Any]]]:
    """(where, raw row) for every row of a file, rows in memory, a datasets folder or a hub id
    (its split as :func:`_split_rows` picks it)."""
    if _is_dataset_source(source):
        return _split_rows(source, split, fallback)
    return memory.iter_rows(memory.as_rows(source) if memory.is_in_memory(source) else str(source), split=split)


def detect(source: Any, v1_subsets: Collection[str], split: str | None = None) -> str | None:
    """The benchmark of ``source``: from a hub name preflab knows, else from its first row
    (:func:`sniff`); None when it is not one (an empty source included)."""
    name = _hub_name(source)
    if name in HUB_BENCHMARKS:
        return HUB_BENCHMARKS[name]
    first = next(iter(rows_of(source, split, fallback="train")), None)  # pairs are read from train
    return None if first is None else sniff(first[1], v1_subsets)


def read_benchmark(source: Any, benchmark: str, split: str | None = None) -> list[BenchmarkRow]:
    """Every row of ``source`` as a :class:`BenchmarkRow` of ``benchmark``; the first bad row
    raises an :class:`~preflab.errors.InputError` naming file, line or row, and field. An input
    with no rows is one too, and so is a Ties id that appears twice."""
    if benchmark not in BENCHMARKS:
        raise InputError(f"unknown benchmark {benchmark!r}; choose one of {', '.join(BENCHMARKS)}")
    rows: list[BenchmarkRow] = []
    ties_seen: dict[str, Location] = {}
    where = memory.NAME if memory.is_in_memory(source) else str(source)
    for loc, raw in rows_of(source, split):
        default = f"{loc.line}" if loc.line is not None else f"{loc.row}"
        try:
            row = benchmark_row(raw, benchmark, default_id=default)
        except InputError as err:
            raise err.located(**loc.where()) from None
        if benchmark == "rewardbench2" and row.is_ties:
            if row.id in ties_seen:
                first = ties_seen[row.id]
                at = f"line {first.line}" if first.line is not None else f"row {first.row}"
                raise InputError(f"Ties id {row.id!r} appears twice (first at {at})", field="id", **loc.where())
            ties_seen[row.id] = loc
        rows.append(row)
    if not rows:
        raise InputError(f"no {benchmark} rows in the input", path=where)
    return rows
