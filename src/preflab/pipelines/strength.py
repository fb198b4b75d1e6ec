"""Preference strength of every pair from an ensemble of reward models: train the M members
of the configured mode (:class:`preflab.quality.strength.StrengthConfig`, where the modes are
described), score every pair with each, and put μ and σ on the pairs.

Every model is trained by :func:`preflab.rm.recipes.train_scorer` with the recipe of
:func:`preflab.quality.strength.member_recipe`. Members are independent: with a Ray executor
(:mod:`preflab.executor`) each one is a task of its own, and the matrix is the one a local run
gives.

Calibration (``calibrate``, on by default; why: :mod:`preflab.quality.strength_stats`). Two
modes are not on one RM's scale and are calibrated here:

- ``heads`` on a fine-tuned trunk: a small head fitted for ``head_epochs`` full-batch steps on
  features that were already trained on the labels separates nearly every training pair, and
  at about 20× the trunk's reward scale (PandaLM: mean μ 9.3 against 0.40, 1.1% of μ < 0
  against 10% for ``seeds``). The trunk *is* one ``seeds`` member, so it is the reference: each
  head stops as soon as its training loss (no dropout) is down to the trunk RM's own loss on
  the same pairs, the fit of one fine-tuned member, and its differences are then multiplied by
  RMS(trunk Δ) / RMS(head Δ) (:func:`preflab.quality.strength_stats.rms_scale`). A positive
  factor per head keeps its signs and ranking and puts its differences on the trunk's reward
  scale. With a frozen trunk (``recipe=embed-head``) every head already is an RM of the
  embed-head recipe: nothing to do.
- ``bootstrap``: members trained on resamples (duplicates in the data) are rescaled to one RM
  of the recipe trained on all pairs (seed ``seed``, one extra model), each factor fitted on
  the member's in-bag pairs, where both models trained; out-of-bag differences keep their
  honest shrinkage.

Where the calibration ran, ``run.json`` records the scale factors (and the heads' epochs).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np

from preflab.config import validate
from preflab.quality.strength import StrengthConfig, member_recipe
from preflab.quality.strength_stats import mu_summary, rms_scale, with_strength
from preflab.records import PreferencePair

log = logging.getLogger(__name__)


@dataclass
class StrengthResult:
    pairs: list[PreferencePair]
    diffs: np.ndarray  # (n_pairs, members); NaN where a bootstrap member did not score the pair
    info: dict[str, Any]


Trainer = Callable[[Sequence[PreferencePair], int], Any]  # (pairs, seed) -> Scorer


def _member_trainer(cfg: StrengthConfig) -> Trainer:
    """A function (training pairs, seed) → scorer for the chosen recipe (seeds, bootstrap)."""
    from preflab.rm.recipes import train_scorer

    recipe = member_recipe(cfg)
    return lambda pairs, seed: train_scorer(pairs, recipe, seed).scorer


@dataclass
class Trunk:
    """The heads' shared features of every pair's chosen (``fc``) and rejected (``fr``)
    response, and the trunk RM's own reward differences when it is one (``finetune``)."""

    fc: Any
    fr: Any
    delta: np.ndarray | None = None


Features = Callable[[Sequence[PreferencePair]], Trunk]


def trunk_features(cfg: StrengthConfig) -> Features:
    """A function pairs → :class:`Trunk`: the representations of one reward model fine-tuned
    on the pairs (``recipe=finetune``, seed ``cfg.seed``) with its reward differences, or the
    frozen encoder's features (``recipe=embed-head``)."""
    def finetuned(pairs: Sequence[PreferencePair]) -> Trunk:
        from preflab.rm.recipes import train_scorer

        return trunk_of(train_scorer(pairs, member_recipe(cfg), cfg.seed).scorer, pairs)

    def frozen(pairs: Sequence[PreferencePair]) -> Trunk:
        from preflab.rm.embed_head import EmbeddingCache, features

        feats = features(EmbeddingCache.for_config(member_recipe(cfg).options),
                         [(p.prompt, r) for p in pairs for r in (p.chosen, p.rejected)])
        return Trunk(feats[0::2], feats[1::2])

    return finetuned if cfg.recipe == "finetune" else frozen


def trunk_of(scorer: Any, pairs: Sequence[PreferencePair]) -> Trunk:
    """The :class:`Trunk` of a fine-tuned reward-model scorer: its pooled representations and
    its own reward differences on the pairs."""
    reps = scorer.represent_many([(p.prompt, r) for p in pairs for r in (p.chosen, p.rejected)])
    return Trunk(reps[0::2], reps[1::2], _differences(scorer, pairs))


def _head_column(fc: Any, fr: Any, pairs: Sequence[PreferencePair], head: Any,
                 stop: float | None) -> tuple[np.ndarray, int, float]:
    """One head member: its reward differences, the epochs it ran and its seconds."""
    import torch

    from preflab.rm.embed_head import fit_head

    started = time.perf_counter()
    model, ran = fit_head(fc, fr, pairs, head, stop_at_loss=stop)
    with torch.inference_mode():
        column = (model(fc) - model(fr)).squeeze(-1).double().numpy()
    return column, ran, time.perf_counter() - started


def _member_column(trainer: Trainer, pairs: Sequence[PreferencePair], sample: np.ndarray | None,
                   seed: int) -> tuple[np.ndarray, float]:
    """One seeds/bootstrap member: trained on ``pairs`` (or the resample ``sample`` of them),
    its reward differences on every pair, and its seconds."""
    started = time.perf_counter()
    scorer = trainer(pairs if sample is None else [pairs[i] for i in sample], seed)
    return _differences(scorer, pairs), time.perf_counter() - started


def _heads_differences(pairs: Sequence[PreferencePair], cfg: StrengthConfig, features: Features,
                       progress: Callable[[int, int], None] | None,
                       executor: Any = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Trunk once, then M heads (seeds ``seed + m``) on its fixed features. Calibrated (with a
    fine-tuned trunk): every head stops once its training loss is down to the trunk RM's own
    loss on the pairs, and its differences are rescaled to the trunk's (:func:`rms_scale`)."""
    import torch

    from preflab.executor import map_tasks
    from preflab.rm.losses import loss_columns, pairwise_losses

    started = time.perf_counter()
    trunk = features(pairs)
    trunk_seconds = time.perf_counter() - started
    log.info("strength trunk (%s) ready in %.1f s", cfg.recipe, trunk_seconds)
    head = member_recipe(cfg, "embed-head").options
    calibrate = cfg.calibrate and trunk.delta is not None
    stop = None
    if calibrate:
        cols = loss_columns(pairs, head)
        stop = float(pairwise_losses(torch.as_tensor(trunk.delta, dtype=torch.float32), cols.margin, cols.smoothing,
                                     cols.weight).sum() / cols.weight.sum())
    columns = map_tasks(_head_column, [(trunk.fc, trunk.fr, pairs, replace(head, seed=cfg.seed + m), stop)
                                       for m in range(cfg.members)], executor, progress)
    diffs = np.stack([c for c, _, _ in columns], axis=1)
    epochs, seconds = [e for _, e, _ in columns], [t for _, _, t in columns]
    info = {"trunk_seconds": trunk_seconds, "member_seconds": seconds, "total_seconds": trunk_seconds + sum(seconds),
            "out_of_bag_pairs": 0, "scored_by": [cfg.members] * len(pairs), "head_epochs": epochs}
    if calibrate:
        diffs, factors = rms_scale(diffs, trunk.delta)
        info.update(calibration={"reference": "trunk", "trunk_loss": stop, "scale_factors": factors.tolist()})
    return diffs, info


def _differences(scorer: Any, pairs: Sequence[PreferencePair]) -> np.ndarray:
    from preflab.rm.scorer import score_pairs

    return np.array([c - r for c, r in score_pairs(scorer, pairs)], dtype=float)


def ensemble_differences(pairs: Sequence[PreferencePair], cfg: StrengthConfig, trainer: Trainer | None = None,
                         progress: Callable[[int, int], None] | None = None,
                         features: Features | None = None, executor: Any = None) -> tuple[np.ndarray, dict[str, Any]]:
    """The (n_pairs × M) matrix of reward differences, NaN where a member did not score a pair.
    ``trainer`` (seeds, bootstrap) and ``features`` (heads) replace the real models in tests."""
    validate(cfg)
    if cfg.mode == "heads":
        return _heads_differences(pairs, cfg, features or trunk_features(cfg), progress, executor)
    from preflab.executor import map_tasks

    trainer = trainer or _member_trainer(cfg)
    n = len(pairs)
    in_bag = np.zeros((n, cfg.members), dtype=bool)
    rng = np.random.default_rng(cfg.seed)
    samples = [rng.integers(0, n, size=n) if cfg.mode == "bootstrap" else None for _ in range(cfg.members)]
    for m, sample in enumerate(samples):
        in_bag[slice(None) if sample is None else sample, m] = True
    columns = map_tasks(_member_column, [(trainer, pairs, sample, cfg.seed + m) for m, sample in enumerate(samples)],
                        executor, progress)
    diffs = np.stack([c for c, _ in columns], axis=1) if columns else np.full((n, 0), np.nan)
    seconds = [t for _, t in columns]
    log.info("strength: %d members trained and scored in %.1f s of member time", cfg.members, sum(seconds))
    info: dict[str, Any] = {}
    if cfg.mode == "bootstrap" and cfg.calibrate:
        diffs, info = _to_reference_scale(pairs, diffs, in_bag, cfg, trainer)
    scored_by = np.ones((n, cfg.members), dtype=bool)
    oob_pairs = 0
    if cfg.mode == "bootstrap":
        oob = ~in_bag
        enough = oob.sum(axis=1) >= cfg.min_oob
        scored_by = np.where(enough[:, None], oob, True)
        oob_pairs = int(enough.sum())
        diffs = np.where(scored_by, diffs, np.nan)
    info.update({"member_seconds": seconds, "total_seconds": float(sum(seconds)) + info.get("reference_seconds", 0.0),
                 "out_of_bag_pairs": oob_pairs, "scored_by": scored_by.sum(axis=1).tolist()})
    return diffs, info


def _to_reference_scale(pairs: Sequence[PreferencePair], diffs: np.ndarray, in_bag: np.ndarray, cfg: StrengthConfig,
                        trainer: Trainer) -> tuple[np.ndarray, dict[str, Any]]:
    """Bootstrap members on the scale of one RM of the recipe trained on all pairs (seed
    ``cfg.seed``): each member's factor is fitted on its in-bag pairs, where it and the
    reference both trained, so out-of-bag differences keep their honest shrinkage."""
    started = time.perf_counter()
    reference = _differences(trainer(pairs, cfg.seed), pairs)
    scaled, factors = rms_scale(diffs, reference, fit=in_bag)
    return scaled, {"reference_seconds": time.perf_counter() - started,
                    "calibration": {"reference": f"one RM of the recipe on all pairs, seed {cfg.seed}",
                                    "scale_factors": factors.tolist()}}


def compute_strength(pairs: Sequence[PreferencePair], cfg: StrengthConfig, trainer: Trainer | None = None,
                     progress: Callable[[int, int], None] | None = None, features: Features | None = None,
                     executor: Any = None) -> StrengthResult:
    """Train the ensemble, score every pair and return the pairs with μ and σ, the difference
    matrix and the run's counts (seconds, out-of-bag pairs, calibration, μ summary)."""
    pairs = list(pairs)
    diffs, info = ensemble_differences(pairs, cfg, trainer, progress, features, executor)
    scored = with_strength(pairs, diffs, cfg)
    info.update(mu_summary(scored))
    return StrengthResult(scored, diffs, info)
