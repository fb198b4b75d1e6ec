"""MetaRM wired into the trainer: the ascent step moves and restores θ, η = 0 is plain
training, η > 0 changes the result, and the objective is logged."""

import json

import pytest
import torch

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
