"""Reading RewardBench rows: the two layouts, sniffing, hub-style splits, and bad rows named by
file, line or row, and field."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import preflab
from preflab.errors import ConfigError, InputError
from preflab.evaluation.rewardbench import V1_SUBSETS
from preflab.io.rewardbench import detect, read_benchmark

DATA = Path(__file__).parent / "data"
V1, PRIOR, V2 = DATA / "rewardbench_v1.jsonl", DATA / "rewardbench_prior_sets.jsonl", DATA / "rewardbench2.jsonl"


class RewardInText:
    def score(self, prompt, responses):
        return [float(re.search(r"\[r=(-?[\d.]+)\]", r).group(1)) for r in responses]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _v2_rows() -> list[dict]:
    return [json.loads(line) for line in V2.read_text().splitlines()]


def test_both_layouts_read_into_rows():
    v1 = read_benchmark(V1, "rewardbench")
    assert len(v1) == 7 and v1[0].completions == ("Paris is the capital of France. [r=2]", "Lyon. [r=1]")
    assert v1[0].num_correct == 1 and v1[0].id == "1" and v1[0].prompt[0].content == "What is the capital of France?"
    v2 = read_benchmark(V2, "rewardbench2")
    assert [len(r.completions) for r in v2][:2] == [4, 4] and v2[7].num_correct == 3 and v2[7].is_ties
    prior = read_benchmark(PRIOR, "rewardbench")
    assert [m.role for m in prior[2].prompt] == ["user", "assistant", "user"]


def test_the_benchmark_is_sniffed_from_the_columns_or_the_hub_name(tmp_path):
    assert detect(V1, V1_SUBSETS) == "rewardbench" and detect(V2, V1_SUBSETS) == "rewardbench2"
    assert detect("hf:allenai/reward-bench-2", V1_SUBSETS) == "rewardbench2"  # by name: nothing is loaded
    assert detect("hf:allenai/reward-bench", V1_SUBSETS) == "rewardbench"
    other = _write(tmp_path / "pairs.jsonl", [{"prompt": "q", "chosen": "a", "rejected": "b", "subset": "mine"}])
    assert detect(other, V1_SUBSETS) is None  # a subset column alone does not make RewardBench
    conversational = _write(tmp_path / "chat.jsonl", [{"prompt": [{"role": "user", "content": "q"}],
                                                       "chosen": [{"role": "assistant", "content": "a"}],
                                                       "rejected": [{"role": "assistant", "content": "b"}]}])
    assert detect(conversational, V1_SUBSETS) is None  # TRL's chat form is pairs


def test_a_pair_file_with_a_subset_column_is_still_evaluated_as_pairs(tmp_path):
    rows = [{"prompt": f"q{i}", "chosen": f"good {i} [r=1]", "rejected": "bad [r=0]", "subset": "mine"} for i in range(4)]
    result = preflab.evaluate(RewardInText(), _write(tmp_path / "p.jsonl", rows), n_boot=20, progress=False)
    assert "benchmark" not in result and result["model"]["accuracy"] == 1.0
    assert list(result["model"]["by_category"]) == ["mine"]


def test_an_explicit_format_reads_a_rewardbench_file_as_pairs():
    result = preflab.evaluate(RewardInText(), V1, fmt="rewardbench", n_boot=20, progress=False)
    assert "benchmark" not in result and result["model"]["n"] == 7
    assert result["model"]["accuracy"] == pytest.approx((4 + 0.5) / 7)  # pairwise: the tie counts half


@pytest.mark.parametrize("change, field, words", [
    ({"rejected": []}, "rejected", "fewer than two completions (1 chosen, 0 rejected)"),
    ({"chosen": [], "rejected": ["x [r=1]"], "num_correct": 0}, "chosen", "fewer than two completions"),
    ({"num_correct": 0}, "num_correct", "out of range: 0; a row of 4 completions has between 1 and 3"),
    ({"num_correct": 4}, "num_correct", "out of range: 4"),
    ({"num_correct": 2}, "num_correct", "2 correct completions, but chosen holds 1"),
    ({"num_correct": "one"}, "num_correct", "expected a whole number, got 'one'"),
    ({"num_correct": 1.5}, "num_correct", "expected a whole number"),
    ({"total_completions": 5}, "total_completions", "says 5, but the row has 4 completions"),
    ({"chosen": "Correct. [r=3]"}, "chosen", "expected a list of completions, got a string"),
    ({"rejected": ["a", 3, "b"]}, "rejected.1", "expected a string, got int"),
    ({"subset": None}, "subset", "missing required field"),
    ({"prompt": None}, "prompt", "missing required field"),
    ({"prompt": [{"role": "user"}]}, "prompt.0.content", "missing required field"),
])
def test_a_bad_v2_row_names_file_line_and_field(tmp_path, change, field, words):
    rows = _v2_rows()
    rows[2] = {**rows[2], **change}
    path = _write(tmp_path / "rb2.jsonl", rows)
    with pytest.raises(InputError) as err:
        read_benchmark(path, "rewardbench2")
    assert str(err.value).startswith(f"{path}:3: field {field}: ") and words in str(err.value), str(err.value)


def test_ties_ids_are_checked(tmp_path):
    rows = _v2_rows()
    rows[6] = {**rows[6], "id": "reference-0"}
    with pytest.raises(InputError, match=r":7: field id: a Ties row's id is ref:N or tied:N"):
        read_benchmark(_write(tmp_path / "a.jsonl", rows), "rewardbench2")
    rows = _v2_rows()
    rows[8] = {**rows[8], "id": "ref:0"}
    with pytest.raises(InputError, match=r":9: field id: Ties id 'ref:0' appears twice \(first at line 7\)"):
        read_benchmark(_write(tmp_path / "b.jsonl", rows), "rewardbench2")


def test_a_bad_v1_row_names_its_field(tmp_path):
    rows = [json.loads(line) for line in V1.read_text().splitlines()]
    rows[4] = {**rows[4], "rejected": ["a", "b"]}
    with pytest.raises(InputError, match=r":5: field rejected: expected a string, got list \(a RewardBench 2 row"):
        read_benchmark(_write(tmp_path / "v1.jsonl", rows), "rewardbench")
    rows[4] = {k: v for k, v in rows[4].items() if k != "subset"}
    with pytest.raises(InputError, match=r":5: field subset: missing required field"):
        read_benchmark(_write(tmp_path / "v1.jsonl", rows), "rewardbench")


def test_empty_and_identical_completions_are_scored_not_skipped(tmp_path):
    rows = [json.loads(line) for line in V1.read_text().splitlines()]
    rows[0] = {**rows[0], "rejected": ""}
    rows[1] = {**rows[1], "rejected": rows[1]["chosen"]}
    read = read_benchmark(_write(tmp_path / "v1.jsonl", rows), "rewardbench")
    assert len(read) == 7 and read[0].completions[1] == "" and read[1].completions[0] == read[1].completions[1]


def test_an_empty_input_is_an_error(tmp_path):
    (tmp_path / "e.jsonl").write_text("")
    with pytest.raises(InputError, match="no rewardbench2 rows"):
        read_benchmark(tmp_path / "e.jsonl", "rewardbench2")


def test_eval_stops_on_a_bad_row_before_loading_the_model(tmp_path):
    rows = _v2_rows()
    rows[1] = {**rows[1], "num_correct": 9}
    path = _write(tmp_path / "rb2.jsonl", rows)

    class Untouchable:
        def score(self, prompt, responses):
            raise AssertionError("scored before every row was checked")

    with pytest.raises(InputError, match=r"rb2\.jsonl:2: field num_correct: out of range: 9"):
        preflab.evaluate(Untouchable(), path, progress=False)


def test_option_clashes_are_named_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match=r"prior_sets belongs to RewardBench \(v1\); this input is rewardbench2"):
        preflab.evaluate(RewardInText(), V2, prior_sets=PRIOR, progress=False)
    with pytest.raises(ConfigError, match="benchmark reads the benchmark's own layout; drop fmt"):
        preflab.evaluate(RewardInText(), V2, benchmark="rewardbench2", fmt="pairs", progress=False)
    with pytest.raises(ConfigError, match="benchmark"):
        preflab.evaluate(RewardInText(), V2, benchmark="rewardbench3", progress=False)


def test_a_benchmark_asked_for_reads_that_layout(tmp_path):
    with pytest.raises(InputError, match=r":1: field chosen: expected a list of completions, got a string"):
        preflab.evaluate(RewardInText(), V1, benchmark="rewardbench2", progress=False)


def test_datasets_folders_pick_the_benchmark_split_and_prior_sets_name_their_subsets(tmp_path):
    datasets = pytest.importorskip("datasets")
    v1 = [json.loads(line) for line in V1.read_text().splitlines()]
    raw = v1 + [{**v1[0], "id": 99, "subset": "alpacaeval-easy"}]
    datasets.DatasetDict({"raw": datasets.Dataset.from_list(raw),
                          "filtered": datasets.Dataset.from_list(v1)}).save_to_disk(tmp_path / "rb")
    rows = read_benchmark(str(tmp_path / "rb"), "rewardbench")
    assert len(rows) == 7  # the filtered split
    assert len(read_benchmark(f"hf:{tmp_path / 'rb'}", "rewardbench", split="raw")) == 8
    with pytest.raises(InputError, match=r"no split 'dev'; this dataset has \['filtered', 'raw'\]"):
        read_benchmark(str(tmp_path / "rb"), "rewardbench", split="dev")
    prior = [json.loads(line) for line in PRIOR.read_text().splitlines()]
    splits = {"shp": [prior[0]], "summarize": [prior[1]], "pku_safer": [prior[2]]}
    datasets.DatasetDict({name: datasets.Dataset.from_list([{k: v for k, v in r.items() if k != "subset"} for r in rs])
                          for name, rs in splits.items()}).save_to_disk(tmp_path / "prior")
    rows = read_benchmark(str(tmp_path / "prior"), "rewardbench")
    assert [r.subset for r in rows] == ["shp", "summarize"]  # pku_* left out, as the benchmark does
    result = preflab.evaluate(RewardInText(), str(tmp_path / "rb"), prior_sets=str(tmp_path / "prior"), n_boot=20,
                              progress=False)
    assert result["model"]["prior_sets"]["score"] == 0.5


def test_a_hub_dataset_that_cannot_be_loaded_is_one_input_error(monkeypatch):
    pytest.importorskip("datasets")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(InputError, match=r"could not load dataset 'allenai/reward-bench-2' from the hub"):
        read_benchmark("hf:allenai/reward-bench-2", "rewardbench2")


def test_pairs_in_a_datasets_folder_are_still_pairs_and_take_a_split(tmp_path):
    datasets = pytest.importorskip("datasets")

    def split(n, tag):
        return datasets.Dataset.from_list([{"prompt": f"{tag} {i}?", "chosen": f"yes {i} [r=1]", "rejected": "no [r=0]"}
                                           for i in range(n)])

    datasets.DatasetDict({"train": split(3, "a")}).save_to_disk(tmp_path / "one")
    assert detect(str(tmp_path / "one"), V1_SUBSETS) is None  # read from train, as the pair reader does
    assert preflab.evaluate(RewardInText(), str(tmp_path / "one"), n_boot=10, progress=False)["model"]["n"] == 3
    datasets.DatasetDict({"train": split(3, "a"), "test": split(5, "b")}).save_to_disk(tmp_path / "two")
    result = preflab.evaluate(RewardInText(), str(tmp_path / "two"), split="test", n_boot=10, progress=False)
    assert "benchmark" not in result and result["model"]["n"] == 5
