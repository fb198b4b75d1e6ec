"""Issue 24 §3: `preflab report` on a results.json with the right keys but wrong shapes is one
line naming the file and what is wrong (it was a KeyError traceback); nothing is written."""

from __future__ import annotations

import json

import pytest

from safety_helpers import cli, tree

GOOD = {"name": "t", "table": {"base-only": {"e": {"accuracy": 0.6, "ci95": [0.5, 0.7], "seeds": 1, "seed_std": 0.0},
                                             "_train_pairs": 10}},
        "baselines": {"longer-wins": {"e": {"accuracy": 0.5, "ci95": [0.4, 0.6], "seeds": 0, "seed_std": 0.0}}},
        "methods": {}, "eval_sets": {"e": 30}, "steps": {"reused": [], "ran": ["data"]}, "wall_s": 1.0}


def _broken(**change):
    data = json.loads(json.dumps(GOOD))
    for key, value in change.items():
        data[key] = value
    return data


@pytest.mark.parametrize(("results", "expected"), [
    (_broken(table=[], methods=[], steps=[]), "field table: expected an object, got a list"),
    (_broken(eval_sets={"e": "thirty"}), "field eval_sets.e: expected a whole number, got text"),
    (_broken(steps={"reused": []}), "field steps.ran: expected a list, got null"),
    (_broken(table={"base-only": [1, 2]}), "field table.base-only: expected an object, got a list"),
    (_broken(table={"base-only": {"e": {"accuracy": 0.6}}}), "a value lacks its 'ci95'"),
    (_broken(table={"base-only": {"e": {"accuracy": "high", "ci95": [0.5, 0.7]}}}), "a value has the wrong shape"),
    ({k: v for k, v in GOOD.items() if k != "eval_sets"}, "missing eval_sets"),
])
def test_report_on_results_of_the_wrong_shape_is_one_line(tmp_path, results, expected):
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text(json.dumps(results))
    before = tree(tmp_path)
    result = cli("report", run)
    assert result.code == 1, (result.output, result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {run / 'results.json'}: not a bench results file ("), lines
    assert expected in lines[0] and "rerun `preflab bench CONFIG" in lines[0]
    assert tree(tmp_path) == before


def test_a_good_results_file_still_makes_the_page(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text(json.dumps(GOOD))
    result = cli("report", run)
    assert result.code == 0, (result.output, result.exception)
    assert "base-only" in (run / "report.html").read_text()
