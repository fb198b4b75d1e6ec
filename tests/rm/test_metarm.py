"""MetaRM wired into the trainer: the ascent step moves and restores θ, η = 0 is plain
training, η > 0 changes the result, and the objective is logged."""

import json

import pytest
import torch

from preflab.config import validate
from preflab.rm import TrainConfig, train_reward_model
from preflab.rm.metarm import difference_objective, read_meta_set

from .conftest import make_pairs


def test_difference_objective_by_hand():
    r = torch.tensor([[0.0, 1.0, 3.0]])
    sig = torch.sigmoid
    expected = (2 / 9) * (sig(torch.tensor(1.0)) + sig(torch.tensor(3.0)) + sig(torch.tensor(2.0)))
    assert float(difference_objective(r)) == pytest.approx(float(expected))


@pytest.fixture
def meta_file(tmp_path):
    path = tmp_path / "meta.jsonl"
    rows = [{"prompt": f"question {i}", "responses": [f"answer {i} a", f"answer {i} bb", f"answer {i} ccc"]} for i in range(6)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_meta_set_is_validated(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "q", "responses": ["only one"]}) + "\n")
    from preflab.errors import InputError

    with pytest.raises(InputError) as info:
        read_meta_set(bad)
    assert info.value.field == "responses" and info.value.line == 1


def _train(model, pairs, **kw):
    cfg = TrainConfig(model=model, max_length=64, batch_size=4, epochs=1, lr=1e-3, seed=0, progress=False, **kw)
    result = train_reward_model(pairs, cfg)
    return {k: v.detach().clone() for k, v in result.backbone.model.state_dict().items()}


def test_zero_step_is_plain_training_and_a_real_step_changes_it(tiny_encoder, meta_file, tmp_path):
    pairs = make_pairs(16)
    plain = _train(tiny_encoder, pairs)
    zero = _train(tiny_encoder, pairs, meta_set=str(meta_file), meta_lr=1e-12)
    meta = _train(tiny_encoder, pairs, meta_set=str(meta_file), meta_lr=1.0)
    assert all(torch.allclose(plain[k], zero[k], atol=1e-6) for k in plain)  # restore is exact
    assert any(not torch.allclose(plain[k], meta[k], atol=1e-6) for k in plain)
    assert all(torch.isfinite(v).all() for v in meta.values())


def test_margin_column_scales_the_gradient_as_the_formula_says(tiny_encoder):
    """For one pair, ∂ℓ/∂w of the reward head is −σ(−(Δ − m))·(h_c − h_r): a margin m changes the
    head's gradient by exactly σ(−(Δ − m)) / σ(−Δ), through the trainer's own step."""
    from preflab.rm.backbone import disable_dropout
    from preflab.rm.render import Renderer
    from preflab.rm.losses import loss_columns
    from preflab.rm.trainer import _prepare_model, _seed_everything, _Step, encode_pairs

    (pair,) = make_pairs(1)
    grads, deltas = {}, {}
    for m in (0.0, 2.5):
        cfg = validate(TrainConfig(model=tiny_encoder, max_length=64, seed=0, progress=False))
        _seed_everything(0)  # the same freshly initialised head both times
        bb, _, _ = _prepare_model(cfg)
        disable_dropout(bb.model)
        data = [pair.model_copy(update={"margin": m})]
        items = encode_pairs(Renderer(bb.tokenizer, cfg.max_length, cfg.template, bb.is_decoder), data)
        _, r = _Step(bb, cfg, loss_columns(data, cfg))(items, [0], 1.0, 2, 1)
        deltas[m] = float(r[0, 0] - r[0, 1])
        grads[m] = bb.head.weight.grad.detach().clone()
    assert deltas[0.0] == pytest.approx(deltas[2.5], abs=1e-6)
    d = torch.tensor(deltas[0.0])
    expected = torch.sigmoid(-(d - 2.5)) / torch.sigmoid(-d)
    # compared entry by entry up to 0.1% of the largest entry: the head's gradient is g·h_c − g·h_r,
    # and where the two CLS states are nearly equal its float32 entries lose relative precision
    scale = float(grads[0.0].abs().max())
    assert torch.allclose(grads[2.5], expected * grads[0.0], rtol=1e-3, atol=1e-3 * scale)
