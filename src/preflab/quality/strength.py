"""The options of a preference-strength run (``preflab strength``) and the reward-model recipe
each ensemble member is trained with.

Preference strength (Wang et al., "Secrets of RLHF in Large Language Models Part II: Reward
Modeling", arXiv 2401.06080; docs/methods.md#preference-strength): train M reward models, and for every pair i and model m take
d_{i,m} = r_m(x, y_c) − r_m(x, y_r); then μᵢ = mean_m d_{i,m} and σᵢ = population std_m d_{i,m}.
μ < 0: the ensemble disagrees with the label (likely wrong); |μ| ≈ 0: ambiguous.

Ensemble modes (``mode``):

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
``embed-head`` (the cheap frozen-encoder recipe), and the trunk for ``heads``; the heads
themselves are embed-head models (:func:`member_recipe`). The run that trains the members and
scores the pairs is :mod:`preflab.pipelines.strength`; the arithmetic on the differences
(μ, σ, calibration scales) is :mod:`preflab.quality.strength_stats`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from preflab.config import option
from preflab.errors import Problem, about
from preflab.rm.config import RecipeConfig, recipe_problems


@dataclass(frozen=True)
class StrengthConfig:
    """Options of ``preflab strength`` (field help is the CLI help)."""

    mode: Literal["seeds", "bootstrap", "heads"] = option("seeds", "Ensemble: seeds (paper), bootstrap (out-of-bag scoring), heads (one shared trunk, M small heads on its features).")
    members: int = option(10, "Ensemble size M (the paper uses 10).")
    recipe: Literal["finetune", "embed-head"] = option("finetune", "Member model for seeds/bootstrap, trunk for heads: finetune (full RM) or embed-head (frozen encoder).")
    model: str = option("minilm", "Backbone alias (minilm, smollm2) or a local model folder.", reads=True)
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


def _recipe_dict(cfg: StrengthConfig, recipe: str) -> dict[str, Any]:
    common = {"recipe": recipe, "model": cfg.model, "max_length": cfg.max_length, "seed": cfg.seed}
    if recipe == "embed-head":
        return {**common, "epochs": cfg.head_epochs}
    return {**common, "epochs": cfg.epochs, "batch_size": cfg.batch_size, "lr": cfg.lr, "precision": cfg.precision,
            "progress": False}


def member_recipe(cfg: StrengthConfig, recipe: str | None = None) -> RecipeConfig:
    """The reward-model recipe of a seeds/bootstrap member and of the heads trunk
    (``cfg.recipe``), or of the heads themselves (``recipe="embed-head"``): the strength
    options a member needs, and members never draw a bar of their own.

    >>> cfg = StrengthConfig(mode="heads", head_epochs=50)
    >>> member_recipe(cfg).recipe, member_recipe(cfg).options.progress
    ('finetune', False)
    >>> member_recipe(cfg, "embed-head").options.epochs
    50
    """
    return RecipeConfig.from_dict(_recipe_dict(cfg, recipe or cfg.recipe))
