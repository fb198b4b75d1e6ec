"""Rendering, truncation and batching, and prefix sharing equal to the full forward."""

import pytest
import torch

from preflab.errors import ConfigError
from preflab.records import Message
from preflab.rm.backbone import load_backbone
from preflab.rm.batching import length_grouped_batches, pad_left, pad_right, split_by_length
from preflab.rm.forward import rewards_full, rewards_shared
from preflab.rm.render import Renderer

from .conftest import make_pairs


def test_length_grouped_batches_sorted_and_seeded():
    lengths = [50, 3, 40, 7, 45, 2, 41, 8]
    a = length_grouped_batches(lengths, 2, seed=1)
    assert sorted(i for b in a for i in b) == list(range(8))
    assert all(abs(lengths[b[0]] - lengths[b[1]]) <= 10 for b in a)  # neighbours in length
    assert a == length_grouped_batches(lengths, 2, seed=1)


def test_split_by_length_minimises_padding_plus_overhead():
    lengths = [100, 95, 60, 58, 10]
    # overhead 20: pad 5 + 2 tokens and pay 2 extra forwards (cost 370) beats one group (500)
    assert split_by_length(lengths, 20) == [[0, 1], [2, 3], [4]]
    assert split_by_length(lengths, 1000) == [[0, 1, 2, 3, 4]]
    assert split_by_length(lengths, float("inf")) == [[0, 1, 2, 3, 4]]


def test_padding_helpers():
    p = pad_right([[1, 2, 3], [4]], 0, prompt_lens=[1, 0])
    assert p.input_ids.tolist() == [[1, 2, 3], [4, 0, 0]]
    assert p.token_type_ids.tolist() == [[0, 1, 1], [1, 0, 0]]
    q = pad_left([[1, 2, 3], [4]], 0)
    assert q.input_ids.tolist() == [[1, 2, 3], [0, 0, 4]] and q.attention_mask.tolist() == [[1, 1, 1], [0, 0, 1]]


def test_plain_template_for_encoder_keeps_cls_and_response(tiny_encoder):
    bb = load_backbone(tiny_encoder)
    r = Renderer(bb.tokenizer, 40, is_decoder=False)
    assert r.template == "plain"
    long_prompt = [Message(role="user", content="old " * 50), Message(role="assistant", content="fine"),
                   Message(role="user", content="what now " * 30)]
    e = r.encode(long_prompt, ["short answer", "a longer answer here"])
    assert e.truncated
    assert all(len(e.full(i)) <= 40 for i in range(2))
    assert e.prompt[0] == bb.tokenizer.cls_token_id and e.prompt[-1] == bb.tokenizer.sep_token_id
    text = bb.tokenizer.decode(e.responses[1])
    assert "a longer answer here" in text  # the response survives whole


def test_truncation_drops_oldest_turns_first(tiny_decoder):
    bb = load_backbone(tiny_decoder)
    r = Renderer(bb.tokenizer, 48)
    assert r.template == "chat"
    prompt = [Message(role="system", content="be kind"), Message(role="user", content="first question " * 6),
              Message(role="assistant", content="first answer " * 6), Message(role="user", content="last question")]
    e = r.encode(prompt, ["ok"])
    text = bb.tokenizer.decode(e.prompt)
    assert "be kind" in text and "last question" in text and "first" not in text
    assert len(e.full(0)) <= 48


def test_bad_template_and_length_fail_fast(tiny_encoder):
    bb = load_backbone(tiny_encoder)
    with pytest.raises(ConfigError, match="no chat template"):
        Renderer(bb.tokenizer, 64, "chat", is_decoder=False)
    with pytest.raises(ConfigError):
        Renderer(bb.tokenizer, 8)


def test_prefix_sharing_equals_full_forward_and_backprops(tiny_decoder):
    bb = load_backbone(tiny_decoder)
    bb.model.eval()
    r = Renderer(bb.tokenizer, 64)
    pairs = make_pairs(6, multi_turn=True)
    items = [r.encode(p.prompt, (p.chosen, p.rejected)) for p in pairs]
    assert len({len(e.prompt) for e in items}) > 1  # prompts of different lengths (left padding used)
    full, _ = rewards_full(bb, items, group_overhead=0)
    shared, _ = rewards_shared(bb, items)
    assert torch.allclose(full, shared, atol=1e-5)
    shared.sum().backward()
    assert bb.model.model.embed_tokens.weight.grad.abs().sum() > 0


def test_length_groups_do_not_change_rewards(tiny_encoder):
    bb = load_backbone(tiny_encoder)
    bb.model.eval()
    r = Renderer(bb.tokenizer, 64, is_decoder=False)
    items = [r.encode(p.prompt, (p.chosen, p.rejected)) for p in make_pairs(5)]
    one, _ = rewards_full(bb, items, group_overhead=float("inf"))
    many, _ = rewards_full(bb, items, group_overhead=0)
    assert torch.allclose(one, many, atol=1e-5)
