"""Adapters on the real data in ../shared/data and on small files written here."""

import json

import pytest

from preflab.io import ReadReport, read_pairs, read_prompts, write_prompts
from preflab.io.sources import parse_transcript

pytestmark = pytest.mark.integration

# 1-based lines of the harmless-base test split whose transcripts diverge before their last
# assistant turn (found by hand: the prefix up to the last "\n\nAssistant:" differs).
HH_MISMATCH_LINES = [1255, 1689, 1951, 1953, 2037]


def test_hh_rlhf_harmless_reads_all_pairs_and_reports_prefix_mismatches(shared_data):
    report = ReadReport()
    pairs = list(read_pairs(shared_data / "hh_rlhf_harmless_base_test.jsonl.gz", report=report))
    assert report.format == "hh-rlhf"
    assert len(pairs) == 2312 and report.rows == 2312 and not report.rejected
    expected_ids = [pairs[line - 1].id for line in HH_MISMATCH_LINES]
    assert report.notes.counts["hh_prefix_mismatch"] == 5
    assert report.notes.ids["hh_prefix_mismatch"] == expected_ids
    assert all(pairs[line - 1].provenance["hh_prefix"] == "mismatch" for line in HH_MISMATCH_LINES)
    assert sum("hh_prefix" in p.provenance for p in pairs) == 5
    first = pairs[0]
    assert [m.role for m in first.prompt] == ["user", "assistant", "user", "assistant", "user"]
    assert first.prompt[0].content == "what are some pranks with a pen i can do?"
    assert first.chosen.startswith("No, sorry!")
    # four preferred replies are empty in the real data: kept and reported
    assert report.notes.counts["empty_response"] == 4


def test_pandalm_majority_pairs(shared_data):
    report = ReadReport()
    pairs = list(read_pairs(shared_data / "pandalm_testset_v1.json", report=report))
    assert report.format == "pandalm"
    assert len(pairs) == 894
    assert sum(p.provenance["agreement"] == "unanimous" for p in pairs) == 794
    assert report.notes.counts["pandalm_tie"] + report.notes.counts["pandalm_no_majority"] == 999 - 894
    raw = json.loads((shared_data / "pandalm_testset_v1.json").read_text())
    by_idx = {r["idx"]: r for r in raw}
    for pair in pairs[:50]:
        row = by_idx[pair.provenance["source_index"]]
        label = pair.provenance["chosen_position"]
        assert sorted(pair.provenance["votes"]) == sorted([row["annotator1"], row["annotator2"], row["annotator3"]])
        assert pair.provenance["votes"].count(label) >= 2
        assert pair.chosen == str(row[f"response{label}"])


def test_arena_hard_prompts(shared_data, tmp_path):
    prompts = list(read_prompts(shared_data / "arena_hard_v0.1_questions.jsonl"))
    assert len(prompts) == 500
    assert prompts[0].id == "328c149ed45a41c0b9d6f14659e63599"
    assert prompts[0].category == "arena-hard-v0.1"
    assert prompts[0].provenance["extra"]["cluster"] == "ABC Sequence Puzzles & Groups"
    write_prompts(prompts, tmp_path / "p.parquet")
    assert list(read_prompts(tmp_path / "p.parquet")) == prompts


def test_prompts_from_a_pair_file_are_distinct(shared_data):
    prompts = list(read_prompts(shared_data / "hh_rlhf_harmless_base_test.jsonl.gz"))
    assert len(prompts) == len({p.id for p in prompts}) == 2310


def test_plain_text_prompts(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("Write a haiku.\n\n  \nExplain DNS to a child.\n")
    prompts = list(read_prompts(path))
    assert [p.prompt[-1].content for p in prompts] == ["Write a haiku.", "Explain DNS to a child."]


def test_rewardbench_subset_becomes_category(tmp_path):
    path = tmp_path / "rb.jsonl"
    path.write_text(json.dumps({"prompt": "q", "chosen": "a", "rejected": "b", "subset": "xstest", "id": 7}) + "\n")
    (pair,) = read_pairs(path, fmt="rewardbench")
    assert pair.category == "xstest"
    assert pair.id == "7" and "extra" not in pair.provenance


def test_openrlhf_style_keys_with_column_map(tmp_path):
    path = tmp_path / "o.jsonl"
    path.write_text(json.dumps({"question": "q", "answer_good": "a", "answer_bad": "b", "lang": "en"}) + "\n")
    (pair,) = read_pairs(path, column_map="question=prompt,answer_good=chosen,answer_bad=rejected")
    assert (pair.prompt[0].content, pair.chosen, pair.rejected) == ("q", "a", "b")
    assert pair.provenance["extra"] == {"lang": "en"}


def test_transcript_parsing_keeps_inner_spacing():
    msgs = parse_transcript("\n\nHuman:  two spaces\n\nAssistant: ok\nline2")
    assert [(m.role, m.content) for m in msgs] == [("user", " two spaces"), ("assistant", "ok\nline2")]


def test_real_empty_responses_survive_a_round_trip(shared_data, tmp_path):
    from preflab.io import write_pairs

    pairs = list(read_pairs(shared_data / "pandalm_testset_v1.json"))
    empty = [p for p in pairs if not p.rejected.strip() or not p.chosen.strip()]
    assert empty and all(p.provenance["empty_response"] for p in empty)
    write_pairs(pairs, tmp_path / "p.parquet")
    assert list(read_pairs(tmp_path / "p.parquet")) == pairs
