"""Issue 24: NaN and Infinity in any numeric field, lone surrogates and rows nested 100,000 deep
are row errors at read time (file, line, field), in every container and in memory; no writer
emits them; a column map that drops a column is refused."""

from __future__ import annotations

import json
import sys

import pytest

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parents[1] / "io"))
from safety_helpers import cli, tree  # noqa: E402

from preflab.errors import ConfigError, InputError  # noqa: E402
from preflab.io import ReadReport, read_pairs, read_prompts, write_pairs  # noqa: E402

GOOD = '{"prompt": "q", "chosen": "a", "rejected": "b"}'
NOT_FINITE = "is not a finite number"


def _file(tmp_path, bad: str, name="in.jsonl"):
    path = tmp_path / name
    path.write_text(GOOD + "\n" + bad + "\n" + GOOD.replace('"q"', '"q2"') + "\n")
    return path


@pytest.mark.parametrize(("bad", "field", "reason"), [
    ('{"prompt": "q", "chosen": "a", "rejected": "b", "weight": Infinity}', "weight", "Infinity " + NOT_FINITE),
    ('{"prompt": "q", "chosen": "a", "rejected": "b", "margin": NaN}', "margin", "NaN " + NOT_FINITE),
    ('{"prompt": "q", "chosen": "a", "rejected": "b", "chosen_score": -Infinity}', "chosen_score", "-Infinity " + NOT_FINITE),
    ('{"prompt": "q", "chosen": "a", "rejected": "b", "weight": 1e999}', "weight", "Infinity " + NOT_FINITE),
    ('{"prompt": "q", "chosen": "a", "rejected": "b", "provenance": {"scores": [1, NaN]}}', "provenance.scores.1",
     "NaN " + NOT_FINITE),
    ('{"prompt": "x\\ud800y", "chosen": "a", "rejected": "b"}', "prompt", "lone surrogate \\ud800"),
    ('{"prompt": "q", "chosen": "a\\udfffb", "rejected": "b"}', "chosen", "lone surrogate \\udfff"),
    ('{"prompt": "q", "chosen": "a", "rejected": "b", "x": ' + "[" * 100_000 + "]" * 100_000 + "}", None,
     "nested more than 100 levels deep"),
    ('{"prompt": "q", "chosen": "a", "rejected": "b", "x": ' + "[" * 500 + "]" * 500 + "}", "x.0.0",
     "nested more than 100 levels deep"),
])
def test_a_value_no_file_can_hold_is_a_row_error(tmp_path, bad, field, reason):
    path = _file(tmp_path, bad)
    with pytest.raises(InputError) as info:
        list(read_pairs(path))
    err = info.value
    assert (err.path, err.line, err.field) == (str(path), 2, field), str(err)
    assert reason in err.reason
    report = ReadReport()
    kept = list(read_pairs(path, strict=False, rejects=tmp_path / "rejects.jsonl", report=report))
    assert len(kept) == 2 and len(report.rejected) == 1
    json.loads((tmp_path / "rejects.jsonl").read_text())  # the rejects file itself is valid JSON


def test_a_valid_surrogate_pair_is_text(tmp_path):
    path = _file(tmp_path, '{"prompt": "smile \\ud83d\\ude00", "chosen": "a", "rejected": "b"}')
    assert [p.prompt[0].content for p in read_pairs(path)][1] == "smile \U0001F600"


def test_prompts_with_a_lone_surrogate_are_a_row_error(tmp_path):
    path = tmp_path / "prompts.jsonl"
    path.write_text('{"prompt": "fine"}\n{"prompt": "x\\ud800y"}\n')
    with pytest.raises(InputError, match=r"prompts.jsonl:2: field prompt: text holds a lone surrogate"):
        list(read_prompts(path))


@pytest.mark.parametrize("container", ["parquet", "memory", "json"])
def test_other_containers_refuse_them_too(tmp_path, container):
    rows = [{"prompt": "q", "chosen": "a", "rejected": "b", "margin": 0.5},
            {"prompt": "q2", "chosen": "a", "rejected": "b", "margin": float("nan")}]
    if container == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        source = tmp_path / "in.parquet"
        pq.write_table(pa.Table.from_pylist(rows), source)
    elif container == "json":
        source = tmp_path / "in.json"
        source.write_text(json.dumps(rows))  # Python writes the bare NaN token
    else:
        source = rows
    with pytest.raises(InputError) as info:
        list(read_pairs(source))
    assert info.value.row == 1 and info.value.field == "margin" and NOT_FINITE in info.value.reason


def test_train_rm_refuses_an_infinite_weight_instead_of_saving_a_nan_model(tmp_path, monkeypatch):
    """Used to exit 0 and save a model whose eval said accuracy 0.000, mean Δ nan."""
    monkeypatch.chdir(tmp_path)
    rows = [{"prompt": f"q{i}", "chosen": f"good answer {i}", "rejected": f"bad {i}"} for i in range(8)]
    lines = [json.dumps(r) for r in rows]
    lines[3] = lines[3][:-1] + ', "weight": Infinity}'
    (tmp_path / "e.jsonl").write_text("\n".join(lines) + "\n")
    result = cli("train-rm", "e.jsonl", "--cheap", "--output-dir", "rm")
    assert result.code == 1 and "e.jsonl:4: field weight: Infinity is not a finite number" in result.output
    assert not (tmp_path / "rm").exists()


@pytest.mark.parametrize("bad", ['{"prompt": "x\\ud800y", "chosen": "a", "rejected": "b"}',
                                 '{"prompt": "q", "chosen": "a", "rejected": "b", "margin": NaN}'])
def test_convert_and_validate_rejects_stop_at_the_row_instead_of_crashing(tmp_path, monkeypatch, bad):
    """Lone surrogates used to pass validate, then crash convert and validate --rejects with
    UnicodeEncodeError; NaN used to be written as a bare token."""
    monkeypatch.chdir(tmp_path)
    path = _file(tmp_path, bad)
    for argv in (["data", "validate", path], ["data", "convert", path, "out.jsonl"]):
        result = cli(*argv)
        assert result.code == 1 and f"{path}:2: field" in result.output, result.output
    assert not (tmp_path / "out.jsonl").exists()
    result = cli("data", "validate", path, "--lenient", "--rejects", "rejects.jsonl")
    assert result.exception is None, result.exception
    assert json.loads((tmp_path / "rejects.jsonl").read_text())["line"] == 2
    result = cli("data", "convert", path, "out.jsonl", "--lenient")
    assert result.code == 0, result.output
    for line in (tmp_path / "out.jsonl").read_text().splitlines():
        json.loads(line, parse_constant=lambda token: pytest.fail(f"{token} written"))


def test_generate_stops_at_a_prompt_with_a_lone_surrogate(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PREFLAB_CACHE", str(tmp_path / "cache"))
    (tmp_path / "p.jsonl").write_text('{"prompt": "fine"}\n{"prompt": "x\\ud800y"}\n')
    result = cli("generate", "rlcd", "--prompts", "p.jsonl", "--llm", "fake", "--out", "pairs.jsonl")
    assert result.code == 1 and "p.jsonl:2: field prompt: text holds a lone surrogate" in result.output, result.output
    assert not (tmp_path / "pairs.jsonl").exists()


@pytest.mark.parametrize("name", ["out.jsonl", "out.parquet", "out"])
def test_no_writer_emits_nan_or_infinity(tmp_path, name):
    from preflab.errors import WriteError
    from preflab.records import PreferencePair, text_prompt

    pairs = [PreferencePair(prompt=text_prompt("q"), chosen="a", rejected="b"),
             PreferencePair(prompt=text_prompt("q2"), chosen="a", rejected="b", provenance={"raw": float("nan")}),
             PreferencePair.model_construct(prompt=text_prompt("q3"), chosen="a", rejected="b", id="x", flipped=False,
                                            provenance={}, chosen_score=float("inf"))]
    for bad, field in ((pairs[:2], "provenance.raw"), ([pairs[0], pairs[2]], "chosen_score")):
        with pytest.raises(WriteError, match=rf"{name}: row 1: field {field}: (NaN|Infinity) is not a finite number"):
            write_pairs(bad, tmp_path / name)
        assert list(tmp_path.iterdir()) == []


def test_records_refuse_non_finite_numbers_in_python_too():
    from preflab.records import PreferencePair, text_prompt

    with pytest.raises(ValueError, match="finite"):
        PreferencePair(prompt=text_prompt("q"), chosen="a", rejected="b", weight=float("nan"))


def test_run_records_write_an_undefined_number_as_null(tmp_path):
    from preflab.provenance import run_record, write_run_json

    path = write_run_json(tmp_path / "run.json", run_record("eval", {}, counts={"accuracy": float("nan")}))
    assert json.loads(path.read_text(), parse_constant=lambda t: pytest.fail(t))["counts"]["accuracy"] is None


@pytest.mark.parametrize("spec", ["a=chosen,b=chosen", "a=chosen, a=rejected", "=chosen"])
def test_a_column_map_that_would_drop_a_column_is_refused_before_any_work(tmp_path, monkeypatch, spec):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.jsonl").write_text('{"prompt": "q", "a": "x", "b": "y", "rejected": "z"}\n')
    before = tree(tmp_path)
    for argv in (["data", "convert", "in.jsonl", "out.jsonl"], ["data", "split", "in.jsonl", "--out-dir", "split"]):
        result = cli(*argv, "--column-map", spec)
        assert result.code == 2 and "--column-map" in result.output, result.output
    assert tree(tmp_path) == before
    with pytest.raises(ConfigError, match="column_map"):
        list(read_pairs(tmp_path / "in.jsonl", column_map=spec))


def test_a_renamed_column_that_lands_on_an_existing_one_is_a_row_error(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"prompt": "q", "good": "x", "chosen": "y", "rejected": "z"}\n')
    with pytest.raises(InputError, match="'good' and 'chosen' would both become 'chosen'") as info:
        list(read_pairs(path, column_map="good=chosen"))
    assert info.value.line == 1


@pytest.mark.parametrize(("text", "lone"), [
    ('"a \\ud83d\\ude42 b"', False), ('"\\uD83D\\uDE00\\ud83d\\ude42"', False), ('"\\u6570"', False),
    ('"x\\ud800y"', True), ('"x\\ud800"', True), ('"x\\udc00"', True), ('"\\udc00\\ud800"', True),
    ('"\\ud800\\ud800\\udc00"', True), ('"\\\\\\\\ud83d\\ude00"', True), ('"\\ud83d\\ude42\\ud800"', True),
])
def test_the_json_reader_finds_exactly_the_lone_surrogates(text, lone):
    from preflab.io import portable

    if lone:
        with pytest.raises(portable.Unportable, match="lone surrogate"):
            portable.loads(text)
    else:
        assert portable.loads(text) == json.loads(text)
