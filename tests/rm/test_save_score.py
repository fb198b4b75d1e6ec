"""Save → load gives identical scores; a lost head fails loudly; LoRA merge keeps scores;
the Scorer protocol and length-sorted scoring."""

import json
from pathlib import Path

import pytest
import torch

from preflab.rm.backbone import load_backbone
from preflab.rm.config import TrainConfig
from preflab.errors import HeadReinitialisedError
from preflab.rm.loading import load_scorer
from preflab.rm.save import META_FILE, load_reward_model
from preflab.rm.scorer import RewardModelScorer, Scorer, score_pairs
from preflab.rm.trainer import train_reward_model

from .conftest import make_pairs


@pytest.fixture(scope="module")
def trained(tiny_decoder, tmp_path_factory):
    out = tmp_path_factory.mktemp("rm") / "model"
    cfg = TrainConfig(model=tiny_decoder, max_length=64, batch_size=4, lr=1e-3, epochs=1, progress=False, output_dir=str(out))
    res = train_reward_model(make_pairs(16), cfg, val_pairs=make_pairs(8, seed=5))
    return res, out


def test_reload_scores_identical(trained):
    """A saved model scores as the trained one does after training: at the backbone's context
    length (512 here), not the training max_length (64), which only bounds training."""
    res, out = trained
    pairs = make_pairs(6, seed=9, multi_turn=True)
    before = score_pairs(RewardModelScorer(res.backbone, res.score_renderer), pairs)
    scorer = load_scorer(str(out))
    after = score_pairs(scorer, pairs)
    assert isinstance(scorer, Scorer)
    assert torch.allclose(torch.tensor(before), torch.tensor(after), atol=1e-5)
    meta = json.loads((out / META_FILE).read_text())
    assert meta["template"] == "chat" and meta["max_length"] == 64 and meta["score_max_length"] == 512
    assert meta["reward_std"] > 0 and meta["reward_stats_pairs"] == 16
    assert meta["training_config"]["lr"] == 1e-3


def test_changed_head_fails_loudly(trained, tmp_path):
    _, out = trained
    bb, renderer, meta = load_reward_model(out)
    with torch.no_grad():
        bb.head.weight.normal_()  # what a silent re-initialisation looks like
    bb.model.save_pretrained(tmp_path)
    bb.tokenizer.save_pretrained(tmp_path)
    (tmp_path / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(HeadReinitialisedError, match="re-initialised"):
        load_reward_model(tmp_path)


def test_base_model_is_not_a_reward_model(tiny_decoder, tmp_path):
    with pytest.raises(HeadReinitialisedError, match="no reward head"):
        load_backbone(tiny_decoder, new_head=False)


def test_lora_merge_then_reload_identical(tiny_encoder, tmp_path):
    out = tmp_path / "lora_rm"
    cfg = TrainConfig(model=tiny_encoder, max_length=64, batch_size=4, lr=5e-3, max_steps=3, progress=False,
                      lora_r=4, output_dir=str(out))
    res = train_reward_model(make_pairs(12), cfg)
    assert not hasattr(res.backbone.model, "peft_config")  # merged into a plain model
    pairs = make_pairs(5, seed=3)
    before = score_pairs(RewardModelScorer(res.backbone, res.renderer), pairs)
    after = score_pairs(load_scorer(str(out)), pairs)
    assert torch.allclose(torch.tensor(before), torch.tensor(after), atol=1e-5)
    base = load_backbone(tiny_encoder)
    assert not torch.equal(base.model.bert.encoder.layer[0].attention.self.query.weight,
                           res.backbone.model.bert.encoder.layer[0].attention.self.query.weight)


def test_sorted_and_unsorted_scoring_agree(trained):
    res, _ = trained
    items = [(p.prompt, r) for p in make_pairs(10, seed=4) for r in (p.chosen, p.rejected)]
    a = RewardModelScorer(res.backbone, res.renderer, batch_size=3, sort_by_length=True).score_many(items)
    b = RewardModelScorer(res.backbone, res.renderer, batch_size=3, sort_by_length=False).score_many(items)
    assert a == pytest.approx(b, abs=1e-5)


def test_representations_are_what_the_head_reads(trained):
    """The strength ``heads`` mode trains heads on these: for a decoder they are the head's input,
    so the RM's own head applied to them gives its scores back, in input order."""
    res, _ = trained
    items = [(p.prompt, r) for p in make_pairs(7, seed=3) for r in (p.chosen, p.rejected)]
    scorer = RewardModelScorer(res.backbone, res.renderer, batch_size=3)
    reps = scorer.represent_many(items)
    assert reps.shape == (14, res.backbone.hf_model.config.hidden_size)
    with torch.inference_mode():
        again = res.backbone.head(reps).squeeze(-1).tolist()
    assert again == pytest.approx(scorer.score_many(items), abs=1e-5)


def test_score_pairs_falls_back_to_score():
    class Length:
        def score(self, prompt, responses):
            return [float(len(r)) for r in responses]

    pairs = make_pairs(3)
    assert score_pairs(Length(), pairs) == [(float(len(p.chosen)), float(len(p.rejected))) for p in pairs]


def test_normalised_scores_use_saved_stats(trained):
    _, out = trained
    raw = load_scorer(str(out))
    norm = load_scorer(str(out), normalize=True)
    meta = json.loads((Path(out) / META_FILE).read_text())
    p = make_pairs(1)[0]
    r, n = raw.score(p.prompt, [p.chosen])[0], norm.score(p.prompt, [p.chosen])[0]
    assert n == pytest.approx((r - meta["reward_mean"]) / meta["reward_std"], abs=1e-5)


def test_model_names_resolve_to_alias_folder_path_or_hub_id(tmp_path, monkeypatch):
    from preflab.errors import ConfigError
    from preflab.rm.backbone import load_backbone, resolve_model

    assert resolve_model(str(tmp_path)) == str(tmp_path)
    assert resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"  # users pass hub ids
    with pytest.raises(ConfigError, match="neither an alias"):
        resolve_model("./no/such/folder")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no network here: a clear error, not a traceback
    with pytest.raises(ConfigError, match="cannot load model 'nobody-here/no-such-model'"):
        load_backbone("nobody-here/no-such-model")


def test_embedding_cache_passes_a_hub_id_through(tmp_path, monkeypatch):
    """A hub id is not a folder: it must reach from_pretrained as given, not as cwd/org/name."""
    import preflab.rm.embed_head as eh

    seen = []
    monkeypatch.setattr(eh, "_frozen_encoder", lambda where: seen.append(where) or (None, None))
    eh.EmbeddingCache("sentence-transformers/all-MiniLM-L6-v2", cache_dir=str(tmp_path))
    assert seen == ["sentence-transformers/all-MiniLM-L6-v2"]
