"""The train-rm / score / eval commands end to end on a tiny model, and config precedence."""

import json

from typer.testing import CliRunner

from preflab.cli.main import app
from preflab.errors import ConfigError
from preflab.io import write_pairs

from .conftest import make_pairs

runner = CliRunner()


def test_train_score_eval(tiny_encoder, tmp_path):
    train, val = tmp_path / "train.jsonl", tmp_path / "val.jsonl"
    write_pairs(make_pairs(16), train)
    write_pairs(make_pairs(8, seed=7), val)
    (tmp_path / "cfg.yaml").write_text(f"model: {tiny_encoder}\nmax-length: 64\nbatch_size: 4\nlr: 0.5\nprogress: false\n")
    out = tmp_path / "rm"
    res = runner.invoke(app, ["train-rm", str(train), "--val", str(val), "--config", str(tmp_path / "cfg.yaml"),
                              "--lr", "0.002", "--output-dir", str(out)])
    assert res.exit_code == 0, res.output
    meta = json.loads((out / "preflab_rm.json").read_text())
    assert meta["training_config"]["lr"] == 0.002  # the flag beats the file
    assert meta["training_config"]["batch_size"] == 4  # the file beats the default
    assert (tmp_path / "rm.metrics.jsonl").exists()

    scored = tmp_path / "scored.jsonl"
    res = runner.invoke(app, ["score", str(out), str(val), "-o", str(scored)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in scored.read_text().splitlines()]
    assert len(rows) == 8 and all(isinstance(r["chosen_score"], float) for r in rows)

    multi = tmp_path / "multi.jsonl"
    multi.write_text(json.dumps({"prompt": "hi", "responses": ["a", "b", "c"]}) + "\n")
    res = runner.invoke(app, ["score", str(out), str(multi), "-o", str(tmp_path / "multi_scored.jsonl")])
    assert res.exit_code == 0, res.output
    assert len(json.loads((tmp_path / "multi_scored.jsonl").read_text())["scores"]) == 3

    res = runner.invoke(app, ["eval", str(out), str(val), "-o", str(tmp_path / "ev"), "--bootstrap", "50"])
    assert res.exit_code == 0, res.output
    assert "longer_response_wins" in res.output
    assert (tmp_path / "ev" / "eval.json").exists() and (tmp_path / "ev" / "reliability.png").exists()


def test_bad_option_is_usage_error(tmp_path):
    write_pairs(make_pairs(4), tmp_path / "t.jsonl")
    res = runner.invoke(app, ["train-rm", str(tmp_path / "t.jsonl"), "--output-dir", str(tmp_path / "o"), "--precision", "fp8"])
    # main() turns this error into a one-line message with exit code 2 (usage)
    assert isinstance(res.exception, ConfigError) and res.exception.exit_code == 2
    assert "precision must be one of" in str(res.exception)


def test_missing_output_dir(tmp_path):
    write_pairs(make_pairs(4), tmp_path / "t.jsonl")
    res = runner.invoke(app, ["train-rm", str(tmp_path / "t.jsonl")])
    assert res.exit_code != 0
