"""Reward models: load, train, save, score (see each module's docstring).

Public API (heavy imports happen on first use):

- :func:`train_scorer` (→ :class:`TrainedScorer`) with a :class:`RecipeConfig`: the one way to
  train a reward model for a recipe (``finetune`` or ``embed-head``); :func:`recipe_problems`
- :class:`TrainConfig`, :func:`train_reward_model` (→ :class:`TrainResult`)
- :class:`Scorer` protocol, :func:`score_pairs`, :class:`RewardModelScorer`, :func:`load_scorer`
- :func:`load_reward_model`, :func:`save_reward_model`, :class:`HeadReinitialisedError`
- :class:`EmbedHeadConfig`, :func:`train_embed_head`, :class:`EmbedHeadScorer` (cheap recipe)
- :mod:`preflab.rm.losses` (pure loss functions) and :mod:`preflab.rm.length_debias` (the
  ``length_debias`` treatments they read)
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "RecipeConfig": "preflab.rm.config",
    "recipe_problems": "preflab.rm.config",
    "train_scorer": "preflab.rm.recipes",
    "TrainedScorer": "preflab.rm.recipes",
    "TrainConfig": "preflab.rm.config",
    "train_reward_model": "preflab.rm.trainer",
    "TrainResult": "preflab.rm.trainer",
    "Scorer": "preflab.rm.scorer",
    "score_pairs": "preflab.rm.scorer",
    "RewardModelScorer": "preflab.rm.scorer",
    "load_scorer": "preflab.rm.loading",
    "load_reward_model": "preflab.rm.save",
    "save_reward_model": "preflab.rm.save",
    "HeadReinitialisedError": "preflab.errors",
    "EmbedHeadConfig": "preflab.rm.config",
    "EmbedHeadScorer": "preflab.rm.embed_head",
    "train_embed_head": "preflab.rm.embed_head",
    "load_backbone": "preflab.rm.backbone",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'preflab.rm' has no attribute {name!r}")
