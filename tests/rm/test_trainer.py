"""Training on tiny random models: parameters change, loss is finite, accumulation is
normalised, runs are deterministic, per-pair columns reach the loss, best checkpoint kept."""

import json
import math

import pytest
import torch

from preflab.errors import ConfigError
from preflab.config import parse, validate
from preflab.rm.config import TrainConfig
from preflab.rm.trainer import train_reward_model

from .conftest import make_pairs


def _params(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _base_params(path):
    from preflab.rm.backbone import load_backbone

    torch.manual_seed(0)
    return _params(load_backbone(path).model)


@pytest.mark.parametrize("which", ["tiny_encoder", "tiny_decoder"])
def test_training_changes_parameters_and_loss_is_finite(which, request, pairs, tmp_path):
    path = request.getfixturevalue(which)
    before = _base_params(path)
    cfg = TrainConfig(model=path, max_length=64, batch_size=4, lr=1e-3, epochs=1, progress=False, log_every=1)
    res = train_reward_model(pairs, cfg, metrics_path=tmp_path / "m.jsonl")
    after = _params(res.backbone.model)
    changed = [k for k in before if k in after and not torch.equal(before[k], after[k])]
    assert len(changed) > len(before) // 2
    rows = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert rows and all(math.isfinite(r["loss"]) for r in rows)
    assert {"accuracy", "margin", "mean_reward"} <= set(rows[0])


def test_learns_the_signal_and_keeps_best(tiny_encoder):
    train, val = make_pairs(32, seed=1), make_pairs(16, seed=2)
    cfg = TrainConfig(model=tiny_encoder, max_length=64, batch_size=8, lr=3e-3, epochs=3, progress=False)
    res = train_reward_model(train, cfg, val_pairs=val)
    assert res.best_val_accuracy >= 0.8
    assert res.best_val_accuracy == max(h["accuracy"] for h in res.history)
    assert len(res.history) == 3  # one evaluation per epoch


def _one_step(path, pairs, **kw):
    cfg = TrainConfig(model=path, max_length=64, lr=1e-2, warmup_ratio=0.0, scheduler="constant", max_steps=1,
                      progress=False, max_grad_norm=0.0, **kw)
    return _params(train_reward_model(pairs, cfg).backbone.model)


def _step_grads(path, pairs, batch_size, grad_accum):
    """Gradients of one optimizer step, built exactly as the trainer builds them."""
    from preflab.rm.losses import loss_columns
    from preflab.rm.trainer import _Step, _batch_keys, _plan, _prepare_model, _seed_everything, encode_pairs
    from preflab.rm.render import Renderer

    cfg = TrainConfig(model=path, max_length=64, batch_size=batch_size, grad_accum=grad_accum, max_steps=1)
    validate(cfg)
    _seed_everything(0)
    bb, _, _ = _prepare_model(cfg)
    items = encode_pairs(Renderer(bb.tokenizer, 64), pairs)
    cols = loss_columns(pairs, cfg)
    (micro,) = _plan(_batch_keys(items, bb, cfg), cfg, 1, 0)
    denom = float(sum(cols.weight[i].sum() for i in micro))
    n = sum(len(b) for b in micro)
    for idx in micro:
        _Step(bb, cfg, cols)([items[i] for i in idx], idx, denom, 2 * n, n)
    return {k: p.grad.clone() for k, p in bb.model.named_parameters() if p.grad is not None}, len(micro)


def test_grad_accumulation_matches_one_big_batch(tiny_decoder):
    pairs = [p.model_copy(update={"weight": w}) for p, w in zip(make_pairs(4), [1.0, 2.0, 0.5, 1.0])]
    big, n_big = _step_grads(tiny_decoder, pairs, 4, 1)
    acc, n_acc = _step_grads(tiny_decoder, pairs, 2, 2)
    assert (n_big, n_acc) == (1, 2)
    for k in big:
        assert torch.allclose(big[k], acc[k], rtol=1e-4, atol=1e-7), k


def test_deterministic_with_seed(tiny_encoder, pairs):
    a = _one_step(tiny_encoder, pairs, batch_size=4, seed=3)
    b = _one_step(tiny_encoder, pairs, batch_size=4, seed=3)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_per_pair_weight_zero_means_no_update(tiny_encoder):
    pairs = [p.model_copy(update={"weight": 0.0}) for p in make_pairs(4)]
    before = _base_params(tiny_encoder)
    after = _one_step(tiny_encoder, pairs, batch_size=4)
    # AdamW with zero gradients and no weight decay leaves the weights where they were
    assert all(torch.allclose(before[k], after[k]) for k in before if k in after and "classifier" not in k)


def test_margin_and_smoothing_columns_change_the_update(tiny_encoder):
    pairs = make_pairs(4)
    plain = _one_step(tiny_encoder, pairs, batch_size=4)
    with_margin = _one_step(tiny_encoder, [p.model_copy(update={"margin": 3.0}) for p in pairs], batch_size=4)
    smoothed = _one_step(tiny_encoder, pairs, batch_size=4, label_smoothing=0.3)
    key = "bert.encoder.layer.0.attention.self.query.weight"
    assert not torch.allclose(plain[key], with_margin[key])
    assert not torch.allclose(plain[key], smoothed[key])


@pytest.mark.parametrize("mode", ["pair", "difference"])
def test_contrastive_and_centering_train(tiny_decoder, mode):
    cfg = TrainConfig(model=tiny_decoder, max_length=64, batch_size=4, lr=1e-3, max_steps=2, progress=False,
                      contrastive=mode, contrastive_weight=0.5, center_rewards=0.01)
    res = train_reward_model(make_pairs(8), cfg)
    assert all(torch.isfinite(p).all() for p in res.backbone.model.parameters())


def test_config_validation_reports_all_errors():
    with pytest.raises(ConfigError) as err:
        validate(TrainConfig(precision="fp8", batch_size=0, label_smoothing=0.9))
    msg = str(err.value)
    assert "precision" in msg and "batch_size" in msg and "label_smoothing" in msg


def test_config_precedence_defaults_file_flags(tmp_path):
    file = tmp_path / "rm.yaml"
    file.write_text("lr: 0.001\nbatch-size: 4\n")
    cfg = parse({"batch_size": 2, "seed": None}, TrainConfig, config_file=file)[TrainConfig]
    assert (cfg.lr, cfg.batch_size, cfg.seed) == (1e-3, 2, 0)
    with pytest.raises(ConfigError, match="unknown option"):
        parse({"learning_rate": 1.0}, TrainConfig)
    with pytest.raises(ConfigError, match="batch_size must be at least 1"):
        parse({"batch_size": 0}, TrainConfig)
