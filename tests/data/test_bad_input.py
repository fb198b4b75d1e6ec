"""Corrupted files give clear errors with file, line/row and field; lenient mode writes a
rejects file; nothing half-written is left behind."""

import gzip
import json
import os

import pytest

from preflab.errors import InputError
from preflab.io import ReadReport, read_pairs, write_pairs

GOOD = {"prompt": "q", "chosen": "a", "rejected": "b"}


def _write_lines(path, lines):
    with open(path, "wb") as fh:
        for line in lines:
            fh.write(line if isinstance(line, bytes) else (json.dumps(line) + "\n").encode())


@pytest.mark.parametrize(
    "bad_line, line_no, field, reason",
    [
        (b'{"prompt": "q", "chosen": "a", "rej\n', 2, None, "malformed JSON"),
        ({"prompt": "q", "chosen": "a"}, 2, "rejected", "missing required field"),
        (b"\x00\xff\xfe\x89PNG\r\n", 2, None, "not valid UTF-8"),
        ({"prompt": "q", "chosen": ["a"], "rejected": "b"}, 2, "chosen", "expected a string"),
        ({"prompt": "q", "chosen": "", "rejected": "b"}, 2, "chosen", "response is empty"),
        ({"prompt": "q", "chosen": "same", "rejected": "same"}, 2, None, "identical"),
        ([1, 2], 2, None, "expected a JSON object"),
    ],
)
def test_strict_error_names_file_line_and_field(tmp_path, bad_line, line_no, field, reason):
    path = tmp_path / "in.jsonl"
    _write_lines(path, [GOOD, bad_line, GOOD])
    with pytest.raises(InputError) as info:
        list(read_pairs(path))
    err = info.value
    assert (err.path, err.line, err.field) == (str(path), line_no, field)
    assert reason in err.reason
    assert str(err).startswith(f"{path}:{line_no}:")


def test_lenient_skips_bad_rows_and_writes_rejects(tmp_path):
    path = tmp_path / "in.jsonl"
    _write_lines(path, [GOOD, b'{"trunc\n', {"prompt": "q", "chosen": "a"}, b"\xff\xfe junk\n",
                        {"prompt": "q2", "chosen": "c", "rejected": "d"}])
    report = ReadReport()
    rejects = tmp_path / "rejects.jsonl"
    kept = list(read_pairs(path, strict=False, rejects=rejects, report=report))
    assert [p.chosen for p in kept] == ["a", "c"]
    rows = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["line"], r["field"]) for r in rows] == [(2, None), (3, "rejected"), (4, None)]
    assert "malformed JSON" in rows[0]["reason"] and "UTF-8" in rows[2]["reason"]
    assert report.rows == 3 and report.records == 2


def test_truncated_gzip_is_reported(tmp_path):
    path = tmp_path / "in.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        for i in range(2000):
            fh.write(json.dumps({"prompt": f"q{i}", "chosen": "a" * 50, "rejected": "b"}) + "\n")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="damaged or truncated"):
        list(read_pairs(path))


def test_parquet_row_numbers_and_junk(tmp_path):
    write_pairs(read_pairs(_jsonl(tmp_path, [GOOD, GOOD | {"prompt": "q2"}])), tmp_path / "ok.parquet")
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(os.urandom(300))
    with pytest.raises(InputError, match="not a readable Parquet file"):
        list(read_pairs(junk))
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([GOOD, {"prompt": "q", "chosen": "a", "rejected": None}]), tmp_path / "bad.parquet")
    with pytest.raises(InputError) as info:
        list(read_pairs(tmp_path / "bad.parquet"))
    assert (info.value.row, info.value.field) == (1, "rejected")


def _jsonl(tmp_path, rows):
    path = tmp_path / "src.jsonl"
    _write_lines(path, rows)
    return path


def test_failed_conversion_leaves_nothing_behind(tmp_path):
    src = _jsonl(tmp_path, [GOOD] * 3 + [{"prompt": "q", "chosen": "a"}])
    for name in ("out.jsonl", "out.parquet", "out_ds"):
        with pytest.raises(InputError):
            write_pairs(read_pairs(src), tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src.jsonl"]


def test_existing_output_survives_a_failed_rewrite(tmp_path):
    out = tmp_path / "out.jsonl"
    write_pairs(read_pairs(_jsonl(tmp_path, [GOOD])), out)
    before = out.read_bytes()
    with pytest.raises(InputError):
        write_pairs(read_pairs(_jsonl(tmp_path, [GOOD, {"chosen": "x"}])), out)
    assert out.read_bytes() == before
