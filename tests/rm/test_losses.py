"""Each loss against a value worked out by hand from its formula."""

import math

import pytest
import torch

from preflab.rm.losses import centering_penalty, contrastive_items, pair_metrics, pairwise_losses, simcse_loss


def test_bradley_terry_hand_values():
    # -log σ(0) = log 2; -log σ(2) = log(1 + e^-2); -log σ(-1) = log(1 + e)
    got = pairwise_losses(torch.tensor([0.0, 2.0, -1.0]))
    want = [math.log(2), math.log(1 + math.exp(-2)), math.log(1 + math.e)]
    assert got.tolist() == pytest.approx(want, abs=1e-6)


def test_margin_shifts_delta():
    # Δ = 1.5, m = 0.5 → -log σ(1) = log(1 + e^-1); per-pair margins
    got = pairwise_losses(torch.tensor([1.5, 1.0]), margin=torch.tensor([0.5, 1.0]))
    assert got.tolist() == pytest.approx([math.log(1 + math.exp(-1)), math.log(2)], abs=1e-6)


def test_label_smoothing_global_and_per_pair():
    # α = 0.1, Δ = 2: 0.9·log(1+e^-2) + 0.1·log(1+e^2)
    want = 0.9 * math.log(1 + math.exp(-2)) + 0.1 * math.log(1 + math.exp(2))
    assert float(pairwise_losses(torch.tensor([2.0]), smoothing=0.1)[0]) == pytest.approx(want, abs=1e-6)
    per = pairwise_losses(torch.tensor([2.0, 2.0]), smoothing=torch.tensor([0.1, 0.0]))
    assert per.tolist() == pytest.approx([want, math.log(1 + math.exp(-2))], abs=1e-6)
    # α = 0.5 makes the loss symmetric in Δ: log(1+e^-z)/2 + log(1+e^z)/2
    assert float(pairwise_losses(torch.tensor([3.0]), smoothing=0.5)[0]) == pytest.approx(
        float(pairwise_losses(torch.tensor([-3.0]), smoothing=0.5)[0]))


def test_weights_multiply():
    got = pairwise_losses(torch.tensor([0.0, 0.0]), weight=torch.tensor([2.0, 0.0]))
    assert got.tolist() == pytest.approx([2 * math.log(2), 0.0])


def test_centering_sums_squares():
    assert float(centering_penalty(torch.tensor([1.0, -2.0, 3.0]), 0.01)) == pytest.approx(0.14)


def test_simcse_hand_value():
    # two orthonormal items seen identically in both views, τ = 1:
    # logits [[1, 0], [0, 1]] → loss = -log(e / (e + 1)) = log(1 + e^-1)
    h = torch.eye(2)
    assert float(simcse_loss(h, h, temperature=1.0)) == pytest.approx(math.log(1 + math.exp(-1)), abs=1e-6)
    # views that disagree cost more
    assert float(simcse_loss(h, h.flip(0), temperature=1.0)) == pytest.approx(math.log(1 + math.e), abs=1e-6)


def test_contrastive_items_modes():
    hc, hr = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 2.0]])
    assert contrastive_items(hc, hr, "pair").tolist() == [[1.0, 0.0], [0.0, 2.0]]
    assert contrastive_items(hc, hr, "difference").tolist() == [[1.0, -2.0], [-1.0, 2.0]]
    with pytest.raises(ValueError):
        contrastive_items(hc, hr, "swav")


def test_pair_metrics_trl_names():
    m = pair_metrics(torch.tensor([1.0, 0.0, 2.0]), torch.tensor([0.0, 0.0, 3.0]))
    assert m["accuracy"] == pytest.approx(0.5)  # right, tie (half), wrong
    assert m["margin"] == pytest.approx(0.0)
    assert m["mean_reward"] == pytest.approx(1.0)
