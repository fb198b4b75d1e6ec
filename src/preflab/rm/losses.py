"""Reward-model losses as small pure functions (docs/methods.md#losses). Each returns PER-PAIR (or
per-item) values or a batch scalar, never averaged over a hidden denominator, so the trainer
can normalise gradient accumulation over the whole optimizer step.

Notation: Δ = r(x, y⁺) − r(x, y⁻).

- Bradley–Terry:           ℓ = −log σ(Δ)
- per-pair margin m:       ℓ = −log σ(Δ − m)                       (Secrets of RLHF II, adaptive margin)
- label smoothing α:       ℓ = −[(1−α) log σ(z) + α log σ(−z)],  z = Δ − m
- per-pair weight w:       ℓ_w = w · ℓ
- reward centering (c):    c · mean(r²)                             (Eisenstein et al. 2023; TRL's
                                                                     ``center_rewards_coefficient``)
- SimCSE contrastive (τ):  InfoNCE between two dropout views, in-batch negatives

>>> import torch
>>> round(float(pairwise_losses(torch.tensor([0.0]))[0]), 4)  # log 2
0.6931
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from preflab.errors import InputError


def pairwise_losses(
    delta: torch.Tensor,
    margin: torch.Tensor | float | None = None,
    smoothing: torch.Tensor | float | None = None,
    weight: torch.Tensor | float | None = None,
) -> torch.Tensor:
    """Per-pair loss −[(1−α) log σ(Δ−m) + α log σ(−(Δ−m))] · w.

    ``margin``, ``smoothing`` and ``weight`` are scalars or per-pair tensors (``None`` = 0,
    0, 1). Why α on both sides: it is the cross-entropy against a soft label (1−α, α), which
    keeps gradients bounded on pairs that are probably mislabelled.
    """
    z = delta if margin is None else delta - margin
    loss = -F.logsigmoid(z)
    if smoothing is not None:
        alpha = torch.as_tensor(smoothing, dtype=delta.dtype, device=delta.device)
        loss = (1 - alpha) * loss + alpha * -F.logsigmoid(-z)
    if weight is not None:
        loss = loss * torch.as_tensor(weight, dtype=delta.dtype, device=delta.device)
    return loss


def centering_penalty(rewards: torch.Tensor, coefficient: float) -> torch.Tensor:
    """Σ c · r² over the given rewards (divide by the step's reward count for the mean):
    pulls rewards towards zero so their scale stays comparable between runs."""
    return coefficient * (rewards.float() ** 2).sum()


def simcse_loss(view1: torch.Tensor, view2: torch.Tensor, temperature: float = 0.05) -> torch.Tensor:
    """SimCSE InfoNCE, mean over items: item i of view 1 must find item i of view 2 among all
    items of view 2 (in-batch negatives) by cosine similarity / τ.

    Why: two dropout passes of the same input should agree more than different inputs do;
    Secrets of RLHF II uses it to make RM representations separate pairs better.
    """
    a = F.normalize(view1.float(), dim=-1)
    b = F.normalize(view2.float(), dim=-1)
    logits = a @ b.T / temperature
    labels = torch.arange(a.shape[0], device=a.device)
    return F.cross_entropy(logits, labels)


def contrastive_items(h_chosen: torch.Tensor, h_rejected: torch.Tensor, mode: str) -> torch.Tensor:
    """The items SimCSE contrasts. ``pair``: every response representation {h_c, h_r};
    ``difference``: {h_c − h_r, h_r − h_c} (each pair's preference direction, with its
    reverse as a hard negative)."""
    if mode == "pair":
        return torch.cat([h_chosen, h_rejected], dim=0)
    if mode == "difference":
        d = h_chosen - h_rejected
        return torch.cat([d, -d], dim=0)
    raise ValueError(f"contrastive mode must be 'pair' or 'difference', got {mode!r}")


def pair_metrics(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> dict[str, float]:
    """TRL's metric names: accuracy (ties count half), margin (mean Δ), mean_reward."""
    delta = (r_chosen - r_rejected).float()
    acc = ((delta > 0).float() + 0.5 * (delta == 0).float()).mean()
    return {
        "accuracy": float(acc),
        "margin": float(delta.mean()),
        "mean_reward": float(torch.cat([r_chosen, r_rejected]).float().mean()),
    }


@dataclass
class LossColumns:
    """Per-pair loss columns as tensors (``None``: the option is off for every pair)."""

    margin: torch.Tensor | None
    smoothing: torch.Tensor | None
    weight: torch.Tensor


def loss_columns(pairs: Sequence[Any], cfg: Any) -> LossColumns:
    """The margin, smoothing and weight of every pair under the loss options ``cfg`` shares
    between the recipes (``use_margin``, ``clip_negative_margin``, ``label_smoothing``,
    ``use_weights``, ``length_debias``): one reading of the pair columns for the trainer and
    the embedding head. A pair's own smoothing overrides the global ``label_smoothing``; the
    ``poe`` length expert's offset is added to the (clipped) margin."""
    margins = None
    if cfg.use_margin and any(p.margin is not None for p in pairs):
        margins = torch.tensor([p.margin or 0.0 for p in pairs])
        if cfg.clip_negative_margin:
            margins = margins.clamp(min=0)
    smoothing = None
    if cfg.label_smoothing or any(p.smoothing is not None for p in pairs):
        smoothing = torch.tensor([cfg.label_smoothing if p.smoothing is None else p.smoothing for p in pairs])
    weights = torch.tensor([(p.weight if p.weight is not None else 1.0) if cfg.use_weights else 1.0 for p in pairs])
    if (weights < 0).any():
        raise InputError("pair weights must be >= 0", field="weight")
    debias = getattr(cfg, "length_debias", "none")
    if debias == "poe":  # the length expert's logit, never clipped (preflab.rm.length_debias)
        from preflab.rm.length_debias import length_expert_offsets

        offsets = torch.tensor(length_expert_offsets(pairs)[0], dtype=torch.float32)
        margins = offsets if margins is None else margins + offsets
    elif debias == "balance":
        from preflab.rm.length_debias import balance_factors

        weights = weights * torch.tensor(balance_factors(pairs), dtype=weights.dtype)
    return LossColumns(margins, smoothing, weights)
