"""Raw rows out of (and into) file containers: JSONL (optionally gzipped), JSON arrays,
Parquet, Hugging Face ``datasets`` folders or hub ids, and plain text.

Readers stream ``(Location, row)`` pairs so the caller can name the exact line or row of a
bad record; nothing here knows what a preference pair is. Container problems (malformed
JSON, bytes that are not UTF-8, a truncated gzip stream) raise :class:`InputError` with the
location, or, when ``on_error`` is given, are handed to it so lenient readers can go on. So is
a row holding a value no file can hold (NaN or Infinity, a lone surrogate, nesting deeper
than :data:`~preflab.io.portable.MAX_DEPTH`; :mod:`preflab.io.portable`), and the writers
refuse to write one.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from preflab.errors import InputError, WriteError
from preflab.io import portable
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
                row = portable.loads(text)
            except json.JSONDecodeError as exc:
                raise InputError(f"malformed JSON ({exc.msg} at column {exc.colno})", **loc.where()) from None
            except portable.Unportable as exc:
                raise InputError(exc.reason, field=exc.field, **loc.where()) from None
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
        rows = json.loads(_decode(data, Location(path)))  # NaN tokens, surrogates: refused row by row below
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON ({exc.msg})", path=path, line=exc.lineno) from None
    except RecursionError:
        raise InputError(f"nested more than {portable.MAX_DEPTH} levels deep", path=path) from None
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
        yield from checked([(loc, row)], on_error)


def checked(rows: Iterable[tuple[Location, Any]], on_error: ErrorSink | None) -> Iterator[tuple[Location, Any]]:
    """``rows`` without those holding a value no file can hold: each is an :class:`InputError`
    naming its field, raised or handed to ``on_error``."""
    for loc, row in rows:
        try:
            portable.check_row(row)
        except portable.Unportable as exc:
            err = InputError(exc.reason, field=exc.field, **loc.where())
            if on_error is None:
                raise err from None
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
        rows = batch.to_pylist()
        yield from checked(((Location(path, row=index + i), row) for i, row in enumerate(rows)), on_error)
        index += len(rows)


def iter_hf(path: str, split: str | None = None, on_error: ErrorSink | None = None) -> Iterator[tuple[Location, Any]]:
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
    yield from checked(((Location(path, row=index), row) for index, row in enumerate(ds)), on_error)


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
    return iter_hf(path, split, on_error)


def _write_error(path: str | os.PathLike, index: int, exc: portable.Unportable) -> WriteError:
    field = f" field {exc.field}:" if exc.field else ""
    return WriteError(f"{path}: row {index}:{field} {exc.reason}; nothing was written")


def _writable(rows: Iterable[dict[str, Any]], path: str | os.PathLike) -> Iterator[dict[str, Any]]:
    """``rows``; a value no file can hold, found while making a row (a pair's provenance as
    JSON text), becomes a :class:`WriteError` naming the row."""
    it = iter(rows)
    index = 0
    while True:
        try:
            row = next(it)
        except StopIteration:
            return
        except portable.Unportable as exc:
            raise _write_error(path, index, exc) from None
        yield row
        index += 1


def write_jsonl(rows: Iterable[dict[str, Any]], path: str | os.PathLike) -> int:
    """Write rows as JSON lines (gzipped if the name ends in .gz), atomically. Returns the count.
    A row holding NaN, Infinity or a lone surrogate stops the write (:class:`WriteError`
    naming row and field) and leaves no file."""
    count = 0
    with atomic_path(path) as tmp:
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(tmp, "wt", encoding="utf-8") as fh:
            for row in _writable(rows, path):
                try:
                    fh.write(portable.dumps(row) + "\n")
                except (ValueError, UnicodeEncodeError) as exc:
                    raise _write_error(path, count, portable.unwritable(row, exc)) from None
                count += 1
    return count


def _table(batch: list[dict[str, Any]], schema, path: str | os.PathLike, start: int):
    """An Arrow table of rows ``start``... of an output, refusing NaN, Infinity and lone
    surrogates (Parquet would store them; no JSON reader of the data could)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        table = pa.Table.from_pylist(batch, schema=schema)
    except (UnicodeEncodeError, pa.ArrowException) as exc:
        bad = next(((i, found) for i, row in enumerate(batch) if (found := portable.problem_in(row))), None)
        if bad is None:
            raise
        raise _write_error(path, start + bad[0], portable.Unportable(*bad[1])) from exc
    for name, column in zip(table.column_names, table.columns):
        finite = pc.is_finite(column) if pa.types.is_floating(column.type) else None  # null stays null
        if finite is not None and pc.all(finite).as_py() is False:
            index = pc.index(finite, False).as_py()
            reason = portable.problem_in(column[index].as_py())[1]
            raise _write_error(path, start + index, portable.Unportable(name, reason))
    return table


def write_parquet(rows: Iterable[dict[str, Any]], path: str | os.PathLike, schema, batch_rows: int = 8192) -> int:
    """Write rows as Parquet with a fixed Arrow ``schema``, batch by batch, atomically."""
    import pyarrow.parquet as pq

    count = 0
    with atomic_path(path) as tmp:
        with pq.ParquetWriter(tmp, schema) as writer:
            batch: list[dict[str, Any]] = []
            for row in _writable(rows, path):
                batch.append(row)
                if len(batch) >= batch_rows:
                    writer.write_table(_table(batch, schema, path, count))
                    count += len(batch)
                    batch = []
            if batch or count == 0:
                writer.write_table(_table(batch, schema, path, count))
                count += len(batch)
    return count


def write_hf(rows: Iterable[dict[str, Any]], path: str | os.PathLike, schema) -> int:
    """Write rows as a ``datasets`` folder (``save_to_disk`` layout), atomically."""
    import datasets

    table = _table(list(_writable(rows, path)), schema, path, 0)
    with atomic_path(path, directory=True) as tmp:
        datasets.Dataset(table).save_to_disk(str(tmp))
    return table.num_rows
