"""Preference strength from an ensemble of reward models.

Wang et al., "Secrets of RLHF in Large Language Models Part II: Reward Modeling",
arXiv 2401.06080; docs/methods.md#preference-strength. Train M reward models, and for every pair i and model m take
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

``recipe`` picks the member model for seeds/bootstrap: ``finetune`` (a full reward model) or
``embed-head`` (the cheap frozen-encoder recipe), and the trunk for ``heads``; every model is
trained by :func:`preflab.rm.recipes.train_scorer`.

**One RM's scale (``calibrate``, on by default).** μ < 0 flips a label and a μ-margin becomes a
training margin, so μ must mean the same in every mode: a reward difference of one RM of the
recipe, fitted to the labels as much as one such RM fits them. ``seeds`` members are such RMs.
Two modes are not, and are calibrated:

- ``heads`` on a fine-tuned trunk: a small head fitted for ``head_epochs`` full-batch steps on
  features that were already trained on the labels separates nearly every training pair, and
  at about 20× the trunk's reward scale (PandaLM: mean μ 9.3 against 0.40, 1.1% of μ < 0
  against 10% for ``seeds``). The trunk *is* one ``seeds`` member, so it is the reference: each
  head stops as soon as its training loss (no dropout) is down to the trunk RM's own loss on
  the same pairs, the fit of one fine-tuned member, and its differences are then multiplied by
  RMS(trunk Δ) / RMS(head Δ) (:func:`rms_scale`). A positive factor per head keeps its signs
  and ranking and puts its differences on the trunk's reward scale. With a frozen trunk
  (``recipe=embed-head``) every head already is an RM of the embed-head recipe: nothing to do.
- ``bootstrap``: members trained on resamples (duplicates in the data) are rescaled to one RM
  of the recipe trained on all pairs (seed ``seed``, one extra model), each factor fitted on
  the member's in-bag pairs, where both models trained; out-of-bag differences keep their
  honest shrinkage.

Where the calibration ran, ``run.json`` records the scale factors (and the heads' epochs).

Example: three models give d = [1.2, 0.4, −0.1] for a pair → μ = 0.5, σ = 0.535.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Literal, Sequence

import numpy as np

from preflab.config import option, validate
from preflab.errors import ConfigError, Problem, about
from preflab.records import PreferencePair
from preflab.rm.config import RecipeConfig, recipe_problems

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
    calibrate: bool = option(True, "Put μ on one RM's reward scale: heads on a fine-tuned trunk stop at the trunk's training loss and are rescaled to its differences; bootstrap members are rescaled to an RM trained on all pairs.")

    def problems(self) -> list[Problem]:
        """This config's own rules (the fields' ranges are checked by :func:`preflab.config.validate`)."""
        problems = []
        if self.members < 2:
            problems.append(about("members", f"must be at least 2 (strength needs a spread), got {self.members}"))
        if self.min_oob < 1:
            problems.append(about("min_oob", f"must be at least 1, got {self.min_oob}"))
        if self.recipe in ("finetune", "embed-head"):  # the member (or trunk) recipe and the heads' own
            recipes = {self.recipe} | ({"embed-head"} if self.mode == "heads" else set())
            problems += [Problem(f"{r} recipe: {p.text}", p.names) for r in sorted(recipes)
                         for p in recipe_problems(_recipe_dict(self, r))]
        return problems


@dataclass
class StrengthResult:
    pairs: list[PreferencePair]
    diffs: np.ndarray  # (n_pairs, members); NaN where a bootstrap member did not score the pair
    info: dict[str, Any]


Trainer = Callable[[Sequence[PreferencePair], int], Any]  # (pairs, seed) -> Scorer


def _recipe_dict(cfg: StrengthConfig, recipe: str) -> dict[str, Any]:
    common = {"recipe": recipe, "model": cfg.model, "max_length": cfg.max_length, "seed": cfg.seed}
    if recipe == "embed-head":
        return {**common, "epochs": cfg.head_epochs}
    return {**common, "epochs": cfg.epochs, "batch_size": cfg.batch_size, "lr": cfg.lr, "precision": cfg.precision,
            "progress": False}


def member_recipe(cfg: StrengthConfig, recipe: str | None = None) -> RecipeConfig:
    """The reward-model recipe of a seeds/bootstrap member and of the heads trunk
    (``cfg.recipe``), or of the heads themselves (``recipe="embed-head"``)."""
    return RecipeConfig.from_dict(_recipe_dict(cfg, recipe or cfg.recipe))


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


def rms_scale(diffs: np.ndarray, reference: np.ndarray, fit: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each member's column multiplied by RMS(reference) / RMS(column), both over the pairs
    ``fit`` marks for that member (default: all): the members' differences get one reference
    RM's scale. A positive factor keeps every sign and every member's ranking; RMS rather than
    the standard deviation because 0 (no preference) is a fixed point of a reward difference.

    >>> scaled, factors = rms_scale(np.array([[2.0, 30.0], [-2.0, -30.0]]), np.array([1.0, -1.0]))
    >>> scaled.tolist(), factors.round(4).tolist()
    ([[1.0, 1.0], [-1.0, -1.0]], [0.5, 0.0333])
    """
    fit = np.ones(diffs.shape, dtype=bool) if fit is None else fit
    factors = np.ones(diffs.shape[1])
    for m in range(diffs.shape[1]):
        own = np.sqrt(np.mean(diffs[fit[:, m], m] ** 2))
        ref = np.sqrt(np.mean(reference[fit[:, m]] ** 2))
        factors[m] = ref / own if own > 0 else 1.0
    return diffs * factors, factors


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
    ``trainer`` (seeds, bootstrap) and ``features`` (heads) replace the real models in tests.
    Members are independent: with a Ray ``executor`` (:mod:`preflab.executor`) each one is a
    task of its own, and the matrix is the one a local run gives."""
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
                     progress: Callable[[int, int], None] | None = None, features: Features | None = None,
                     executor: Any = None) -> StrengthResult:
    pairs = list(pairs)
    diffs, info = ensemble_differences(pairs, cfg, trainer, progress, features, executor)
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
