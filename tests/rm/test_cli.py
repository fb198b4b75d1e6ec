"""The train-rm / score / eval commands end to end on a tiny model, and config precedence."""

import json

import pytest
from typer.testing import CliRunner

import preflab
from preflab.cli.adapter import render
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
    assert "Length (words)" in res.output
    assert (tmp_path / "ev" / "eval.json").exists() and (tmp_path / "ev" / "reliability.png").exists()
    length = json.loads((tmp_path / "ev" / "eval.json").read_text())["model"]["length"]
    assert length["n"] == sum(b["n"] for b in length["by_ratio"]) > 0  # the ratio bins cover every pair


def test_bad_option_is_usage_error(tmp_path):
    write_pairs(make_pairs(4), tmp_path / "t.jsonl")
    res = runner.invoke(app, ["train-rm", str(tmp_path / "t.jsonl"), "--output-dir", str(tmp_path / "o"), "--precision", "fp8"])
    # main() turns this error into a one-line message with exit code 2 (usage)
    assert isinstance(res.exception, ConfigError) and res.exception.exit_code == 2
    assert "--precision must be one of" in render(res.exception)


def test_an_option_error_names_the_keyword_in_python_and_the_flag_in_the_shell(tmp_path):
    write_pairs(make_pairs(4), tmp_path / "t.jsonl")
    with pytest.raises(ConfigError) as info:
        preflab.train_rm(make_pairs(4), epochs=-1)
    assert "epochs must be > 0, got -1.0" in str(info.value) and "--epochs" not in str(info.value)
    res = runner.invoke(app, ["train-rm", str(tmp_path / "t.jsonl"), "--output-dir", str(tmp_path / "o"), "--epochs", "-1"])
    assert isinstance(res.exception, ConfigError) and res.exception.exit_code == 2
    assert "--epochs must be > 0, got -1.0" in render(res.exception)
    assert not (tmp_path / "o").exists()


def test_missing_output_dir(tmp_path):
    write_pairs(make_pairs(4), tmp_path / "t.jsonl")
    res = runner.invoke(app, ["train-rm", str(tmp_path / "t.jsonl")])
    assert res.exit_code != 0
    assert isinstance(res.exception, ConfigError) and "no output folder: pass --output-dir" in render(res.exception)


def test_cheap_honours_max_length_and_writes_run_json(tiny_encoder, tmp_path):
    """``train-rm --cheap`` used to build its head config from the model and seed only, so
    ``--max-length`` (and every loss option) was silently dropped."""
    train = tmp_path / "train.jsonl"
    write_pairs(make_pairs(12), train)
    out = tmp_path / "head"
    res = runner.invoke(app, ["train-rm", str(train), "--cheap", "--model", tiny_encoder, "--max-length", "32",
                              "--label-smoothing", "0.1", "--seed", "4", "--output-dir", str(out)])
    assert res.exit_code == 0, res.output
    saved = json.loads((out / "preflab_embed_head.json").read_text())["config"]
    assert saved["max_length"] == 32 and saved["label_smoothing"] == 0.1 and saved["seed"] == 4
    run = json.loads((out / "run.json").read_text())
    assert run["step"] == "train-rm" and run["config"]["recipe"] == "embed-head" and run["seed"] == 4
    assert run["inputs"]["pairs"]["path"] == str(train) and run["counts"]["pairs"] == 12


def test_cheap_refuses_options_it_cannot_honour(tmp_path):
    write_pairs(make_pairs(4), tmp_path / "t.jsonl")
    res = runner.invoke(app, ["train-rm", str(tmp_path / "t.jsonl"), "--cheap", "--contrastive", "pair", "--lora-r", "4",
                              "--lr", "-1", "--output-dir", str(tmp_path / "o")])
    assert isinstance(res.exception, ConfigError) and res.exception.exit_code == 2
    message = render(res.exception)
    assert "--contrastive: the embed-head recipe cannot honour" in message and "--lora-r: the embed-head" in message
    assert "--lr must be > 0" in message
    assert not (tmp_path / "o").exists()


def test_score_and_eval_write_run_json(tiny_encoder, tmp_path):
    train, val = tmp_path / "train.jsonl", tmp_path / "val.jsonl"
    write_pairs(make_pairs(12), train)
    write_pairs(make_pairs(6, seed=2), val)
    out = tmp_path / "head"
    assert runner.invoke(app, ["train-rm", str(train), "--cheap", "--model", tiny_encoder, "--output-dir", str(out)]).exit_code == 0
    res = runner.invoke(app, ["score", str(out), str(val), "-o", str(tmp_path / "scored.jsonl")])
    assert res.exit_code == 0, res.output
    run = json.loads((tmp_path / "scored.jsonl.run.json").read_text())
    assert run["step"] == "score" and run["counts"]["pairs"] == 6 and run["counts"]["degenerate_rows"] == {"empty_response": 0, "identical_skipped": 0} and set(run["inputs"]) == {"model", "input"}
    assert run["config"]["batch_size"] == 16 and "versions" in run and "seed" in run
    res = runner.invoke(app, ["eval", str(out), str(val), "-o", str(tmp_path / "ev"), "--bootstrap", "50", "--seed", "3"])
    assert res.exit_code == 0, res.output
    run = json.loads((tmp_path / "ev" / "run.json").read_text())
    assert run["step"] == "eval" and run["seed"] == 3 and run["config"]["bootstrap"] == 50
    assert run["inputs"]["input"]["fingerprint"] and run["counts"]["pairs"] == 6


def test_meta_set_writes_run_json(tmp_path):
    prompts = tmp_path / "p.txt"
    prompts.write_text("Name a bird.\nName a tree.\n")
    out = tmp_path / "meta.jsonl"
    res = runner.invoke(app, ["meta-set", "--prompts", str(prompts), "--out", str(out), "--llm", "fake", "--k", "2",
                              "--seed", "7", "--cache-path", str(tmp_path / "cache.sqlite")])
    assert res.exit_code == 0, res.output
    run = json.loads((tmp_path / "meta.jsonl.run.json").read_text())
    assert run["step"] == "meta-set" and run["seed"] == 7 and run["config"]["k"] == 2
    assert run["counts"]["prompts"] == 2 and run["inputs"]["prompts"]["fingerprint"] and run["generator"]["backend"] == "fake"
