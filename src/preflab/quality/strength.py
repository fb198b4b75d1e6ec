"""Preference strength from an ensemble of reward models.

Wang et al., "Secrets of RLHF in Large Language Models Part II: Reward Modeling",
arXiv 2401.06080; SPEC §3. Train M reward models, and for every pair i and model m take
d_{i,m} = r_m(x, y_c) − r_m(x, y_r); then μᵢ = mean_m d_{i,m} and σᵢ = population std_m d_{i,m}.
μ < 0: the ensemble disagrees with the label (likely wrong); |μ| ≈ 0: ambiguous.

Ensemble modes:

- ``seeds`` (the paper): M models on the same data, different seed (init, order, dropout).
- ``bootstrap``: M models on resamples with replacement; a pair is scored only by the models
  that did not see it (out-of-bag) when at least ``min_oob`` such models exist, so its
  strength is not an in-sample score; otherwise by all models (recorded per pair).
- ``heads``: one shared backbone (the *trunk*), M small heads trained on its representations
  with different seeds. Ours, not the paper's. With ``recipe=finetune`` the trunk is one
  fine-tuned reward model (the cost of a single ``seeds`` member), so the heads read features
  that were trained on the labels, as the paper's members are; with ``recipe=embed-head`` the
  trunk is the frozen pretrained encoder. Measured against ``seeds`` in
  ``benchmarks/strength_pandalm.py``.

``recipe`` picks the member model for seeds/bootstrap: ``finetune`` (a full reward model,
:func:`preflab.rm.train_reward_model`) or ``embed-head`` (the cheap frozen-encoder recipe),
and the trunk for ``heads``.

Example: three models give d = [1.2, 0.4, −0.1] for a pair → μ = 0.5, σ = 0.535.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Literal, Sequence

import numpy as np

from preflab.config import option
from preflab.errors import ConfigError
from preflab.records import PreferencePair

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StrengthConfig:
    """Options of ``preflab strength`` (field help is the CLI help)."""

    mode: Literal["seeds", "bootstrap", "heads"] = option("seeds", "Ensemble: seeds (paper), bootstrap (out-of-bag scoring), heads (one shared trunk, M small heads on its features).")
    members: int = option(10, "Ensemble size M (the paper uses 10).")
    recipe: Literal["finetune", "embed-head"] = option("finetune", "Member model for seeds/bootstrap, trunk for heads: finetune (full RM) or embed-head (frozen encoder).")
    model: str = option("minilm", "Backbone alias (minilm, smollm2) or a local model folder.")
    seed: int = option(0, "Base seed; member m uses seed + m.")
    max_length: int = option(256, "Tokens per prompt+response.")
    epochs: float = option(1.0, "Training epochs of a fine-tuned member.")
    batch_size: int = option(8, "Pairs per batch of a fine-tuned member.")
    lr: float = option(5e-5, "Learning rate of a fine-tuned member.")
    precision: str = option("fp32", "fp32 or bf16 for fine-tuned members.")
    head_epochs: int = option(200, "Full-batch epochs of a small head (embed-head members, heads mode).")
    min_oob: int = option(2, "Bootstrap: fewest out-of-bag models a pair needs to be scored out-of-bag.")

    def check(self) -> None:
        problems = []
        if self.members < 2:
            problems.append("members must be at least 2 (strength needs a spread)")
        if self.mode not in ("seeds", "bootstrap", "heads"):
            problems.append(f"unknown mode {self.mode!r}")
        if self.recipe not in ("finetune", "embed-head"):
            problems.append(f"unknown recipe {self.recipe!r}")
        if self.min_oob < 1:
            problems.append("min_oob must be at least 1")
        if problems:
            raise ConfigError("; ".join(problems))


@dataclass
class StrengthResult:
    pairs: list[PreferencePair]
    diffs: np.ndarray  # (n_pairs, members); NaN where a bootstrap member did not score the pair
    info: dict[str, Any]


Trainer = Callable[[Sequence[PreferencePair], int], Any]  # (pairs, seed) -> Scorer


def _head_config(cfg: StrengthConfig, seed: int):
    from preflab.rm.embed_head import EmbedHeadConfig

    return EmbedHeadConfig(model=cfg.model, max_length=cfg.max_length, epochs=cfg.head_epochs, seed=seed)


def _train_full(cfg: StrengthConfig, pairs: Sequence[PreferencePair], seed: int):
    from preflab.rm import RewardModelScorer, TrainConfig, train_reward_model

    tc = TrainConfig(model=cfg.model, max_length=cfg.max_length, epochs=cfg.epochs, batch_size=cfg.batch_size,
                     lr=cfg.lr, precision=cfg.precision, seed=seed, progress=False)
    result = train_reward_model(pairs, tc)
    return RewardModelScorer(result.backbone, result.renderer)


def _member_trainer(cfg: StrengthConfig) -> Trainer:
    """A function (training pairs, seed) → scorer for the chosen recipe (seeds, bootstrap)."""
    if cfg.recipe == "embed-head":
        from preflab.rm.embed_head import EmbeddingCache, train_embed_head

        head_cfg = _head_config(cfg, cfg.seed)
        cache = EmbeddingCache(head_cfg.model, head_cfg.max_length, head_cfg.cache_dir, head_cfg.batch_size)
        return lambda pairs, seed: train_embed_head(pairs, replace(head_cfg, seed=seed), cache=cache)
    return lambda pairs, seed: _train_full(cfg, pairs, seed)


Features = Callable[[Sequence[PreferencePair]], tuple[Any, Any]]  # pairs -> (chosen, rejected) feature tensors


def trunk_features(cfg: StrengthConfig) -> Features:
    """A function pairs → (chosen, rejected) features of the shared trunk: the representations
    of one reward model fine-tuned on the pairs (``recipe=finetune``, seed ``cfg.seed``) or of
    the frozen encoder (``recipe=embed-head``)."""
    def finetuned(pairs: Sequence[PreferencePair]):
        scorer = _train_full(cfg, pairs, cfg.seed)
        reps = scorer.represent_many([(p.prompt, r) for p in pairs for r in (p.chosen, p.rejected)])
        return reps[0::2], reps[1::2]

    def frozen(pairs: Sequence[PreferencePair]):
        from preflab.rm.embed_head import EmbeddingCache, features

        hc = _head_config(cfg, cfg.seed)
        feats = features(EmbeddingCache(hc.model, hc.max_length, hc.cache_dir, hc.batch_size),
                         [(p.prompt, r) for p in pairs for r in (p.chosen, p.rejected)])
        return feats[0::2], feats[1::2]

    return finetuned if cfg.recipe == "finetune" else frozen


def _heads_differences(pairs: Sequence[PreferencePair], cfg: StrengthConfig, features: Features,
                       progress: Callable[[int, int], None] | None) -> tuple[np.ndarray, dict[str, Any]]:
    """Trunk once, then M heads (seeds ``seed + m``) on its fixed features."""
    import torch

    from preflab.rm.embed_head import fit_head

    started = time.perf_counter()
    fc, fr = features(pairs)
    trunk_seconds = time.perf_counter() - started
    log.info("strength trunk (%s) ready in %.1f s", cfg.recipe, trunk_seconds)
    diffs = np.zeros((len(pairs), cfg.members))
    seconds = []
    for m in range(cfg.members):
        t = time.perf_counter()
        head = fit_head(fc, fr, pairs, _head_config(cfg, cfg.seed + m))
        with torch.inference_mode():
            diffs[:, m] = (head(fc) - head(fr)).squeeze(-1).double().numpy()
        seconds.append(time.perf_counter() - t)
        if progress:
            progress(m + 1, cfg.members)
    return diffs, {"trunk_seconds": trunk_seconds, "member_seconds": seconds, "total_seconds": trunk_seconds + sum(seconds),
                   "out_of_bag_pairs": 0, "scored_by": [cfg.members] * len(pairs)}


def _differences(scorer: Any, pairs: Sequence[PreferencePair]) -> np.ndarray:
    from preflab.rm.scorer import score_pairs

    return np.array([c - r for c, r in score_pairs(scorer, pairs)], dtype=float)


def ensemble_differences(pairs: Sequence[PreferencePair], cfg: StrengthConfig, trainer: Trainer | None = None,
                         progress: Callable[[int, int], None] | None = None,
                         features: Features | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """The (n_pairs × M) matrix of reward differences, NaN where a member did not score a pair.
    ``trainer`` (seeds, bootstrap) and ``features`` (heads) replace the real models in tests."""
    cfg.check()
    if cfg.mode == "heads":
        return _heads_differences(pairs, cfg, features or trunk_features(cfg), progress)
    trainer = trainer or _member_trainer(cfg)
    n = len(pairs)
    diffs = np.full((n, cfg.members), np.nan)
    in_bag = np.zeros((n, cfg.members), dtype=bool)
    rng = np.random.default_rng(cfg.seed)
    seconds = []
    for m in range(cfg.members):
        started = time.perf_counter()
        if cfg.mode == "bootstrap":
            sample = rng.integers(0, n, size=n)
            in_bag[sample, m] = True
            scorer = trainer([pairs[i] for i in sample], cfg.seed + m)
        else:
            in_bag[:, m] = True
            scorer = trainer(pairs, cfg.seed + m)
        diffs[:, m] = _differences(scorer, pairs)
        seconds.append(time.perf_counter() - started)
        log.info("strength member %d/%d trained and scored in %.1f s", m + 1, cfg.members, seconds[-1])
        if progress:
            progress(m + 1, cfg.members)
    scored_by = np.ones((n, cfg.members), dtype=bool)
    oob_pairs = 0
    if cfg.mode == "bootstrap":
        oob = ~in_bag
        enough = oob.sum(axis=1) >= cfg.min_oob
        scored_by = np.where(enough[:, None], oob, True)
        oob_pairs = int(enough.sum())
        diffs = np.where(scored_by, diffs, np.nan)
    info = {"member_seconds": seconds, "total_seconds": float(sum(seconds)), "out_of_bag_pairs": oob_pairs,
            "scored_by": scored_by.sum(axis=1).tolist()}
    return diffs, info


def with_strength(pairs: Sequence[PreferencePair], diffs: np.ndarray, cfg: StrengthConfig) -> list[PreferencePair]:
    """Pairs with μ, σ (population std) and the raw differences in provenance."""
    mu = np.nanmean(diffs, axis=1)
    sigma = np.nanstd(diffs, axis=1)  # ddof=0: the paper's population std
    out = []
    for pair, m, s, row in zip(pairs, mu, sigma, diffs):
        raw = [None if np.isnan(v) else float(v) for v in row]
        out.append(pair.model_copy(update={
            "strength_mean": float(m), "strength_std": float(s),
            "provenance": {**pair.provenance, "strength": {"mode": cfg.mode, "recipe": cfg.recipe,
                                                           "members": cfg.members, "diffs": raw}},
        }))
    return out


def compute_strength(pairs: Sequence[PreferencePair], cfg: StrengthConfig, trainer: Trainer | None = None,
                     progress: Callable[[int, int], None] | None = None, features: Features | None = None) -> StrengthResult:
    pairs = list(pairs)
    diffs, info = ensemble_differences(pairs, cfg, trainer, progress, features)
    scored = with_strength(pairs, diffs, cfg)
    mu = np.array([p.strength_mean for p in scored])
    info.update({"pairs": len(scored), "mu_below_zero": int((mu < 0).sum()),
                 "fraction_mu_below_zero": float((mu < 0).mean()) if len(mu) else 0.0,
                 "mu_mean": float(mu.mean()) if len(mu) else 0.0})
    return StrengthResult(scored, diffs, info)


def sigma_by_mu_bins(mu: np.ndarray, sigma: np.ndarray, bins: int = 20) -> list[dict[str, float]]:
    """Mean σ in ``bins`` equal-count bins of μ: the paper's U-shaped curve."""
    order = np.argsort(mu, kind="stable")
    rows = []
    for chunk in np.array_split(order, bins):
        if len(chunk):
            rows.append({"mu_mean": float(mu[chunk].mean()), "sigma_mean": float(sigma[chunk].mean()), "pairs": int(len(chunk))})
    return rows


def plot_strength(mu: np.ndarray, sigma: np.ndarray, out_dir, title: str = "") -> list[str]:
    """μ histogram and σ against μ in 20 bins, as PNG files in ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pathlib import Path

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=110)
    ax.hist(mu, bins=40, color="#4c72b0")
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("preference strength μ (mean reward difference)")
    ax.set_ylabel("pairs")
    ax.set_title(title or f"μ over {len(mu)} pairs ({(mu < 0).mean():.1%} below 0)", fontsize=9)
    fig.tight_layout()
    paths.append(str(out_dir / "strength_mu_hist.png"))
    fig.savefig(paths[-1])
    plt.close(fig)
    bins = sigma_by_mu_bins(mu, sigma)
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=110)
    ax.plot([b["mu_mean"] for b in bins], [b["sigma_mean"] for b in bins], "o-", color="#dd8452")
    ax.set_xlabel("μ (bin mean, 20 equal-count bins)")
    ax.set_ylabel("σ (bin mean)")
    ax.set_title("σ against μ", fontsize=9)
    fig.tight_layout()
    paths.append(str(out_dir / "strength_sigma_vs_mu.png"))
    fig.savefig(paths[-1])
    plt.close(fig)
    return paths
