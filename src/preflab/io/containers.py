"""Raw rows out of (and into) file containers: JSONL (optionally gzipped), JSON arrays,
Parquet, Hugging Face ``datasets`` folders or hub ids, and plain text.

Readers stream ``(Location, row)`` pairs so the caller can name the exact line or row of a
bad record; nothing here knows what a preference pair is. Container problems (malformed
JSON, bytes that are not UTF-8, a truncated gzip stream) raise :class:`InputError` with the
location, or, when ``on_error`` is given, are handed to it so lenient readers can go on.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from preflab.errors import InputError
from preflab.io.atomic import atomic_path

HF_PREFIX = "hf:"


@dataclass(frozen=True)
class Location:
    """Where a row came from: ``line`` is 1-based (text files), ``row`` 0-based (tables)."""

    path: str
    line: int | None = None
    row: int | None = None

    def where(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "row": self.row}


ErrorSink = Callable[[InputError, Any], None]


def container_of(path: str) -> str:
    """Which container a path names: ``jsonl``, ``json``, ``parquet``, ``hf`` or ``text``."""
    p = str(path)
    if p.startswith(HF_PREFIX):
        return "hf"
    name = Path(p).name.lower().removesuffix(".gz")
    if Path(p).is_dir():
        return "hf"
    for ext, kind in ((".jsonl", "jsonl"), (".ndjson", "jsonl"), (".json", "json"),
                      (".parquet", "parquet"), (".txt", "text")):
        if name.endswith(ext):
            return kind
    raise InputError(
        "cannot tell the file type from the name; use .jsonl, .json, .parquet, .txt, "
        "a datasets folder, or hf:OWNER/NAME",
        path=p,
    )


def _open_bytes(path: str):
    if not os.path.exists(path):
        raise InputError("file not found", path=path)
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def _lines(path: str) -> Iterator[tuple[int, bytes]]:
    try:
        with _open_bytes(path) as fh:
            for number, raw in enumerate(fh, start=1):
                yield number, raw
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise InputError(f"compressed file is damaged or truncated ({exc})", path=path) from None


def _decode(raw: bytes, loc: Location) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})", **loc.where()
        ) from None


def iter_jsonl(path: str, on_error: ErrorSink | None = None) -> Iterator[tuple[Location, Any]]:
    """Rows of a JSON-lines file; blank lines are skipped."""
    for number, raw in _lines(path):
        loc = Location(path, line=number)
        try:
            text = _decode(raw, loc)
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputError(f"malformed JSON ({exc.msg} at column {exc.colno})", **loc.where()) from None
            if not isinstance(row, dict):
                raise InputError(f"expected a JSON object, got {type(row).__name__}", **loc.where())
        except InputError as err:
            if on_error is None:
                raise
            on_error(err, raw.decode("utf-8", "replace").rstrip("\n"))
            continue
        yield loc, row


def iter_json_array(path: str, on_error: ErrorSink | None = None) -> Iterator[tuple[Location, Any]]:
    """Rows of a JSON file holding one array of objects (e.g. PandaLM's test set)."""
    data = b"".join(raw for _, raw in _lines(path))
    try:
        rows = json.loads(_decode(data, Location(path)))
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON ({exc.msg})", path=path, line=exc.lineno) from None
    if not isinstance(rows, list):
        raise InputError("expected a JSON array of objects at the top level", path=path)
    for index, row in enumerate(rows):
        loc = Location(path, row=index)
        if not isinstance(row, dict):
            err = InputError(f"expected a JSON object, got {type(row).__name__}", **loc.where())
            if on_error is None:
                raise err
            on_error(err, row)
            continue
        yield loc, row


def iter_parquet(path: str, on_error: ErrorSink | None = None) -> Iterator[tuple[Location, Any]]:
    """Rows of a Parquet file, streamed batch by batch."""
    import pyarrow.parquet as pq

    if not os.path.exists(path):
        raise InputError("file not found", path=path)
    try:
        reader = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid / OSError for non-Parquet bytes
        raise InputError(f"not a readable Parquet file ({exc})", path=path) from None
    index = 0
    for batch in reader.iter_batches(batch_size=4096):
        for row in batch.to_pylist():
            yield Location(path, row=index), row
            index += 1


def iter_hf(path: str, split: str | None = None) -> Iterator[tuple[Location, Any]]:
    """Rows of a ``datasets`` folder (``save_to_disk``) or a hub id written ``hf:OWNER/NAME``."""
    import datasets

    if path.startswith(HF_PREFIX):
        name = path[len(HF_PREFIX):]
        local = Path(name)
        if local.is_dir():
            ds = datasets.load_from_disk(str(local))
        else:
            try:
                ds = datasets.load_dataset(name, split=split or "train")
            except Exception as exc:  # network, missing dataset, bad split
                raise InputError(f"could not load dataset {name!r} from the hub ({exc})", path=path) from None
    else:
        try:
            ds = datasets.load_from_disk(path)
        except FileNotFoundError as exc:
            raise InputError(f"not a datasets folder written by save_to_disk ({exc})", path=path) from None
    if isinstance(ds, datasets.DatasetDict):
        chosen = split or ("train" if "train" in ds else None)
        if chosen not in ds:
            raise InputError(f"pick a split with --split; this dataset has {sorted(ds)}", path=path)
        ds = ds[chosen]
    for index, row in enumerate(ds):
        yield Location(path, row=index), row


def iter_text(path: str, on_error: ErrorSink | None = None) -> Iterator[tuple[Location, Any]]:
    """One value per non-blank line, as ``{"text": line}``."""
    for number, raw in _lines(path):
        loc = Location(path, line=number)
        try:
            text = _decode(raw, loc).rstrip("\r\n")
        except InputError as err:
            if on_error is None:
                raise
            on_error(err, raw.decode("utf-8", "replace"))
            continue
        if text.strip():
            yield loc, {"text": text}


def iter_rows(path: str, *, split: str | None = None, on_error: ErrorSink | None = None) -> Iterator[tuple[Location, Any]]:
    """Rows of any supported container, picked by :func:`container_of`."""
    kind = container_of(path)
    if kind == "jsonl":
        return iter_jsonl(path, on_error)
    if kind == "json":
        return iter_json_array(path, on_error)
    if kind == "parquet":
        return iter_parquet(path, on_error)
    if kind == "text":
        return iter_text(path, on_error)
    return iter_hf(path, split)


def write_jsonl(rows: Iterable[dict[str, Any]], path: str | os.PathLike) -> int:
    """Write rows as JSON lines (gzipped if the name ends in .gz), atomically. Returns the count."""
    count = 0
    with atomic_path(path) as tmp:
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(tmp, "wt", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
    return count


def write_parquet(rows: Iterable[dict[str, Any]], path: str | os.PathLike, schema, batch_rows: int = 8192) -> int:
    """Write rows as Parquet with a fixed Arrow ``schema``, batch by batch, atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    count = 0
    with atomic_path(path) as tmp:
        with pq.ParquetWriter(tmp, schema) as writer:
            batch: list[dict[str, Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= batch_rows:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    count += len(batch)
                    batch = []
            if batch or count == 0:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                count += len(batch)
    return count


def write_hf(rows: Iterable[dict[str, Any]], path: str | os.PathLike, schema) -> int:
    """Write rows as a ``datasets`` folder (``save_to_disk`` layout), atomically."""
    import datasets
    import pyarrow as pa

    table = pa.Table.from_pylist(list(rows), schema=schema)
    with atomic_path(path, directory=True) as tmp:
        datasets.Dataset(table).save_to_disk(str(tmp))
    return table.num_rows
