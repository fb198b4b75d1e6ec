"""A saved reward model scores 50 real HH pairs the same three ways, to 1e-4: ``preflab score``;
plain transformers (the model card's own lines, in a subprocess that cannot import preflab);
TRL's reward-function path (``GRPOTrainer`` with the model's path). For an RM whose training
max length fits every pair, for one trained at a max length that cut most of them, and, for
conversations longer than the backbone's context, by the documented rule (the card's ``fit``)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from preflab.cli.main import app
from preflab.io import read_pairs, write_pairs
from preflab.rm.config import TrainConfig
from preflab.rm.export import conversation
from preflab.rm.trainer import train_reward_model

from .outside import outside_scores

pytestmark = [pytest.mark.integration]

TOLERANCE = 1e-4
runner = CliRunner()


@pytest.fixture(scope="module")
def hh(shared_data):
    return list(read_pairs(shared_data / "hh_rlhf_harmless_base_test.jsonl.gz", "hh-rlhf"))


def _train(pairs, folder, model="minilm", max_length=512):
    cfg = TrainConfig(model=model, max_length=max_length, batch_size=4, max_steps=2, lr=1e-4, progress=False,
                      output_dir=str(folder))
    return train_reward_model(pairs, cfg)


@pytest.fixture(scope="module")
def minilm_rms(hh, tmp_path_factory):
    """Two MiniLM RMs trained on the same 8 pairs: at max length 512 (the context; every
    evaluated pair fits) and at 96 (training cut the conversations)."""
    root = tmp_path_factory.mktemp("outside")
    train = hh[1000:1008]
    return {length: (_train(train, root / f"rm{length}", max_length=length), root / f"rm{length}")
            for length in (512, 96)}


def _preflab_score(folder, pairs, work):
    """``preflab score`` on a pairs file: (scored rows, their conversations chosen-then-rejected)."""
    src, out = work / "pairs.jsonl", work / "scored.jsonl"
    write_pairs(pairs, src)
    res = runner.invoke(app, ["score", str(folder), str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    ours = [s for r in rows for s in (r["chosen_score"], r["rejected_score"])]
    scored = list(read_pairs(out))
    return ours, [conversation(p.prompt, r) for p in scored for r in (p.chosen, p.rejected)]


def _worst(a, b):
    assert len(a) == len(b)
    return max(abs(x - y) for x, y in zip(a, b))


@pytest.mark.parametrize("length", [512, 96])
def test_fifty_hh_pairs_score_the_same_three_ways(minilm_rms, hh, length, tmp_path):
    result, folder = minilm_rms[length]
    assert result.score_renderer.max_length == 512  # scored at MiniLM's context, whatever it trained at
    pairs = hh[:50]
    cut = [p for p in pairs if result.renderer.encode(p.prompt, (p.chosen, p.rejected)).truncated]
    if length == 96:
        assert len(cut) > 25  # training at 96 tokens cut most of these conversations
    else:
        assert not cut  # training at 512 cut none of them
    assert not any(result.score_renderer.encode_one(p.prompt, r).truncated for p in pairs for r in (p.chosen, p.rejected))
    ours, convs = _preflab_score(folder, pairs, tmp_path)
    assert len(convs) == 100
    theirs = outside_scores(folder, convs, tmp_path / "outside")
    assert _worst(ours, theirs["transformers"]) <= TOLERANCE
    assert _worst(ours, theirs["trl"]) <= TOLERANCE


def test_longer_than_the_context_follows_the_documented_rule(minilm_rms, hh, tmp_path):
    """HH conversations longer than MiniLM's 512 positions: preflab drops their oldest exchanges;
    the card's ``fit`` lines give the same rewards; TRL's path cannot score them at all."""
    result, folder = minilm_rms[512]
    renderer = result.score_renderer
    long = [p for p in hh[:600] if any(renderer.encode_one(p.prompt, r).truncated for r in (p.chosen, p.rejected))]
    assert len(long) >= 5
    ours, convs = _preflab_score(folder, long, tmp_path)
    theirs = outside_scores(folder, convs, tmp_path / "fit", fit=True)
    assert _worst(ours, theirs["transformers"]) <= TOLERANCE
    assert "trl_error" in theirs  # the whole conversation does not fit 512 positions


@pytest.mark.slow
def test_decoder_rm_scores_the_same_three_ways(hh, tmp_path):
    """SmolLM2 trained at max length 96 (the setting where scores differed by up to 1.88 when
    preflab scored at the training length): scored at its context, it agrees with both tools."""
    result, folder = _train(hh[1000:1004], tmp_path / "smol", model="smollm2", max_length=96), tmp_path / "smol"
    meta = json.loads((folder / "preflab_rm.json").read_text())
    assert meta["export"]["standard"] and meta["score_max_length"] == 8192
    def tokens(p):  # of the longer conversation, as scored
        return max(len(result.score_renderer.encode_one(p.prompt, r).full(0)) for r in (p.chosen, p.rejected))

    # short ones (a 135M decoder on 2 CPU cores), every one longer than the 96 tokens it trained on
    pairs = [p for p in hh[:50] if 96 < tokens(p) <= 256][:8]
    assert len(pairs) == 8
    ours, convs = _preflab_score(folder, pairs, tmp_path)
    theirs = outside_scores(folder, convs, tmp_path / "outside")
    assert _worst(ours, theirs["transformers"]) <= TOLERANCE
    assert _worst(ours, theirs["trl"]) <= TOLERANCE
