"""Issue 12 §4: real evaluation sets with degenerate rows (empty responses, identical pairs)
evaluate; the rows are counted in eval.json and the summary; train-rm takes them with --lenient."""

from __future__ import annotations

import json

import pytest
from safety_helpers import cli

from preflab import io

NOTE = "degenerate rows: 1 with an empty response (kept), 2 with identical responses (skipped)"


def _with_degenerate_rows(path):
    rows = [{"prompt": f"question {i}", "chosen": f"a careful, complete answer {i}", "rejected": f"no {i}"}
            for i in range(16)]
    rows.insert(3, {"prompt": "say something", "chosen": "something useful", "rejected": ""})
    rows.insert(7, {"prompt": "repeat", "chosen": "same words", "rejected": "same words"})
    rows.insert(9, {"prompt": "both empty", "chosen": "", "rejected": ""})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_reader_rule_keeps_empty_responses_and_skips_identical_pairs(tmp_path):
    path = _with_degenerate_rows(tmp_path / "eval.jsonl")
    with pytest.raises(Exception, match="response is empty"):
        list(io.read_pairs(path))  # strict reading still refuses them
    report = io.ReadReport()
    pairs = list(io.read_pairs(path, degenerate=True, report=report))
    assert len(pairs) == 17 and io.degenerate_counts(report) == {"empty_response": 1, "identical_skipped": 2}
    empty = [p for p in pairs if p.rejected == ""]
    assert len(empty) == 1 and empty[0].provenance["empty_response"] is True
    out = tmp_path / "out.jsonl"  # and the kept pair writes and reads back
    io.write_pairs(pairs, out)
    assert len(list(io.read_pairs(out))) == 17


@pytest.mark.slow
@pytest.mark.integration
def test_train_eval_score_on_a_set_with_degenerate_rows(tmp_path):
    pytest.importorskip("torch")
    data = _with_degenerate_rows(tmp_path / "eval.jsonl")
    model = tmp_path / "rm"
    strict = cli("train-rm", data, "--cheap", "--output-dir", model)
    assert strict.code == 1 and "response is empty" in strict.output
    result = cli("train-rm", data, "--cheap", "--lenient", "--output-dir", model)
    assert result.code == 0, (result.output, result.exception)
    assert NOTE in " ".join(result.output.split())

    result = cli("eval", model, data, "--output-dir", tmp_path / "ev", "--bootstrap", "50")
    assert result.code == 0, (result.output, result.exception)
    assert NOTE in " ".join(result.output.split())
    report = json.loads((tmp_path / "ev" / "eval.json").read_text())
    assert report["degenerate_rows"] == {"empty_response": 1, "identical_skipped": 2}
    assert report["model"]["n"] == 17

    result = cli("score", model, data, "--output", tmp_path / "scored.jsonl")
    assert result.code == 0, (result.output, result.exception)
    assert "Scoring pairs" in result.output and NOTE in " ".join(result.output.split())  # and the progress bar
    scored = list(io.read_pairs(tmp_path / "scored.jsonl"))
    assert len(scored) == 17 and all(p.chosen_score is not None for p in scored)


def test_help_states_the_rule():
    for command in ("eval", "score"):
        text = " ".join(cli(command, "--help").output.split())
        assert "empty response are scored" in text and "identical cannot be decided and are skipped" in text
    assert "--lenient" in cli("train-rm", "--help").output
