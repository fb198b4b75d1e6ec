"""``preflab eval`` on RewardBench and RewardBench 2 files with a real (tiny) reward model: the
tables, eval.json, scores.jsonl (from which every score is recomputed) and run.json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from preflab.cli.adapter import render
from preflab.cli.main import app
from preflab.errors import ConfigError
from preflab.evaluation.rewardbench import score_rewardbench, score_rewardbench2
from preflab.io import write_pairs
from preflab.io.rewardbench import read_benchmark

from .conftest import make_pairs

DATA = Path(__file__).resolve().parents[1] / "evaluation" / "data"
runner = CliRunner()


@pytest.fixture(scope="module")
def trained_rm(tiny_encoder, tmp_path_factory):
    root = tmp_path_factory.mktemp("rb_rm")
    write_pairs(make_pairs(12), root / "train.jsonl")
    res = runner.invoke(app, ["train-rm", str(root / "train.jsonl"), "--model", tiny_encoder, "--epochs", "1",
                              "--max-length", "64", "--val-fraction", "0.25", "--output-dir", str(root / "rm")])
    assert res.exit_code == 0, res.output
    return root / "rm"


def _eval(trained_rm, tmp_path, *args):
    out = tmp_path / "ev"
    res = runner.invoke(app, ["eval", str(trained_rm), *map(str, args), "-o", str(out), "--bootstrap", "100"])
    assert res.exit_code == 0, res.output
    return res.output, json.loads((out / "eval.json").read_text()), out


def test_rewardbench_v1_with_prior_sets(trained_rm, tmp_path):
    output, result, out = _eval(trained_rm, tmp_path, DATA / "rewardbench_v1.jsonl", "--prior-sets",
                                DATA / "rewardbench_prior_sets.jsonl")
    assert "RewardBench" in output and "Chat Hard" in output and "overall" in output and "Prior Sets" in output
    assert "longer" in output and "all tied" in output and "partial run" in output
    model = result["model"]
    assert result["benchmark"] == "rewardbench" and set(model["sections"]) == {"Chat", "Chat Hard", "Safety",
                                                                               "Reasoning"}
    assert model["overall"]["with_prior_sets"] and 0.0 <= result["score"] <= 1.0
    scored = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    assert len(scored) == 10 and all(len(r["scores"]) == 2 for r in scored)
    rows = read_benchmark(DATA / "rewardbench_v1.jsonl", "rewardbench") + read_benchmark(
        DATA / "rewardbench_prior_sets.jsonl", "rewardbench")
    again = score_rewardbench(rows, [r["scores"] for r in scored], n_boot=100)
    assert again["overall"] == model["overall"] and again["subsets"] == model["subsets"]
    run = json.loads((out / "run.json").read_text())
    assert run["config"]["benchmark"] == "rewardbench" and set(run["inputs"]) == {"model", "input", "prior_sets"}
    assert run["counts"] == {"rows": 10, "completions": 20, "score": result["score"]}


def test_rewardbench2_is_sniffed(trained_rm, tmp_path):
    output, result, out = _eval(trained_rm, tmp_path, DATA / "rewardbench2.jsonl")
    assert "RewardBench 2" in output and "Ties" in output and "average of the six subsets" in output
    assert "partial run" not in output
    model = result["model"]
    assert list(model["subsets"]) == ["Factuality", "Focus", "Math", "Precise IF", "Safety", "Ties"]
    assert model["average"]["score"] == result["score"]
    scored = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    assert [r["result"] is None for r in scored] == [False] * 6 + [True] * 5  # Ties rows count through Ties
    again = score_rewardbench2(read_benchmark(DATA / "rewardbench2.jsonl", "rewardbench2"),
                               [r["scores"] for r in scored], n_boot=100)
    assert again["average"] == model["average"]


def test_a_bad_row_is_one_line_and_exit_1(trained_rm, tmp_path):
    rows = [json.loads(line) for line in (DATA / "rewardbench2.jsonl").read_text().splitlines()]
    rows[3]["chosen"] = []
    rows[3]["rejected"] = ["only one"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = subprocess.run([sys.executable, "-m", "preflab", "eval", str(trained_rm), str(bad), "-o",
                          str(tmp_path / "ev")], capture_output=True, text=True)
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert res.stderr.strip().splitlines()[-1] == (
        f"error: {bad}:4: field chosen: fewer than two completions (0 chosen, 1 rejected): a best-of-N row needs at "
        "least two")


def test_prior_sets_with_rewardbench2_is_a_usage_error_naming_the_flag(trained_rm, tmp_path):
    res = runner.invoke(app, ["eval", str(trained_rm), str(DATA / "rewardbench2.jsonl"), "--prior-sets",
                              str(DATA / "rewardbench_prior_sets.jsonl"), "-o", str(tmp_path / "ev")])
    assert isinstance(res.exception, ConfigError) and res.exception.exit_code == 2
    assert render(res.exception) == "--prior-sets belongs to RewardBench (v1); this input is rewardbench2"
    assert not (tmp_path / "ev").exists()


def test_benchmark_scores_go_into_the_model_card(trained_rm, tmp_path):
    """RewardBench scores are what a card's reader looks for: each benchmark gets its row (score,
    sections or subsets, the longer-wins baseline), replaced when the same file is scored again."""
    from preflab.rm.card import CARD_FILE, EVALS_FILE

    _, v1, _ = _eval(trained_rm, tmp_path / "a", DATA / "rewardbench_v1.jsonl")
    _, v2, _ = _eval(trained_rm, tmp_path / "b", DATA / "rewardbench2.jsonl")
    _eval(trained_rm, tmp_path / "c", DATA / "rewardbench2.jsonl")
    card = (trained_rm / CARD_FILE).read_text()
    assert "| RewardBench 2 | `rewardbench2.jsonl`" in card
    assert f"| {v2['score']:.3f} |" in card
    assert "Chat Hard " in card and "Precise IF " in card
    assert "partial" in card  # the v1 file has some subsets only: no overall score
    kept = [e for e in json.loads((trained_rm / EVALS_FILE).read_text()) if e.get("benchmark")]
    assert sorted(e["benchmark"] for e in kept) == ["rewardbench", "rewardbench2"]
    longer = v2["baselines"]["longer_response_wins"]["score"]
    assert f"longer wins {longer:.3f}" in card
