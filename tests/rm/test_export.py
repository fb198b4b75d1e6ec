"""What makes a saved RM score the same outside preflab (docs/reward-models.md#outside-preflab):
the rendering is the saved chat template, truncation follows the documented lines, the pad
token never ends a rendering, a template that cannot score is refused before training, and a
checkpoint that would score differently says so when it is saved. Plus the model card, the
evaluation results in it, and the preflab-only embedding head."""

from __future__ import annotations

import json
import logging
import shutil

import pytest

import preflab
from preflab.errors import ConfigError, InputError
from preflab.io import write_pairs
from preflab.io.outputs import MARKER
from preflab.provenance import file_fingerprint
from preflab.records import Message, text_prompt
from preflab.rm import card as card_module
from preflab.rm.backbone import load_backbone
from preflab.rm.card import CARD_FILE, EVALS_FILE, FIT_MARK
from preflab.rm.config import TrainConfig
from preflab.rm.export import conversation, outside_rewards
from preflab.rm.loading import load_scorer
from preflab.rm.render import Renderer
from preflab.rm.save import META_FILE, load_reward_model
from preflab.rm.trainer import train_reward_model

from .conftest import make_pairs

LONG = [Message(role="system", content="be brief"),
        Message(role="user", content="first question about the cat " * 4),
        Message(role="assistant", content="a long first answer about the mat " * 4),
        Message(role="user", content="second question about rain " * 3),
        Message(role="assistant", content="second answer about hills " * 3),
        Message(role="user", content="and the last question?")]


def _ids(tok, conv):
    return tok(tok.apply_chat_template(conv, tokenize=False), add_special_tokens=False)["input_ids"]


def test_encoder_rendering_is_a_one_segment_chat_template(tiny_encoder):
    bb = load_backbone(tiny_encoder)
    tok = bb.tokenizer
    r = Renderer(tok, 128, is_decoder=False)
    assert r.template == "plain" and tok.chat_template  # written onto the tokenizer, so it is saved
    prompt = [Message(role="user", content="hi"), Message(role="assistant", content="hello"),
              Message(role="user", content="name a prime")]
    conv = conversation(prompt, "Seven.")
    text = tok.apply_chat_template(conv, tokenize=False)
    assert text == "[CLS]User: hi\n\nAssistant: hello\n\nUser: name a prime\n\nAssistant:[SEP] Seven.[SEP]"
    e = r.encode_one(prompt, "Seven.")
    assert e.full(0) == _ids(tok, conv)
    assert e.prompt[0] == tok.cls_token_id and e.prompt[-1] == tok.sep_token_id
    assert e.responses[0][-1] == tok.sep_token_id


def test_chat_template_rendering_is_what_apply_chat_template_gives(tiny_decoder):
    bb = load_backbone(tiny_decoder)
    r = Renderer(bb.tokenizer, 256)
    for p in make_pairs(6, multi_turn=True):
        e = r.encode(p.prompt, (p.chosen, p.rejected))
        assert [e.full(i) for i in range(2)] == [_ids(bb.tokenizer, conversation(p.prompt, x)) for x in (p.chosen, p.rejected)]


@pytest.mark.parametrize("backbone", ["tiny_encoder", "tiny_decoder"])
def test_truncation_is_what_the_documented_lines_give(backbone, request):
    """preflab's rule for a conversation longer than max_length equals the card's ``fit`` lines."""
    bb = load_backbone(request.getfixturevalue(backbone))
    tok = bb.tokenizer
    r = Renderer(tok, 48, is_decoder=bb.is_decoder)
    namespace = {"tokenizer": tok}
    exec(card_module._FIT.format(mark=FIT_MARK, limit=48), namespace)  # the lines every card shows
    for prompt in (LONG, LONG[1:], LONG[:4] + LONG[5:]):
        for reply in ("ok", "a somewhat longer reply about quiet rivers"):
            e = r.encode_one(prompt, reply)
            assert e.truncated
            fitted = namespace["fit"](conversation(prompt, reply))
            assert len(fitted) < len(prompt) + 1 and fitted[-1]["content"] == reply
            assert e.full(0) == _ids(tok, fitted)
    assert [m["role"] for m in namespace["fit"](conversation(LONG, "ok"))][0] == "system"  # system turns stay


def _copy_with(tmp_path, folder, **tokenizer_changes):
    from transformers import AutoTokenizer

    target = tmp_path / "base"
    shutil.copytree(folder, target)
    tok = AutoTokenizer.from_pretrained(target)
    for key, value in tokenizer_changes.items():
        setattr(tok, key, value)
    tok.save_pretrained(target)
    return str(target)


def test_a_template_that_does_not_render_the_reply_is_refused_before_training(tiny_decoder, tmp_path):
    base = _copy_with(tmp_path, tiny_decoder,
                      chat_template="{% for m in messages %}{% if m['role'] == 'user' %}{{ m['content'] }}{% endif %}{% endfor %}")
    out = tmp_path / "rm"
    cfg = TrainConfig(model=base, max_length=64, batch_size=4, max_steps=1, progress=False, output_dir=str(out))
    with pytest.raises(ConfigError, match="does not render the assistant's reply"):
        train_reward_model(make_pairs(8), cfg)
    assert not out.exists()


def test_a_pad_token_that_ends_every_rendering_is_replaced(tiny_decoder, tmp_path):
    """The tiny template ends every turn with [SEP]; with pad = [SEP], transformers would read
    the reward one token early. Training picks another pad token, and the saved model agrees."""
    base = _copy_with(tmp_path, tiny_decoder, pad_token="[SEP]")
    out = tmp_path / "rm"
    cfg = TrainConfig(model=base, max_length=64, batch_size=4, max_steps=2, lr=1e-3, progress=False, output_dir=str(out))
    train_reward_model(make_pairs(8), cfg)
    meta = json.loads((out / META_FILE).read_text())
    assert "[SEP]" in meta["padding"] and meta["export"]["standard"], meta["export"]
    saved = json.loads((out / "tokenizer_config.json").read_text())
    assert saved["pad_token"] != "[SEP]"


def test_a_checkpoint_that_scores_differently_outside_says_so_at_save_time(tiny_decoder, tmp_path, monkeypatch, caplog):
    """Without the pad fix, the same model really scores differently in transformers: saving
    warns, and preflab_rm.json and the card record why."""
    monkeypatch.setattr("preflab.rm.export.standard_padding", lambda bb, renderer: None)
    base = _copy_with(tmp_path, tiny_decoder, pad_token="[SEP]")
    out = tmp_path / "rm"
    cfg = TrainConfig(model=base, max_length=64, batch_size=4, max_steps=2, lr=1e-3, progress=False, output_dir=str(out))
    with caplog.at_level(logging.WARNING, logger="preflab.rm.save"):
        res = train_reward_model(make_pairs(8), cfg)
    assert any("does not score the same outside preflab" in r.getMessage() for r in caplog.records)
    meta = json.loads((out / META_FILE).read_text())
    assert not meta["export"]["standard"] and "differ from preflab's" in meta["export"]["problems"][0]
    assert "does not score the same outside preflab" in (out / CARD_FILE).read_text()
    convs = [conversation(text_prompt("What is the capital of France?"), "Paris.")]
    ours = load_scorer(str(out)).score(text_prompt("What is the capital of France?"), ["Paris."])
    assert abs(outside_rewards(out, convs)[0] - ours[0]) > 1e-4  # the difference is real
    assert res.output_dir == str(out)  # the trained model is kept


@pytest.fixture
def saved_rm(tiny_encoder, tmp_path):
    train = tmp_path / "train.jsonl"
    write_pairs(make_pairs(12), train)
    out = tmp_path / "rm"
    preflab.train_rm(train, output_dir=out, model=tiny_encoder, max_length=64, batch_size=4, max_steps=2, lr=1e-3,
                     seed=3, progress=False)
    return out, train


def test_the_card_says_what_was_trained_and_how_to_load_it(saved_rm):
    out, train = saved_rm
    meta = json.loads((out / META_FILE).read_text())
    card = (out / CARD_FILE).read_text()
    assert meta["reward_mean"] is not None and meta["reward_std"] > 0 and meta["reward_stats_pairs"] == 12
    for text in (meta["data_fingerprint"], "12 pairs", "train.jsonl", "| seed | 3 |", "`finetune`", "an encoder",
                 "trained on up to 64 tokens; scored up to 512", f"{meta['reward_mean']:.4f}",
                 "### transformers", "### TRL", "### vLLM", "GRPOTrainer", "AutoModelForSequenceClassification",
                 "`preflab eval` has not been run"):
        assert text in card, text
    from transformers import AutoConfig

    assert AutoConfig.from_pretrained(out).num_labels == 1


def test_eval_adds_its_results_to_the_card(saved_rm, tmp_path):
    out, _ = saved_rm
    held = tmp_path / "held.jsonl"
    write_pairs(make_pairs(10, seed=8), held)
    before = file_fingerprint(out)
    result = preflab.evaluate(out, held, n_boot=50, progress=False)
    card = (out / CARD_FILE).read_text()
    assert result["card"] == str(out / CARD_FILE)
    assert f"| `held.jsonl` (`{file_fingerprint(held)}`) | 10 | {result['model']['accuracy']:.3f} |" in card
    assert file_fingerprint(out) == before  # evaluating a model does not change what it is
    preflab.evaluate(out, held, n_boot=50, progress=False)  # the same data again: replaced, not added
    assert len(json.loads((out / EVALS_FILE).read_text())) == 1
    assert EVALS_FILE in json.loads((out / MARKER).read_text())["entries"]
    other = tmp_path / "other.jsonl"
    write_pairs(make_pairs(6, seed=9), other)
    preflab.evaluate(out, other, n_boot=50, progress=False, card=False)
    assert "other.jsonl" not in (out / CARD_FILE).read_text()


def test_a_new_model_in_the_folder_does_not_inherit_old_results(saved_rm, tiny_encoder, tmp_path):
    out, train = saved_rm
    held = tmp_path / "held.jsonl"
    write_pairs(make_pairs(10, seed=8), held)
    preflab.evaluate(out, held, n_boot=50, progress=False)
    preflab.train_rm(train, output_dir=out, model=tiny_encoder, max_length=64, batch_size=4, max_steps=1,
                     progress=False, overwrite=True)
    assert not (out / EVALS_FILE).exists()
    assert "`preflab eval` has not been run" in (out / CARD_FILE).read_text()


def test_the_embedding_head_says_it_is_preflab_only(tiny_encoder, tmp_path, caplog, monkeypatch):
    from preflab.rm import embed_head

    monkeypatch.setattr(embed_head, "_SAID", set())
    out = tmp_path / "head"
    with caplog.at_level(logging.WARNING, logger="preflab.rm.embed_head"):
        preflab.train_rm(make_pairs(12), output_dir=out, cheap=True, model=tiny_encoder, epochs=20,
                         cache_dir=str(tmp_path / "emb"))
    assert any("preflab-only" in r.getMessage() for r in caplog.records)
    card = (out / CARD_FILE).read_text()
    assert "## preflab-only" in card and "cannot be loaded by transformers, TRL or vLLM" in card
    assert "library_name: transformers" not in card
    meta = json.loads((out / embed_head.HEAD_META).read_text())
    assert meta["reward_std"] > 0 and meta["n_train_pairs"] == 12
    p = make_pairs(1, seed=4)[0]
    raw = load_scorer(out).score(p.prompt, [p.chosen])[0]
    norm = load_scorer(out, normalize=True).score(p.prompt, [p.chosen])[0]
    assert norm == pytest.approx((raw - meta["reward_mean"]) / meta["reward_std"], abs=1e-5)


def test_a_format_1_encoder_checkpoint_is_refused_with_the_reason(saved_rm):
    out, _ = saved_rm
    meta = json.loads((out / META_FILE).read_text())
    (out / META_FILE).write_text(json.dumps({**meta, "format_version": 1}))
    with pytest.raises(InputError, match="format 1.*text pair with segment ids"):
        load_reward_model(out)


def test_the_docs_show_the_same_truncation_lines_as_the_card():
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "reward-models.md").read_text()
    start = docs.index("```python\ndef fit(") + len("```python\n")
    shown = docs[start:docs.index("```", start)]
    card = card_module._FIT.format(mark=FIT_MARK, limit=512)
    assert shown.strip() == card.split("\n", 1)[1].strip()


def test_scoring_a_conversation_longer_than_the_model_takes_warns_once(tiny_encoder, caplog):
    from preflab.rm.scorer import RewardModelScorer

    bb = load_backbone(tiny_encoder)
    scorer = RewardModelScorer(bb, Renderer(bb.tokenizer, 48, is_decoder=False))
    with caplog.at_level(logging.WARNING, logger="preflab.rm.scorer"):
        scorer.score_many([(text_prompt("short"), "ok")])
        assert not caplog.records
        scorer.score_many([(LONG, "ok"), (text_prompt("short"), "ok")])
        scorer.score_many([(LONG, "ok")])
    assert [r.getMessage()[:50] for r in caplog.records] == ["1 of 2 conversations are longer than the 48 tokens"]
